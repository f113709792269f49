/*
 * SSL objects around the cache: SSL_new per method, SSL_set_session / SSL_get_session /
 * SSL_get0_session / SSL_get1_session references (every free order leak-free),
 * SSL_session_reused, SSL_set_session(NULL), SSL_set_connect_state / SSL_set_accept_state,
 * SSL_get_SSL_CTX, SSL_CTX_up_ref + SSL_CTX_free sequences, and an SSL keeping its SSL_CTX
 * (and its cache) alive after SSL_CTX_free.
 */
#include "scenario.h"

static void per_method(const char *name, const SSL_METHOD *meth)
{
    SSL_CTX *ctx = SSL_CTX_new(meth);
    SSL *a = SSL_new(ctx);
    SSL *b = SSL_new(ctx);
    int va = SSL_version(a), vb = SSL_version(b);
    int same_a = SSL_get_SSL_CTX(a) == ctx, same_b = SSL_get_SSL_CTX(b) == ctx;
    printf("== SSL_new %s\n", name);
    printf("versions %#x %#x, distinct objects %d, SSL_get_SSL_CTX == ctx %d %d\n",
           (unsigned)va, (unsigned)vb, a != b, same_a, same_b);
    SSL_set_connect_state(a);
    SSL_set_accept_state(b);
    va = SSL_version(a);
    vb = SSL_version(b);
    printf("after connect/accept state: versions %#x %#x\n", (unsigned)va, (unsigned)vb);
    show_stats("stats", ctx);
    SSL_free(a);
    SSL_free(b);
    SSL_CTX_free(ctx);
}

