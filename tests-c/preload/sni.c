/*
 * sni: a server connection moved to another context by its servername callback
 * (SSL_set_SSL_CTX), as a server with name-based virtual hosts does. libssl keeps using the
 * context the connection was made with (its session context) for the session cache: lookup,
 * store, removal, the external-cache callbacks and the cache's counters; the handshake's
 * accept_good (and the accept moved at the switch) go to the context it is in now. Cases:
 *   - TLS 1.2 session ids and TLS 1.3 stateful tickets, resumed at the virtual host;
 *   - callbacks on both contexts (whose run, and with which context), an external cache and
 *     cb_hits, SSL_has_matching_session_id on a moved connection;
 *   - an unclean close after the move (the session leaves the session context's cache);
 *   - a virtual host with another session id context; SSL_set_SSL_CTX(NULL) back;
 *   - a client connection moved to another client context (its client cache);
 *   - SSL_dup of a connection moved before its handshake (the copy's session context is the
 *     context it was copied in).
 * After every handshake: both reuse flags, the sessions by name, the server connection's
 * context, SSL_has_matching_session_id, and all twelve counters of every context.
 *
 * Written against the system <openssl/ssl.h>, built with -lssl -lcrypto; the preload harness
 * (tests-c/preload/run.sh) runs it plain and preloaded: the transcripts must be identical.
 */
#include "tls_oracle.h"
#include "../pairs/pair_common.h"

static SSL_CTX *g_vctx;  /* the virtual host the servername callback moves connections to */
static SSL_CTX *g_cctx2; /* a second client context */
static int g_sni_back;   /* the callback moves to the vhost, then back with SSL_set_SSL_CTX(NULL) */

static const char *label(const SSL_CTX *ctx)
{
    if (ctx == NULL)
        return "NULL";
    if (ctx == g_vctx)
        return "vhost";
    if (ctx == g_cctx2)
        return "client2";
    return ctx == g_sctx ? "default" : ctx_label(ctx);
}

static void show_all(const char *indent)
{
    char l[32];
    snprintf(l, sizeof l, "%sdefault", indent);
    show_stats(l, g_sctx);
    snprintf(l, sizeof l, "%svhost", indent);
    show_stats(l, g_vctx);
    snprintf(l, sizeof l, "%sclient", indent);
    show_stats(l, g_cctx);
    if (g_cctx2 != NULL) {
        snprintf(l, sizeof l, "%sclient2", indent);
        show_stats(l, g_cctx2);
    }
}

static int sni_cb(SSL *s, int *al, void *arg)
{
    (void)al;
    (void)arg;
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    if (name == NULL || strcmp(name, "v.test") != 0) {
        printf("  [servername %s] stays on %s\n", name ? name : "none", label(SSL_get_SSL_CTX(s)));
        return SSL_TLSEXT_ERR_OK;
    }
    SSL_CTX *now = SSL_set_SSL_CTX(s, g_vctx);
    printf("  [servername %s] moved to %s\n", name, label(now));
    if (g_sni_back) {
        now = SSL_set_SSL_CTX(s, NULL);
        printf("  [servername %s] SSL_set_SSL_CTX(NULL): back on %s\n", name, label(now));
    }
    return SSL_TLSEXT_ERR_OK;
}

/* ---- callbacks, one set per context, so the transcript shows whose libssl calls ---- */

