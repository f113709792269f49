/*
 * Bad input that OpenSSL 3.0 survives: NULL handles where the oracle does not crash (every
 * other NULL handle crashes it, so they are left out here), SSL_CTX_ctrl with unknown command
 * numbers, negative sizes and timeouts, over-long ids and id contexts, NULL buffers with zero
 * lengths.
 */
#include "scenario.h"
#include <limits.h>

int main(void)
{
    SSL_CTX *ctx;
    SSL *ssl;
    SSL_SESSION *s, *e;
    long r;
    int i;
    unsigned char buf[64];

    memset(buf, 0x42, sizeof buf);

    printf("== NULL context\n");
    {
        SSL_CTX *n = SSL_CTX_new(NULL);
        printf("SSL_CTX_new(NULL) is NULL %d\n", n == NULL);
    }
    SSL_CTX_free(NULL);
    printf("SSL_CTX_free(NULL) ok\n");
    show_stats("stats of NULL", NULL);
    r = SSL_CTX_sess_set_cache_size(NULL, 5);
    printf("sess_set_cache_size(NULL, 5) = %ld\n", r);
    r = SSL_CTX_sess_get_cache_size(NULL);
    printf("sess_get_cache_size(NULL) = %ld\n", r);
    r = SSL_CTX_set_session_cache_mode(NULL, SSL_SESS_CACHE_BOTH);
    printf("set_session_cache_mode(NULL) = %ld\n", r);
    r = SSL_CTX_get_session_cache_mode(NULL);
    printf("get_session_cache_mode(NULL) = %ld\n", r);
    r = SSL_CTX_ctrl(NULL, 9999, 1, NULL);
    printf("SSL_CTX_ctrl(NULL, 9999) = %ld\n", r);
    r = SSL_CTX_ctrl(NULL, SSL_CTRL_SESS_NUMBER, 0, buf);
    printf("SSL_CTX_ctrl(NULL, SESS_NUMBER, parg) = %ld\n", r);
    r = SSL_CTX_set_timeout(NULL, 5);
    printf("SSL_CTX_set_timeout(NULL, 5) = %ld\n", r);
    r = SSL_CTX_get_timeout(NULL);
    printf("SSL_CTX_get_timeout(NULL) = %ld\n", r);

    printf("== NULL and empty sessions in remove\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    e = SSL_SESSION_new();
    r = SSL_CTX_remove_session(ctx, NULL);
    printf("remove(ctx, NULL) = %ld\n", r);
    r = SSL_CTX_remove_session(NULL, NULL);
    printf("remove(NULL, NULL) = %ld\n", r);
    r = SSL_CTX_remove_session(NULL, e);
    printf("remove(NULL, empty-id session) = %ld\n", r);
    r = SSL_CTX_remove_session(ctx, e);
    printf("remove(ctx, empty-id session) = %ld\n", r);
    SSL_SESSION_free(e);
    SSL_CTX_free(ctx);

    printf("== NULL SSL_CTX for SSL_new, NULL SSL\n");
    ssl = SSL_new(NULL);
    printf("SSL_new(NULL) is NULL %d\n", ssl == NULL);
    SSL_free(NULL);
    printf("SSL_free(NULL) ok\n");

    printf("== NULL session for the session time getters and setters\n");
    r = SSL_SESSION_get_time(NULL);
    printf("get_time(NULL) = %ld\n", r);
    r = SSL_SESSION_set_time(NULL, 5);
    printf("set_time(NULL, 5) = %ld\n", r);
    r = SSL_SESSION_get_timeout(NULL);
    printf("get_timeout(NULL) = %ld\n", r);
    r = SSL_SESSION_set_timeout(NULL, 5);
    printf("set_timeout(NULL, 5) = %ld\n", r);
    SSL_SESSION_free(NULL);
    printf("SSL_SESSION_free(NULL) ok\n");
    {
        const char *name = SSL_CIPHER_get_name(NULL);
        printf("SSL_CIPHER_get_name(NULL) = %s\n", name ? name : "(null pointer)");
    }

    printf("== NULL buffers with zero lengths\n");
    s = SSL_SESSION_new();
    {
        const unsigned char *p;
        size_t n;
        int rr;
        p = SSL_SESSION_get_id(s, NULL);
        printf("get_id(s, NULL) returned non-NULL %d\n", p != NULL);
        p = SSL_SESSION_get0_id_context(s, NULL);
        printf("get0_id_context(s, NULL) returned non-NULL %d\n", p != NULL);
        SSL_SESSION_set1_id(s, buf, 32);
        rr = SSL_SESSION_set1_id(s, NULL, 0);
        printf("set1_id(s, NULL, 0) = %d\n", rr);
        {
            unsigned int len = 99;
            SSL_SESSION_get_id(s, &len);
            printf("id length now %u\n", len);
        }
        SSL_SESSION_set1_id_context(s, buf, 10);
        rr = SSL_SESSION_set1_id_context(s, NULL, 0);
        printf("set1_id_context(s, NULL, 0) = %d\n", rr);
        {
            unsigned int len = 99;
            SSL_SESSION_get0_id_context(s, &len);
            printf("id context length now %u\n", len);
        }
        rr = SSL_SESSION_set1_master_key(s, NULL, 0);
        printf("set1_master_key(s, NULL, 0) = %d\n", rr);
        n = SSL_SESSION_get_master_key(s, NULL, 0);
        printf("get_master_key(s, NULL, 0) = %zu\n", n);
        n = SSL_SESSION_get_master_key(s, NULL, 10);
        printf("get_master_key(s, NULL, 10) with an empty key = %zu\n", n);
        SSL_SESSION_set1_master_key(s, buf, 48);
        n = SSL_SESSION_get_master_key(s, NULL, 0);
        printf("get_master_key(s, NULL, 0) with 48-byte key = %zu\n", n);
        rr = SSL_SESSION_set1_hostname(s, NULL);
        printf("set1_hostname(s, NULL) = %d\n", rr);
        rr = SSL_SESSION_set_cipher(s, NULL);
        printf("set_cipher(s, NULL) = %d\n", rr);
    }
    SSL_SESSION_free(s);

    printf("== NULL id contexts with zero lengths, SSL_set_session(ssl, NULL)\n");
    ctx = SSL_CTX_new(TLS_server_method());
    ssl = SSL_new(ctx);
    r = SSL_CTX_set_session_id_context(ctx, NULL, 0);
    printf("SSL_CTX_set_session_id_context(ctx, NULL, 0) = %ld\n", r);
    r = SSL_set_session_id_context(ssl, NULL, 0);
    printf("SSL_set_session_id_context(ssl, NULL, 0) = %ld\n", r);
    r = SSL_set_session(ssl, NULL);
    printf("SSL_set_session(ssl, NULL) = %ld\n", r);
    r = SSL_has_matching_session_id(ssl, NULL, 0);
    printf("has_matching(ssl, NULL, 0) = %ld\n", r);
    SSL_free(ssl);
    SSL_CTX_free(ctx);

    printf("== SSL_CTX_ctrl with unknown command numbers\n");
    {
        static const int cmds[] = { 0, 1, 2, 5, 7, 8, 18, 19, 32, 34, 39, 46, 47, 49, 84, 87,
                                    94, 96, 112, 119, 135, 139, 200, 1000, 9999, -1, -20,
                                    INT_MIN, INT_MAX };
        ctx = SSL_CTX_new(TLS_server_method());
        for (i = 0; i < (int)(sizeof cmds / sizeof cmds[0]); i++) {
            long r1 = SSL_CTX_ctrl(ctx, cmds[i], 5, NULL);
            long r2 = SSL_CTX_ctrl(ctx, cmds[i], -1, buf);
            printf("ctrl %d -> %ld, %ld\n", cmds[i], r1, r2);
        }
        show_stats("stats after unknown ctrls", ctx);
        r = SSL_CTX_get_session_cache_mode(ctx);
        printf("mode %#lx\n", (unsigned long)r);
        r = SSL_CTX_sess_get_cache_size(ctx);
        printf("size %ld\n", r);
        SSL_CTX_free(ctx);
    }

    printf("== session ctrls ignore larg and parg\n");
    ctx = SSL_CTX_new(TLS_server_method());
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_CTX_add_session(ctx, a);
        SSL_SESSION_free(a);
        for (i = SSL_CTRL_SESS_NUMBER; i <= SSL_CTRL_SESS_CACHE_FULL; i++) {
            long r1 = SSL_CTX_ctrl(ctx, i, 12345, buf);
            long r2 = SSL_CTX_ctrl(ctx, i, -1, NULL);
            printf("ctrl %d -> %ld, %ld\n", i, r1, r2);
        }
        r = SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 777, buf);
        printf("GET_SESS_CACHE_SIZE with larg 777 -> %ld\n", r);
        r = SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_MODE, 777, buf);
        printf("GET_SESS_CACHE_MODE with larg 777 -> %ld\n", r);
    }
    SSL_CTX_free(ctx);

    printf("== negative sizes and timeouts\n");
    ctx = SSL_CTX_new(TLS_server_method());
    r = SSL_CTX_sess_set_cache_size(ctx, -1);
    printf("set cache size -1 -> %ld\n", r);
    r = SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, LONG_MIN, NULL);
    printf("ctrl set cache size LONG_MIN -> %ld\n", r);
    r = SSL_CTX_sess_get_cache_size(ctx);
    printf("cache size %ld\n", r);
    r = SSL_CTX_set_timeout(ctx, -1);
    printf("SSL_CTX_set_timeout -1 -> %ld\n", r);
    r = SSL_CTX_get_timeout(ctx);
    printf("SSL_CTX_get_timeout -> %ld\n", r);
    s = SSL_SESSION_new();
    r = SSL_SESSION_set_timeout(s, -1);
    printf("SSL_SESSION_set_timeout -1 -> %ld\n", r);
    r = SSL_SESSION_get_timeout(s);
    printf("SSL_SESSION_get_timeout -> %ld\n", r);
    r = SSL_SESSION_set_timeout(s, LONG_MIN);
    printf("SSL_SESSION_set_timeout LONG_MIN -> %ld\n", r);
    r = SSL_SESSION_set_time(s, -1);
    printf("SSL_SESSION_set_time -1 -> %ld\n", r);
    r = SSL_SESSION_set_time(s, LONG_MIN);
    printf("SSL_SESSION_set_time LONG_MIN -> %ld\n", r);
    r = SSL_SESSION_get_time(s);
    printf("SSL_SESSION_get_time -> %ld\n", r);
    SSL_SESSION_free(s);
    SSL_CTX_free(ctx);

    printf("== over-long ids and contexts\n");
    ctx = SSL_CTX_new(TLS_server_method());
    ssl = SSL_new(ctx);
    s = SSL_SESSION_new();
    {
        static const unsigned int lens[] = { 33, 48, 64, 255, 256, 65535, 0x80000000u,
                                             0xffffffffu };
        for (i = 0; i < 8; i++) {
            int a = SSL_SESSION_set1_id(s, buf, lens[i]);
            int b = SSL_SESSION_set1_id_context(s, buf, lens[i]);
            int c = SSL_CTX_set_session_id_context(ctx, buf, lens[i]);
            int d = SSL_set_session_id_context(ssl, buf, lens[i]);
            int m = SSL_has_matching_session_id(ssl, buf, lens[i]);
            printf("len %u: set1_id %d, set1_id_context %d, ctx sid_ctx %d, ssl sid_ctx %d, "
                   "has_matching %d\n",
                   lens[i], a, b, c, d, m);
        }
        {
            unsigned int l1 = 99, l2 = 99;
            SSL_SESSION_get_id(s, &l1);
            SSL_SESSION_get0_id_context(s, &l2);
            printf("after all: id length %u, id context length %u\n", l1, l2);
        }
    }
    r = SSL_SESSION_set1_master_key(s, buf, 0xffffffffu);
    printf("set1_master_key len 0xffffffff -> %ld\n", r);
    r = SSL_SESSION_set1_master_key(s, buf, (size_t)-1);
    printf("set1_master_key len SIZE_MAX -> %ld\n", r);
    SSL_SESSION_free(s);
    SSL_free(ssl);
    SSL_CTX_free(ctx);

    printf("== odd protocol versions as cache keys\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
    {
        static const int vs[] = { -1, 0, INT_MAX, INT_MIN, 0x10000 };
        for (i = 0; i < 5; i++) {
            SSL_SESSION *a = make_session(1, 1000 + i, 100);
            SSL_SESSION_set_protocol_version(a, vs[i]);
            add_show(ctx, a);
            SSL_SESSION_free(a);
        }
        flush_show(ctx, 0);
    }
    SSL_CTX_free(ctx);
    return 0;
}
