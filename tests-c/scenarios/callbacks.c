/*
 * Session callbacks: set/get of the new, remove and get callbacks (the getters return what was
 * set, per context), the new and get callbacks are not called by SSL_CTX_add_session,
 * SSL_CTX_remove_session, SSL_CTX_flush_sessions or SSL_has_matching_session_id (only the
 * remove callback is, with the context it belongs to), and SSL_CTX_set_generate_session_id's
 * return value (its callback is not called by any of these either).
 */
#include "scenario.h"

static int new_calls, get_calls, gen_calls, remove_calls, remove_ctx_ok;
static SSL_CTX *expected_ctx;

static int new_cb(SSL *ssl, SSL_SESSION *s)
{
    (void)ssl;
    (void)s;
    new_calls++;
    printf("  new_cb called\n");
    return 0;
}

static int new_cb2(SSL *ssl, SSL_SESSION *s)
{
    (void)ssl;
    (void)s;
    return 0;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    remove_calls++;
    if (ctx == expected_ctx)
        remove_ctx_ok++;
    printf("  remove_cb tag=%d ctx is the owner %d\n", tag, ctx == expected_ctx);
}

static void remove_cb2(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx;
    (void)s;
}

static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *data, int len, int *copy)
{
    (void)ssl;
    (void)data;
    (void)copy;
    get_calls++;
    printf("  get_cb called len %d\n", len);
    return NULL;
}

static SSL_SESSION *get_cb2(SSL *ssl, const unsigned char *data, int len, int *copy)
{
    (void)ssl;
    (void)data;
    (void)len;
    (void)copy;
    return NULL;
}

static int gen_cb(SSL *ssl, unsigned char *id, unsigned int *len)
{
    (void)ssl;
    (void)id;
    (void)len;
    gen_calls++;
    printf("  gen_cb called\n");
    return 1;
}

static void show_getters(const char *label, SSL_CTX *ctx)
{
    int (*n)(SSL *, SSL_SESSION *) = SSL_CTX_sess_get_new_cb(ctx);
    void (*r)(SSL_CTX *, SSL_SESSION *) = SSL_CTX_sess_get_remove_cb(ctx);
    SSL_SESSION *(*g)(SSL *, const unsigned char *, int, int *) = SSL_CTX_sess_get_get_cb(ctx);
    printf("%s: new %s, remove %s, get %s\n", label,
           n == NULL ? "NULL" : n == new_cb ? "new_cb" : n == new_cb2 ? "new_cb2" : "other",
           r == NULL ? "NULL" : r == remove_cb ? "remove_cb" : r == remove_cb2 ? "remove_cb2" : "other",
           g == NULL ? "NULL" : g == get_cb ? "get_cb" : g == get_cb2 ? "get_cb2" : "other");
}

int main(void)
{
    SSL_CTX *ctx, *other;
    SSL *ssl;
    SSL_SESSION *a, *b;
    int r;

    printf("== getters return what was set, per context\n");
    ctx = SSL_CTX_new(TLS_server_method());
    other = SSL_CTX_new(TLS_server_method());
    show_getters("initial", ctx);
    SSL_CTX_sess_set_new_cb(ctx, new_cb);
    show_getters("after new", ctx);
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    show_getters("after remove", ctx);
    SSL_CTX_sess_set_get_cb(ctx, get_cb);
    show_getters("after get", ctx);
    show_getters("other context", other);
    SSL_CTX_sess_set_new_cb(ctx, new_cb2);
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb2);
    SSL_CTX_sess_set_get_cb(ctx, get_cb2);
    show_getters("replaced", ctx);
    SSL_CTX_sess_set_new_cb(ctx, NULL);
    SSL_CTX_sess_set_remove_cb(ctx, NULL);
    SSL_CTX_sess_set_get_cb(ctx, NULL);
    show_getters("cleared", ctx);
    SSL_CTX_free(other);
    SSL_CTX_free(ctx);

    printf("== SSL_CTX_set_generate_session_id\n");
    ctx = SSL_CTX_new(TLS_server_method());
    r = SSL_CTX_set_generate_session_id(ctx, gen_cb);
    printf("set gen_cb -> %d\n", r);
    r = SSL_CTX_set_generate_session_id(ctx, gen_cb);
    printf("set gen_cb again -> %d\n", r);
    r = SSL_CTX_set_generate_session_id(ctx, NULL);
    printf("set NULL -> %d\n", r);
    SSL_CTX_free(ctx);

    printf("== only the remove callback runs for explicit cache operations\n");
    ctx = SSL_CTX_new(TLS_server_method());
    expected_ctx = ctx;
    SSL_CTX_sess_set_new_cb(ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    SSL_CTX_sess_set_get_cb(ctx, get_cb);
    r = SSL_CTX_set_generate_session_id(ctx, gen_cb);
    printf("set gen_cb -> %d\n", r);
    ssl = SSL_new(ctx);
    a = make_session(1, 1000, 100);
    b = make_session(2, 2000, 100);
    SSL_SESSION_set_protocol_version(a, SSL_version(ssl));
    add_show(ctx, a);
    add_show(ctx, b);
    add_show(ctx, a);
    {
        unsigned char id[32];
        int m;
        memset(id, 1, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("has_matching cached = %d\n", m);
        memset(id, 9, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("has_matching absent = %d\n", m);
    }
    r = SSL_set_session(ssl, a);
    printf("set_session -> %d\n", r);
    SSL_set_accept_state(ssl);
    SSL_set_connect_state(ssl);
    remove_show(ctx, b);
    remove_show(ctx, b);
    SSL_CTX_sess_set_cache_size(ctx, 1);
    {
        SSL_SESSION *c = make_session(3, 3000, 100);
        add_show(ctx, c);
        SSL_SESSION_free(c);
    }
    flush_show(ctx, 5000);
    show_stats("stats", ctx);
    printf("calls: new %d get %d gen %d remove %d (owner ctx %d)\n", new_calls, get_calls,
           gen_calls, remove_calls, remove_ctx_ok);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_free(ssl);
    printf("SSL_CTX_free:\n");
    SSL_CTX_free(ctx);
    printf("calls: new %d get %d gen %d remove %d (owner ctx %d)\n", new_calls, get_calls,
           gen_calls, remove_calls, remove_ctx_ok);

    printf("== remove callback is per context\n");
    ctx = SSL_CTX_new(TLS_server_method());
    other = SSL_CTX_new(TLS_server_method());
    expected_ctx = ctx;
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    a = make_session(1, 1000, 100);
    SSL_CTX_add_session(ctx, a);
    printf("remove through the other context (no callback there):\n");
    r = SSL_CTX_remove_session(other, a);
    printf("-> %d\n", r);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable = %d (marked by the other context's remove)\n", r);
    printf("remove through the owner:\n");
    remove_show(ctx, a);
    SSL_SESSION_free(a);
    SSL_CTX_free(other);
    SSL_CTX_free(ctx);
    return 0;
}