#define NEW_CB(who)                                                                                            \
    static int new_cb_##who(SSL *ssl, SSL_SESSION *sess)                                                       \
    {                                                                                                          \
        printf("  [" #who " new] %s on %s\n", sname(sess), label(SSL_get_SSL_CTX(ssl)));                        \
        return new_cb(ssl, sess);                                                                              \
    }
#define REMOVE_CB(who)                                                                                         \
    static void remove_cb_##who(SSL_CTX *ctx, SSL_SESSION *sess)                                               \
    {                                                                                                          \
        printf("  [" #who " remove] ctx=%s %s\n", label(ctx), sname(sess));                                   \
        remove_cb(ctx, sess);                                                                                  \
    }
#define GET_CB(who)                                                                                            \
    static SSL_SESSION *get_cb_##who(SSL *ssl, const unsigned char *id, int len, int *copy)                    \
    {                                                                                                          \
        printf("  [" #who " get] on %s\n", label(SSL_get_SSL_CTX(ssl)));                                       \
        return get_cb(ssl, id, len, copy);                                                                     \
    }
NEW_CB(default)
NEW_CB(vhost)
REMOVE_CB(default)
REMOVE_CB(vhost)
GET_CB(default)
GET_CB(vhost)

/* pair_common's new callback keeps sessions in its external cache only for g_sctx's
 * connections; here a moved connection is on the vhost, so the default's callbacks keep
 * them themselves. */
static void install_both(int external)
{
    SSL_CTX_sess_set_new_cb(g_sctx, new_cb_default);
    SSL_CTX_sess_set_remove_cb(g_sctx, remove_cb_default);
    SSL_CTX_sess_set_new_cb(g_vctx, new_cb_vhost);
    SSL_CTX_sess_set_remove_cb(g_vctx, remove_cb_vhost);
    if (external) {
        SSL_CTX_sess_set_get_cb(g_sctx, get_cb_default);
        SSL_CTX_sess_set_get_cb(g_vctx, get_cb_vhost);
    }
}

static int keep_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    printf("  [default new, keeps] %s on %s\n", sname(sess), label(SSL_get_SSL_CTX(ssl)));
    for (int i = 0; i < EXT_SLOTS; i++)
        if (g_ext[i] == NULL) {
            g_ext[i] = sess;
            return 1;
        }
    return 0;
}

/* ---- cases ---- */

static void begin(const char *title, int version)
{
    case_begin(title);
    g_vctx = drv_server_ctx();
    g_cctx2 = NULL;
    g_sni_back = 0;
    g_quiet_cb = 1; /* pair_common's callbacks only count; ours print */
    drv_set_version(g_sctx, version);
    drv_set_version(g_vctx, version);
    drv_set_version(g_cctx, version);
    SSL_CTX_set_tlsext_servername_callback(g_sctx, sni_cb);
}

static void end(void)
{
    SSL_CTX_free(g_vctx);
    if (g_cctx2 != NULL)
        SSL_CTX_free(g_cctx2);
    g_vctx = g_cctx2 = NULL;
    case_end();
}

/* What the server connection knows about its session, before it is closed. */
static void server_view(SSL *s)
{
    SSL_SESSION *sess = SSL_get_session(s);
    unsigned int len = 0;
    const unsigned char *id = sess ? SSL_SESSION_get_id(sess, &len) : NULL;
    printf("  server on %s, has_matching_session_id(%s)=%d\n", label(SSL_get_SSL_CTX(s)), sname(sess),
           id ? SSL_has_matching_session_id(s, id, len) : -1);
}

/* A handshake to `name` (NULL: no servername) offering `offer`; returns the client's session. */
static SSL_SESSION *hs_on(const char *label_, const char *name, SSL_SESSION *offer, struct conn *p, int shut_s)
{
    if (name != NULL)
        SSL_set_tlsext_host_name(p->c, name);
    if (offer != NULL)
        SSL_set_session(p->c, offer);
    int ok = conn_handshake(p);
    if (ok && SSL_version(p->c) == TLS1_3_VERSION)
        conn_read_tickets(p);
    printf("%s [%s]: %s client_reused=%d server_reused=%d client_session=%s server_session=%s\n", label_,
           name ? name : "no servername", ok ? "ok" : "FAILED", SSL_session_reused(p->c), SSL_session_reused(p->s),
           sname(SSL_get_session(p->c)), sname(SSL_get_session(p->s)));
    server_view(p->s);
    SSL_SESSION *got = SSL_get1_session(p->c);
    conn_close(p, 1, shut_s);
    show_all("  ");
    return got;
}

static SSL_SESSION *hs(const char *label_, const char *name, SSL_SESSION *offer)
{
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    return hs_on(label_, name, offer, &p, 1);
}

static void case_resume(int version, const char *title)
{
    begin(title, version);
    if (version == TLS1_3_VERSION)
        SSL_CTX_set_num_tickets(g_sctx, 1);
    SSL_SESSION *a = hs("full", "v.test", NULL);
    SSL_SESSION *b = hs("resume at the vhost", "v.test", a);
    SSL_SESSION *c = hs("resume at the vhost again", "v.test", version == TLS1_3_VERSION ? b : a);
    SSL_SESSION *d = hs("full", "d.test", NULL);
    SSL_SESSION *e = hs("resume at the default host", "d.test", d);
    printf("-- a vhost session offered without a servername, and the other way round\n");
    SSL_SESSION *f = hs("resume", NULL, version == TLS1_3_VERSION ? c : a);
    SSL_SESSION *g = hs("resume", "v.test", version == TLS1_3_VERSION ? e : d);
    printf("-- flush(0) on the vhost, then on the default host\n");
    SSL_CTX_flush_sessions(g_vctx, 0);
    show_all("  ");
    SSL_CTX_flush_sessions(g_sctx, 0);
    show_all("  ");
    SSL_SESSION *h = hs("resume after the flushes", "v.test", g);
    FREE_ALL(a, b, c, d, e, f, g, h);
    end();
}

static void case_callbacks(void)
{
    begin("3 callbacks on both contexts; an external cache", TLS1_2_VERSION);
    install_both(0);
    SSL_SESSION *a = hs("full", "v.test", NULL);
    SSL_SESSION *b = hs("resume", "v.test", a);
    printf("-- SSL_CTX_remove_session on each context\n");
    printf("remove_session(vhost, a) = %d\n", SSL_CTX_remove_session(g_vctx, a));
    printf("remove_session(default, a) = %d\n", SSL_CTX_remove_session(g_sctx, a));
    show_all("  ");
    SSL_SESSION *c = hs("resume removed", "v.test", a);
    printf("-- the default's lookups from its get callback (NO_INTERNAL_LOOKUP), sessions kept by its new callback\n");
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP);
    SSL_CTX_sess_set_new_cb(g_sctx, keep_new_cb);
    SSL_CTX_sess_set_get_cb(g_sctx, get_cb_default);
    SSL_CTX_sess_set_get_cb(g_vctx, get_cb_vhost);
    g_ext_mode = EXT_COPY1;
    SSL_SESSION *d = hs("full", "v.test", NULL);
    SSL_SESSION *e = hs("resume from the get callback", "v.test", d);
    SSL_SESSION *f = hs("resume from the get callback again", "v.test", d);
    printf("-- the external cache alone (NO_INTERNAL)\n");
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_SESSION *g = hs("full", "v.test", NULL);
    SSL_SESSION *h = hs("resume from the get callback", "v.test", g);
    SSL_SESSION *i = hs("an unknown session (flushed by the vhost, never cached)", "v.test", c);
    FREE_ALL(a, b, c, d, e, f, g, h, i);
    end();
}

static void case_unclean(void)
{
    begin("4 an unclean close after the move", TLS1_2_VERSION);
    install_both(0);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    SSL_SESSION *a = hs_on("full, server closes without close_notify", "v.test", NULL, &p, 0);
    SSL_SESSION *b = hs("resume", "v.test", a);
    FREE_ALL(a, b);
    end();
}

static void case_sid_ctx(void)
{
    begin("5 a vhost with another session id context", TLS1_2_VERSION);
    SSL_CTX_set_session_id_context(g_vctx, (const unsigned char *)"vhost", 5);
    SSL_SESSION *a = hs("full", "v.test", NULL);
    SSL_SESSION *b = hs("resume", "v.test", a);
    SSL_SESSION *c = hs("offered to the default host", "d.test", a);
    FREE_ALL(a, b, c);
    end();
}

static void case_back(void)
{
    begin("6 moved to the vhost, then back with SSL_set_SSL_CTX(NULL)", TLS1_2_VERSION);
    g_sni_back = 1;
    SSL_SESSION *a = hs("full", "v.test", NULL);
    SSL_SESSION *b = hs("resume", "v.test", a);
    g_sni_back = 0;
    SSL_SESSION *c = hs("resume, moved and staying", "v.test", a);
    FREE_ALL(a, b, c);
    end();
}

static void case_client(void)
{
    begin("7 a client connection moved to another client context", TLS1_2_VERSION);
    g_cctx2 = drv_client_ctx();
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_set_session_cache_mode(g_cctx2, SSL_SESS_CACHE_CLIENT);
    for (int i = 0; i < 2; i++) {
        struct conn p;
        conn_new(&p, g_cctx, g_sctx);
        printf("SSL_set_SSL_CTX(client, client2) -> %s\n", label(SSL_set_SSL_CTX(p.c, g_cctx2)));
        SSL_SESSION *a = hs_on(i ? "full again" : "full", "d.test", NULL, &p, 1);
        SSL_SESSION_free(a);
    }
    printf("client number=%ld client2 number=%ld\n", SSL_CTX_sess_number(g_cctx), SSL_CTX_sess_number(g_cctx2));
    end();
}

/* A server connection made on the default host, moved to the vhost, then copied: the copy is
 * made on the vhost, which is its session context. */
static struct conn dup_conn(void)
{
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    SSL *orig = p.s;
    printf("SSL_set_SSL_CTX(server, vhost) -> %s\n", label(SSL_set_SSL_CTX(orig, g_vctx)));
    p.s = SSL_dup(orig);
    if (p.s == NULL || p.s == orig) {
        printf("SSL_dup: %s\n", p.s == NULL ? "NULL" : "the same object");
        exit(1);
    }
    printf("the copy is on %s\n", label(SSL_get_SSL_CTX(p.s)));
    BIO *bs = SSL_get_rbio(orig);
    BIO_up_ref(bs);
    SSL_set_bio(p.s, bs, bs);
    SSL_free(orig);
    return p;
}

static void case_dup(void)
{
    begin("8 SSL_dup of a connection moved before its handshake", TLS1_2_VERSION);
    install_both(0);
    struct conn p = dup_conn();
    SSL_SESSION *a = hs_on("full on the copy", "d.test", NULL, &p, 1);
    p = dup_conn();
    SSL_SESSION *b = hs_on("resume on a copy", "d.test", a, &p, 1);
    SSL_SESSION *c = hs("offered to a connection that stays on the default host", "d.test", a);
    FREE_ALL(a, b, c);
    end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    drv_init();
    case_resume(TLS1_2_VERSION, "1 TLS 1.2 session ids: resumption at the vhost");
    case_resume(TLS1_3_VERSION, "2 TLS 1.3 stateful tickets: resumption at the vhost");
    case_callbacks();
    case_unclean();
    case_sid_ctx();
    case_back();
    case_client();
    case_dup();
    drv_cleanup();
    return 0;
}
