/*
 * SSL_CTX_add_session: return values and the cache count for new sessions, the same object
 * again, another object with the same id, the same id under another protocol version, empty
 * ids, short ids, ids sharing a prefix, expired sessions and re-adding removed sessions.
 */
#include "scenario.h"

static SSL_CTX *new_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
    return ctx;
}

int main(void)
{
    SSL_CTX *ctx;
    SSL_SESSION *a, *b, *c, *d, *e1, *e2;
    int r;

    printf("== add new and same object again\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    add_show(ctx, a);
    add_show(ctx, a);
    add_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable a = %d\n", r);
    show_stats("stats", ctx);
    SSL_SESSION_free(a);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_CTX_free(ctx);

    printf("== another object with the same id replaces silently\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(1, 2000, 100);
    add_show(ctx, a);
    add_show(ctx, b);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable old a = %d\n", r);
    printf("remove a (b is the cached object):\n");
    remove_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable a = %d\n", r);
    r = SSL_SESSION_is_resumable(b);
    printf("resumable b = %d\n", r);
    add_show(ctx, a);
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== same id under other protocol versions\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(1, 1001, 100);
    c = make_session(1, 1002, 100);
    d = make_session(1, 1003, 100);
    SSL_SESSION_set_protocol_version(b, TLS1_3_VERSION);
    SSL_SESSION_set_protocol_version(c, 0);
    SSL_SESSION_set_protocol_version(d, TLS1_VERSION);
    add_show(ctx, a);
    add_show(ctx, b);
    add_show(ctx, c);
    add_show(ctx, d);
    remove_show(ctx, b);
    remove_show(ctx, b);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
    SSL_CTX_free(ctx);

    printf("== empty ids\n");
    ctx = new_ctx();
    e1 = make_session(0, 1000, 100);
    e2 = make_session(0, 2000, 100);
    r = SSL_SESSION_is_resumable(e1);
    printf("resumable empty = %d\n", r);
    add_show(ctx, e1);
    add_show(ctx, e1);
    add_show(ctx, e2);
    SSL_SESSION_set_protocol_version(e1, TLS1_3_VERSION);
    add_show(ctx, e1);
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(e1);
    SSL_SESSION_free(e2);
    SSL_CTX_free(ctx);

    printf("== short ids and shared prefixes\n");
    ctx = new_ctx();
    {
        static const unsigned int lens[] = { 1, 2, 3, 4, 5, 16, 31, 32 };
        SSL_SESSION *ss[8];
        for (int i = 0; i < 8; i++) {
            ss[i] = make_session_len(9, lens[i], 1000 + i, 100);
            printf("len %u: ", lens[i]);
            add_show(ctx, ss[i]);
        }
        for (int i = 0; i < 8; i++) {
            SSL_SESSION *dup = make_session_len(9, lens[i], 5000 + i, 100);
            printf("again len %u: ", lens[i]);
            add_show(ctx, dup);
            SSL_SESSION_free(dup);
        }
        for (int i = 0; i < 8; i++)
            SSL_SESSION_free(ss[i]);
    }
    {
        /* 32-byte ids equal in their first four bytes, differing later */
        unsigned char id[32];
        for (int i = 0; i < 3; i++) {
            SSL_SESSION *s = make_session(0x20, 3000 + i, 100);
            memset(id, 0x20, sizeof id);
            id[31] = (unsigned char)i;
            SSL_SESSION_set1_id(s, id, 32);
            printf("prefix twin %d: ", i);
            add_show(ctx, s);
            SSL_SESSION_free(s);
        }
    }
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_CTX_free(ctx);

    printf("== expired sessions are added\n");
    ctx = new_ctx();
    a = make_session(1, 1, 1);
    b = make_session(2, 0, 0);
    add_show(ctx, a);
    add_show(ctx, b);
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== re-add after remove\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    add_show(ctx, a);
    remove_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable after remove = %d\n", r);
    add_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable after re-add = %d\n", r);
    add_show(ctx, a);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);

    printf("== one session in two contexts freed in turn\n");
    {
        SSL_CTX *c1 = new_ctx();
        a = make_session(1, 1000, 100);
        add_show(c1, a);
        r = SSL_SESSION_is_resumable(a);
        printf("resumable = %d\n", r);
        printf("free ctx:\n");
        SSL_CTX_free(c1);
        r = SSL_SESSION_is_resumable(a);
        printf("resumable after ctx free = %d\n", r);
        c1 = new_ctx();
        add_show(c1, a);
        show_stats("stats", c1);
        dump_order_cb("end", c1, log_remove_cb_time);
        SSL_CTX_free(c1);
        SSL_SESSION_free(a);
    }

    printf("== counters after many adds\n");
    ctx = new_ctx();
    SSL_CTX_sess_set_remove_cb(ctx, NULL);
    for (int i = 1; i <= 100; i++) {
        SSL_SESSION *s = make_session((unsigned char)i, 1000 + i, 100);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    show_stats("stats", ctx);
    SSL_CTX_free(ctx);
    return 0;
}