int main(void)
{
    SSL_CTX *ctx;
    SSL *ssl;
    SSL_SESSION *s, *t, *g;
    int r;
    long n;

    per_method("TLS_method", TLS_method());
    per_method("TLS_server_method", TLS_server_method());
    per_method("TLS_client_method", TLS_client_method());

    printf("== set_session and the getters\n");
    ctx = SSL_CTX_new(TLS_server_method());
    ssl = SSL_new(ctx);
    s = make_session(1, 1000, 100);
    r = SSL_set_session(ssl, s);
    printf("set_session -> %d\n", r);
    g = SSL_get_session(ssl);
    printf("get_session == s %d\n", g == s);
    g = SSL_get0_session(ssl);
    printf("get0_session == s %d\n", g == s);
    g = SSL_get1_session(ssl);
    printf("get1_session == s %d\n", g == s);
    SSL_SESSION_free(g);
    r = SSL_session_reused(ssl);
    printf("session_reused = %d\n", r);
    n = SSL_CTX_sess_number(ctx);
    printf("set_session does not cache: number %ld\n", n);
    r = SSL_SESSION_is_resumable(s);
    printf("resumable = %d\n", r);
    r = SSL_version(ssl);
    printf("SSL_version after set_session %#x\n", (unsigned)r);
    SSL_SESSION_free(s);
    g = SSL_get_session(ssl);
    n = SSL_SESSION_get_time(g);
    printf("SSL keeps the session alive after our free: time %ld\n", n);
    SSL_free(ssl);
    SSL_CTX_free(ctx);

    printf("== set_session replaces and releases, NULL clears\n");
    ctx = SSL_CTX_new(TLS_server_method());
    ssl = SSL_new(ctx);
    s = make_session(1, 1000, 100);
    t = make_session(2, 2000, 100);
    r = SSL_set_session(ssl, s);
    printf("set s -> %d\n", r);
    r = SSL_set_session(ssl, s);
    printf("set s again -> %d\n", r);
    r = SSL_set_session(ssl, t);
    printf("set t -> %d\n", r);
    g = SSL_get_session(ssl);
    printf("get == t %d, tag %d\n", g == t, session_tag(g));
    r = SSL_set_session(ssl, NULL);
    printf("set NULL -> %d\n", r);
    g = SSL_get_session(ssl);
    printf("get is NULL %d\n", g == NULL);
    g = SSL_get1_session(ssl);
    printf("get1 is NULL %d\n", g == NULL);
    r = SSL_set_session(ssl, NULL);
    printf("set NULL again -> %d\n", r);
    r = SSL_set_session(ssl, t);
    printf("set t -> %d\n", r);
    SSL_SESSION_free(s);
    SSL_SESSION_free(t);
    SSL_free(ssl);
    SSL_CTX_free(ctx);

    printf("== get1 reference outlives the SSL\n");
    ctx = SSL_CTX_new(TLS_server_method());
    ssl = SSL_new(ctx);
    s = make_session(3, 3000, 100);
    SSL_set_session(ssl, s);
    SSL_SESSION_free(s);
    g = SSL_get1_session(ssl);
    SSL_free(ssl);
    n = SSL_SESSION_get_time(g);
    r = session_tag(g);
    printf("after SSL_free: tag %d time %ld\n", r, n);
    SSL_SESSION_free(g);
    SSL_CTX_free(ctx);

    printf("== one session in two SSLs and the cache\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL *a = SSL_new(ctx);
        SSL *b = SSL_new(ctx);
        s = make_session(4, 4000, 100);
        add_show(ctx, s);
        SSL_set_session(a, s);
        SSL_set_session(b, s);
        SSL_SESSION_free(s);
        printf("remove from cache while SSLs hold it:\n");
        remove_show(ctx, SSL_get_session(a));
        r = SSL_SESSION_is_resumable(SSL_get_session(b));
        printf("resumable via b = %d\n", r);
        SSL_free(a);
        g = SSL_get_session(b);
        n = SSL_SESSION_get_time(g);
        printf("b still has it: time %ld\n", n);
        printf("re-add through b's pointer:\n");
        add_show(ctx, g);
        SSL_free(b);
        printf("flush:\n");
        flush_show(ctx, 0);
    }
    SSL_CTX_free(ctx);

    printf("== connect/accept state keep the session\n");
    ctx = SSL_CTX_new(TLS_method());
    ssl = SSL_new(ctx);
    s = make_session(5, 5000, 100);
    SSL_set_session(ssl, s);
    SSL_set_connect_state(ssl);
    g = SSL_get_session(ssl);
    printf("after set_connect_state get == s %d\n", g == s);
    SSL_set_accept_state(ssl);
    g = SSL_get_session(ssl);
    printf("after set_accept_state get == s %d\n", g == s);
    r = SSL_session_reused(ssl);
    printf("session_reused = %d\n", r);
    r = SSL_set_session(ssl, s);
    printf("set_session after accept_state -> %d\n", r);
    SSL_SESSION_free(s);
    SSL_free(ssl);
    SSL_CTX_free(ctx);

    printf("== SSL_CTX_up_ref and free sequences\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    s = make_session(6, 6000, 100);
    SSL_CTX_add_session(ctx, s);
    SSL_SESSION_free(s);
    r = SSL_CTX_up_ref(ctx);
    printf("up_ref -> %d\n", r);
    r = SSL_CTX_up_ref(ctx);
    printf("up_ref -> %d\n", r);
    printf("free 1:\n");
    SSL_CTX_free(ctx);
    n = SSL_CTX_sess_number(ctx);
    printf("number = %ld\n", n);
    printf("free 2:\n");
    SSL_CTX_free(ctx);
    n = SSL_CTX_sess_number(ctx);
    printf("number = %ld\n", n);
    printf("free 3 (last):\n");
    SSL_CTX_free(ctx);
    printf("freed\n");
    SSL_CTX_free(NULL);
    printf("SSL_CTX_free(NULL) ok\n");

    printf("== SSL keeps its SSL_CTX alive\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    ssl = SSL_new(ctx);
    s = make_session(7, 7000, 100);
    SSL_CTX_add_session(ctx, s);
    SSL_set_session(ssl, s);
    SSL_SESSION_free(s);
    printf("SSL_CTX_free:\n");
    SSL_CTX_free(ctx);
    {
        SSL_CTX *c = SSL_get_SSL_CTX(ssl);
        SSL_SESSION *u = make_session(8, 8000, 100);
        printf("SSL_get_SSL_CTX still the same %d\n", c == ctx);
        n = SSL_CTX_sess_number(c);
        printf("its cache still has %ld\n", n);
        add_show(c, u);
        SSL_SESSION_free(u);
        n = SSL_CTX_get_timeout(c);
        printf("timeout %ld\n", n);
    }
    printf("SSL_free:\n");
    SSL_free(ssl);
    printf("SSL_free done\n");

    printf("== SSL_free(NULL)\n");
    SSL_free(NULL);
    printf("ok\n");

    printf("== SSL objects from an up_ref'd context\n");
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    SSL_CTX_up_ref(ctx);
    ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    SSL_CTX_free(ctx);
    s = make_session(9, 9000, 100);
    add_show(SSL_get_SSL_CTX(ssl), s);
    SSL_SESSION_free(s);
    printf("SSL_free:\n");
    SSL_free(ssl);
    printf("done\n");
    return 0;
}
