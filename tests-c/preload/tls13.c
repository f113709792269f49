/*
 * tls13: what real libssl handshakes over TLS 1.3 (and TLS 1.2 with tickets, and the client-side
 * cache) do to the session caches of a server context and a client context. tests-c/pairs/
 * covers TLS 1.2 with session ids; this covers what it does not:
 *   - TLS 1.3 with SSL_OP_NO_TICKET on the server: stateful tickets, the server caches a
 *     session per ticket and resumption looks it up;
 *   - TLS 1.3 with ordinary (stateless) tickets: resumption from the ticket alone; libssl 3.0
 *     still stores each ticket's session in the server cache when the context has a remove
 *     callback or accepts early data (never to look it up, only to remove it);
 *   - the client-side cache (SSL_SESS_CACHE_CLIENT, the client's new-session callback) for
 *     TLS 1.3 stateless and stateful, TLS 1.2 with session ids and TLS 1.2 with tickets;
 *   - sessions expired on the server (a cached one; a ticket's session, aged by the ticket
 *     decryption callback), SSL_CTX_remove_session before a resumption, the cache off, the
 *     external cache (get callback) and a full cache, all under TLS 1.3;
 *   - TLS 1.3 early data, whose replay protection in libssl is a removal from the server
 *     cache: accepted once per ticket, rejected on a replay, or after a flush.
 * After every handshake: protocol, tickets received, both reuse flags, both sessions by name
 * and all twelve counters of both contexts; every callback call is printed where it happens.
 *
 * Written against the system <openssl/ssl.h>, built with -lssl -lcrypto. The preload harness
 * runs it plain and with LD_PRELOAD=target/release/libsesscache.so: the transcripts must be
 * identical. Session ids are random, so sessions are named S0, S1, ... by first appearance
 * (tests-c/pairs/pair_common.h), which is the same in both runs.
 *
 *   cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Itests-c/lib \
 *      -o tls13 tests-c/preload/tls13.c -lssl -lcrypto
 */
#include "tls_oracle.h"
#include "../pairs/pair_common.h"

/* ---- contexts ---- */

enum srv_kind {
    SRV_STATEFUL,  /* SSL_OP_NO_TICKET: TLS 1.3 stateful tickets, TLS 1.2 session ids */
    SRV_STATELESS, /* tickets (the OpenSSL default) */
};

static const char *kind_name(enum srv_kind k)
{
    return k == SRV_STATEFUL ? "server SSL_OP_NO_TICKET" : "server tickets";
}

/* A case at one protocol version. The client is an ordinary client (no SSL_OP_NO_TICKET);
 * the server's SSL_OP_NO_TICKET decides between stateful and stateless resumption. */
static void begin(const char *title, int version, enum srv_kind k)
{
    char t[200];
    snprintf(t, sizeof t, "%s [%s, %s]", title, version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2", kind_name(k));
    case_begin(t);
    drv_set_version(g_sctx, version);
    drv_set_version(g_cctx, version);
    SSL_CTX_clear_options(g_cctx, SSL_OP_NO_TICKET);
    if (k == SRV_STATELESS)
        SSL_CTX_clear_options(g_sctx, SSL_OP_NO_TICKET);
}

/* ---- the client's new-session callback: prints, counts and keeps every session ---- */

#define KEPT_MAX 32
static SSL_SESSION *g_kept[KEPT_MAX];
static int g_nkept;
static int g_cnew_calls;
static int g_cnew_ret; /* what the callback returns: 1 keeps the reference it was handed */

static int client_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    g_cnew_calls++;
    printf("  [client new #%d] %s reused=%d resumable=%d -> %d\n", g_cnew_calls, sname(sess), SSL_session_reused(ssl),
           SSL_SESSION_is_resumable(sess), g_cnew_ret);
    if (g_trace)
        show_both("    ");
    if (g_nkept < KEPT_MAX) {
        if (!g_cnew_ret)
            SSL_SESSION_up_ref(sess);
        g_kept[g_nkept++] = sess;
        return g_cnew_ret;
    }
    return 0;
}

/* The i-th kept session (negative: from the end), or NULL with a note when there is none, so
 * that a run where the callback was not called shows it instead of crashing. */
static SSL_SESSION *kept(int i)
{
    int k = i < 0 ? g_nkept + i : i;
    if (k < 0 || k >= g_nkept) {
        printf("  (no kept session %d: %d kept)\n", i, g_nkept);
        return NULL;
    }
    return g_kept[k];
}

static void kept_clear(void)
{
    for (int i = 0; i < g_nkept; i++)
        SSL_SESSION_free(g_kept[i]);
    g_nkept = 0;
    g_cnew_calls = 0;
    g_cnew_ret = 0;
}

static void end(void)
{
    kept_clear();
    case_end();
}

/* ---- handshakes ---- */

/* A handshake offering `offer` (may be NULL); the client then reads the tickets the server
 * sent. Prints the protocol, the ticket count, the reuse flags, the sessions and both
 * contexts' stats. Returns the client's session (one reference); *srv, when given, gets the
 * server's session (one reference). Both sides shut down unless told otherwise. */
static SSL_SESSION *hs2(const char *label, SSL_SESSION *offer, SSL_SESSION **srv, int shut_c, int shut_s)
{
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    if (offer != NULL)
        SSL_set_session(p.c, offer);
    int ok = conn_handshake(&p);
    int t = ok ? conn_read_tickets(&p) : 0;
    printf("%s: protocol=%s post-handshake tickets=%d\n", label, ok ? SSL_get_version(p.c) : "none", t);
    report(label, &p, ok);
    SSL_SESSION *got = SSL_get1_session(p.c);
    if (srv != NULL)
        *srv = SSL_get1_session(p.s);
    conn_close(&p, shut_c, shut_s);
    return got;
}

static SSL_SESSION *hs(const char *label, SSL_SESSION *offer)
{
    return hs2(label, offer, NULL, 1, 1);
}

static void show_server_cache(const char *label)
{
    printf("%s: server number=%ld client number=%ld\n", label, SSL_CTX_sess_number(g_sctx), SSL_CTX_sess_number(g_cctx));
}

/* ---- ticket decryption callback: ages the session in a ticket the server accepts ---- */

static int g_age_tickets; /* seconds to move a decrypted ticket's session time back; 0 = leave it */
static int g_dec_calls;

static int ticket_gen_cb(SSL *s, void *arg)
{
    (void)s;
    (void)arg;
    return 1;
}

static SSL_TICKET_RETURN ticket_dec_cb(SSL *s, SSL_SESSION *ss, const unsigned char *keyname, size_t keyname_len,
                                       SSL_TICKET_STATUS status, void *arg)
{
    (void)s;
    (void)keyname;
    (void)keyname_len;
    (void)arg;
    g_dec_calls++;
    printf("  [decrypt ticket #%d] status=%d%s\n", g_dec_calls, (int)status,
           ss != NULL && g_age_tickets ? " (session aged)" : "");
    if (ss != NULL && g_age_tickets)
        SSL_SESSION_set_time(ss, (long)time(NULL) - g_age_tickets);
    switch (status) {
    case SSL_TICKET_SUCCESS:
        return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW:
        return SSL_TICKET_RETURN_USE_RENEW;
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    default:
        return SSL_TICKET_RETURN_IGNORE;
    }
}

/* ================= cases ================= */

/* Where every counter moves in a TLS 1.3 stateful full handshake and resumption. */
static void case_trace(void)
{
    begin("0 trace: where each counter moves", TLS1_3_VERSION, SRV_STATEFUL);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    g_trace = 1;
    printf("-- full handshake\n");
    SSL_SESSION *a = hs("full", NULL);
    printf("-- resumed handshake\n");
    SSL_SESSION *b = hs("resume", a);
    g_trace = 0;
    FREE_ALL(a, b);
    end();
}

static void case_stateful(void)
{
    begin("1 stateful: the server caches one session per ticket", TLS1_3_VERSION, SRV_STATEFUL);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_SESSION *a = hs("full", NULL);
    SSL_SESSION *b = hs("resume", a);
    SSL_SESSION *c = hs("resume the same session again", a);
    SSL_SESSION *d = hs("resume the newest session", c);
    printf("-- one ticket per handshake (SSL_CTX_set_num_tickets 1)\n");
    SSL_CTX_set_num_tickets(g_sctx, 1);
    SSL_SESSION *e = hs("full", NULL);
    SSL_SESSION *f = hs("resume", e);
    printf("-- three tickets per handshake\n");
    SSL_CTX_set_num_tickets(g_sctx, 3);
    SSL_SESSION *g = hs("full", NULL);
    SSL_SESSION *h = hs("resume", g);
    printf("-- no tickets (SSL_CTX_set_num_tickets 0)\n");
    SSL_CTX_set_num_tickets(g_sctx, 0);
    SSL_SESSION *i = hs("full", NULL);
    show_resumable("client's session", i);
    SSL_SESSION *j = hs("resume a session without a ticket", i);
    printf("-- flush(0) empties the server cache\n");
    SSL_CTX_set_num_tickets(g_sctx, 2);
    SSL_SESSION *k = hs("full", NULL);
    SSL_CTX_flush_sessions(g_sctx, 0);
    show_stats("server after flush", g_sctx);
    SSL_SESSION *l = hs("resume after flush", k);
    FREE_ALL(a, b, c, d, e, f, g, h, i, j, k, l);
    end();
}

static void case_stateless(void)
{
    begin("2 stateless tickets: resumption from the ticket alone", TLS1_3_VERSION, SRV_STATELESS);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_SESSION *a = hs("full", NULL);
    SSL_SESSION *b = hs("resume", a);
    SSL_SESSION *c = hs("resume the same session again", a);
    SSL_SESSION *d = hs("resume the newest session", c);
    printf("-- flush(0) on the server: the tickets still resume\n");
    SSL_CTX_flush_sessions(g_sctx, 0);
    SSL_SESSION *e = hs("resume after flush", d);
    printf("-- server cache mode SERVER|NO_INTERNAL_STORE\n");
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_SESSION *f = hs("full", NULL);
    SSL_SESSION *g = hs("resume", f);
    FREE_ALL(a, b, c, d, e, f, g);
    end();
}

/* libssl 3.0 stores a TLS 1.3 stateless ticket's session in the server cache only when the
 * context has a remove callback (so that an external cache hears of it); never looked up. */
static void case_stateless_callbacks(void)
{
    begin("2b stateless tickets: stored only while the server has a remove callback", TLS1_3_VERSION, SRV_STATELESS);
    printf("-- no callbacks\n");
    SSL_SESSION *a = hs("full", NULL);
    SSL_SESSION *b = hs("resume", a);
    printf("-- a new callback only\n");
    SSL_CTX_sess_set_new_cb(g_sctx, new_cb);
    SSL_SESSION *c = hs("full", NULL);
    SSL_SESSION *d = hs("resume", c);
    printf("-- new and remove callbacks\n");
    SSL_CTX_sess_set_remove_cb(g_sctx, remove_cb);
    SSL_SESSION *e = hs("full", NULL);
    SSL_SESSION *f = hs("resume", e);
    printf("-- the remove callback taken away again\n");
    SSL_CTX_sess_set_remove_cb(g_sctx, NULL);
    SSL_SESSION *g = hs("full", NULL);
    SSL_SESSION *h = hs("resume", g);
    printf("-- stateful (SSL_OP_NO_TICKET) without callbacks\n");
    SSL_CTX_sess_set_new_cb(g_sctx, NULL);
    SSL_CTX_set_options(g_sctx, SSL_OP_NO_TICKET);
    SSL_SESSION *i = hs("full", NULL);
    SSL_SESSION *j = hs("resume", i);
    FREE_ALL(a, b, c, d, e, f, g, h, i, j);
    end();
}

/* The client's cache: SSL_SESS_CACHE_CLIENT, the client's new callback sees every session. */
static void case_client_cache(const char *n, int version, enum srv_kind k)
{
    char t[64];
    snprintf(t, sizeof t, "%s client-side cache (client SSL_SESS_CACHE_CLIENT)", n);
    begin(t, version, k);
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_sess_set_new_cb(g_cctx, client_new_cb);
    SSL_SESSION *a = hs("full", NULL);
    printf("client new callback calls = %d, kept %d\n", g_cnew_calls, g_nkept);
    SSL_SESSION *first = kept(0), *last = kept(-1);
    SSL_SESSION *b = hs("resume the first kept session", first);
    SSL_SESSION *c = hs("resume the last kept session of the full handshake", last);
    SSL_SESSION *d = hs("resume the first kept session again", first);
    printf("client new callback calls = %d, kept %d\n", g_cnew_calls, g_nkept);
    printf("-- SSL_CTX_remove_session on the client, then offer it\n");
    if (first != NULL) {
        printf("remove_session(client, first kept) = %d\n", SSL_CTX_remove_session(g_cctx, first));
        printf("remove_session(client, again) = %d\n", SSL_CTX_remove_session(g_cctx, first));
    }
    show_resumable("first kept", first);
    SSL_SESSION *e = hs("resume the removed session", first);
    printf("-- the new callback keeps the reference it is handed (returns 1)\n");
    g_cnew_ret = 1;
    SSL_SESSION *f = hs("full", NULL);
    SSL_SESSION *g = hs("resume the last kept session", kept(-1));
    g_cnew_ret = 0;
    printf("-- client cache mode OFF: the new callback is not called\n");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_OFF);
    int calls = g_cnew_calls;
    SSL_SESSION *h = hs("full", NULL);
    SSL_SESSION *i = hs("resume", h);
    printf("client new callback calls while OFF = %d\n", g_cnew_calls - calls);
    printf("-- client cache mode CLIENT|NO_INTERNAL_STORE: callback only\n");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_SESSION *j = hs("full", NULL);
    SSL_SESSION *l = hs("resume", j);
    printf("client new callback calls = %d, kept %d\n", g_cnew_calls, g_nkept);
    printf("-- flush the client cache\n");
    SSL_CTX_flush_sessions(g_cctx, 0);
    show_server_cache("after client flush");
    FREE_ALL(a, b, c, d, e, f, g, h, i, j, l);
    end();
}

static void case_expired_stateful(void)
{
    begin("7 a cached session expired on the server", TLS1_3_VERSION, SRV_STATEFUL);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_set_timeout(g_sctx, 100);
    SSL_CTX_set_num_tickets(g_sctx, 1);
    SSL_SESSION *srv = NULL;
    SSL_SESSION *a = hs2("full", NULL, &srv, 1, 1);
    const char *srv_name = sname(srv); /* named in this order, whatever the compiler's */
    const char *a_name = sname(a);
    printf("server session %s timeout=%ld, client session %s timeout=%ld\n", srv_name,
           srv ? SSL_SESSION_get_timeout(srv) : -1, a_name, a ? SSL_SESSION_get_timeout(a) : -1);
    if (srv != NULL)
        SSL_SESSION_set_time(srv, (long)time(NULL) - 200);
    show_stats("server", g_sctx);
    g_trace = 1;
    SSL_SESSION *b = hs("resume expired", a);
    g_trace = 0;
    show_resumable("server's aged copy", srv);
    printf("-- the client's copy expired, the server's not\n");
    if (b != NULL)
        SSL_SESSION_set_time(b, (long)time(NULL) - 200);
    SSL_SESSION *c = hs("resume", b);
    printf("-- the server's copy given timeout 0\n");
    SSL_SESSION *srv2 = NULL;
    SSL_SESSION *d = hs2("full", NULL, &srv2, 1, 1);
    if (srv2 != NULL) {
        SSL_SESSION_set_time(srv2, (long)time(NULL) - 10);
        SSL_SESSION_set_timeout(srv2, 0);
    }
    SSL_SESSION *e = hs("resume", d);
    printf("-- flush(now + 150) removes what would be expired then\n");
    SSL_SESSION *f = hs("full", NULL);
    SSL_CTX_flush_sessions(g_sctx, (long)time(NULL) + 150);
    show_stats("server after flush", g_sctx);
    SSL_SESSION *g = hs("resume flushed", f);
    FREE_ALL(srv, a, b, c, srv2, d, e, f, g);
    end();
}

/* A ticket whose session the server finds too old: aged by the decryption callback. */
static void case_expired_ticket(int version)
{
    begin("8 a ticket's session expired on the server", version, SRV_STATELESS);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_set_timeout(g_sctx, 100);
    SSL_CTX_set_session_ticket_cb(g_sctx, ticket_gen_cb, ticket_dec_cb, NULL);
    g_age_tickets = 0;
    g_dec_calls = 0;
    SSL_SESSION *a = hs("full", NULL);
    SSL_SESSION *b = hs("resume", a);
    g_age_tickets = 200;
    g_trace = 1;
    SSL_SESSION *c = hs("resume, ticket aged 200 s", b);
    g_trace = 0;
    g_age_tickets = 0;
    SSL_SESSION *d = hs("resume the new session", c);
    FREE_ALL(a, b, c, d);
    end();
}

static void case_removed(enum srv_kind k)
{
    begin("9 SSL_CTX_remove_session on the server, then a resumption", TLS1_3_VERSION, k);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_set_num_tickets(g_sctx, 1);
    SSL_SESSION *srv = NULL;
    SSL_SESSION *a = hs2("full", NULL, &srv, 1, 1);
    printf("remove_session(server, server's session %s) = %d\n", sname(srv), SSL_CTX_remove_session(g_sctx, srv));
    printf("remove_session(server, again) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    show_resumable("server's copy", srv);
    show_resumable("client's copy", a);
    show_stats("server", g_sctx);
    SSL_SESSION *b = hs("resume removed", a);
    SSL_SESSION *c = hs("resume the new one", b);
    printf("-- SSL_CTX_remove_session with the client's session object\n");
    printf("remove_session(server, client's session %s) = %d\n", sname(c), SSL_CTX_remove_session(g_sctx, c));
    SSL_SESSION *d = hs("resume", c);
    FREE_ALL(srv, a, b, c, d);
    end();
}

static void case_cache_off(enum srv_kind k)
{
    begin("10 server cache off (SSL_SESS_CACHE_OFF)", TLS1_3_VERSION, k);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    printf("-- a session made while the mode was SERVER, offered after the switch to OFF\n");
    SSL_SESSION *x = hs("full (SERVER)", NULL);
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_OFF);
    SSL_SESSION *x2 = hs("resume (OFF)", x);
    printf("-- sessions made while the mode is OFF\n");
    SSL_SESSION *a = hs("full", NULL);
    show_resumable("client's session", a);
    SSL_SESSION *b = hs("resume", a);
    printf("-- mode SERVER|NO_INTERNAL_LOOKUP\n");
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP);
    SSL_SESSION *c = hs("full", NULL);
    SSL_SESSION *d = hs("resume", c);
    FREE_ALL(x, x2, a, b, c, d);
    end();
}

static void case_external(enum ext_mode m)
{
    char t[128];
    snprintf(t, sizeof t, "11 external cache only (SERVER|NO_INTERNAL), get callback mode %d", (int)m);
    begin(t, TLS1_3_VERSION, SRV_STATEFUL);
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_set_num_tickets(g_sctx, 1);
    install_cbs(g_sctx, m);
    g_trace = 1;
    SSL_SESSION *a = hs("full", NULL);
    SSL_SESSION *b = hs("resume", a);
    g_trace = 0;
    SSL_SESSION *c = hs("resume the same session again", a);
    SSL_SESSION *d = hs("resume the newest session", c);
    printf("-- the external entries dropped behind the library's back\n");
    ext_clear();
    SSL_SESSION *e = hs("resume", d);
    FREE_ALL(a, b, c, d, e);
    end();
}

static void case_internal_and_external(void)
{
    begin("12 internal cache and get callback", TLS1_3_VERSION, SRV_STATEFUL);
    SSL_CTX_set_num_tickets(g_sctx, 1);
    install_cbs(g_sctx, EXT_COPY1);
    SSL_SESSION *srv = NULL;
    SSL_SESSION *a = hs2("full", NULL, &srv, 1, 1);
    printf("-- removed from the internal cache, kept by the callbacks\n");
    g_ext_keep_on_remove = 1;
    printf("remove_session(server) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    g_ext_keep_on_remove = 0;
    g_trace = 1;
    SSL_SESSION *b = hs("resume", a);
    g_trace = 0;
    SSL_SESSION *c = hs("resume the new one", b);
    FREE_ALL(srv, a, b, c);
    end();
}

static void case_full(void)
{
    begin("13 server cache overflowing (cache size 3, two tickets per handshake)", TLS1_3_VERSION, SRV_STATEFUL);
    install_cbs(g_sctx, EXT_OFF);
    SSL_CTX_sess_set_cache_size(g_sctx, 3);
    SSL_SESSION *a = hs("client A", NULL);
    g_trace = 1;
    SSL_SESSION *b = hs("client B", NULL);
    g_trace = 0;
    SSL_SESSION *c = hs("client C", NULL);
    SSL_SESSION *rc = hs("resume C", c);
    SSL_SESSION *ra = hs("resume A", a);
    SSL_SESSION *rb = hs("resume B", b);
    FREE_ALL(a, b, c, ra, rc, rb);
    end();
}

static void case_unclean(void)
{
    begin("14 SSL_free without SSL_shutdown", TLS1_3_VERSION, SRV_STATEFUL);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    SSL_SESSION *a = hs2("full, server freed without shutdown", NULL, NULL, 1, 0);
    show_resumable("client's session", a);
    SSL_SESSION *b = hs2("resume, client freed without shutdown", a, NULL, 0, 1);
    show_resumable("client's session", b);
    SSL_SESSION *c = hs2("resume, neither shut down", b, NULL, 0, 0);
    SSL_SESSION *d = hs("resume", c);
    FREE_ALL(a, b, c, d);
    end();
}

/* ---- early data: libssl's anti-replay protection is a removal from the server cache ---- */

static const char *early_status(int st)
{
    return st == SSL_EARLY_DATA_NOT_SENT ? "not sent" : st == SSL_EARLY_DATA_REJECTED ? "rejected"
                                                      : st == SSL_EARLY_DATA_ACCEPTED ? "accepted" : "?";
}

/* A resumption of `offer` whose client sends 5 bytes of early data; the server reads what it
 * accepts. Prints the early-data outcome on both sides, then the usual report. */
static SSL_SESSION *hs_early(const char *label, SSL_SESSION *offer)
{
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    if (offer != NULL)
        SSL_set_session(p.c, offer);
    size_t written = 0, got = 0;
    int wrote = SSL_write_early_data(p.c, "early", 5, &written);
    ERR_clear_error();
    int srv_done = 0, ok = 0;
    for (int i = 0; i < 32 && !ok; i++) {
        int rc = drv_step(p.c);
        if (!srv_done) {
            unsigned char buf[64];
            size_t n = 0;
            int r = SSL_read_early_data(p.s, buf, sizeof buf, &n);
            if (r == SSL_READ_EARLY_DATA_SUCCESS)
                got += n;
            else if (r == SSL_READ_EARLY_DATA_FINISH)
                srv_done = 1;
            else {
                int e = SSL_get_error(p.s, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    break;
            }
        }
        int rs = srv_done ? drv_step(p.s) : 0;
        if (rc < 0 || rs < 0)
            break;
        ok = rc == 1 && rs == 1;
    }
    ERR_clear_error();
    int t = ok ? conn_read_tickets(&p) : 0;
    printf("%s: protocol=%s post-handshake tickets=%d\n", label, ok ? SSL_get_version(p.c) : "none", t);
    printf("%s: early data: client write=%d (%zu bytes) status=%s, server read %zu bytes status=%s\n", label,
           wrote, written, early_status(SSL_get_early_data_status(p.c)), got,
           early_status(SSL_get_early_data_status(p.s)));
    report(label, &p, ok);
    SSL_SESSION *ret = SSL_get1_session(p.c);
    conn_close(&p, 1, 1);
    return ret;
}

static void case_early_data(enum srv_kind k, int callbacks)
{
    char t[128];
    snprintf(t, sizeof t, "15 early data (server max_early_data 1024)%s", callbacks ? ", new and remove callbacks" : "");
    begin(t, TLS1_3_VERSION, k);
    if (callbacks)
        install_cbs(g_sctx, EXT_OFF);
    SSL_CTX_set_max_early_data(g_sctx, 1024);
    SSL_CTX_set_num_tickets(g_sctx, 1);
    SSL_SESSION *a = hs("full", NULL);
    printf("client session %s max_early_data=%u\n", sname(a), a ? SSL_SESSION_get_max_early_data(a) : 0);
    SSL_SESSION *b = hs_early("resume with early data", a);
    SSL_SESSION *c = hs_early("replay: the same session with early data again", a);
    SSL_SESSION *d = hs_early("the newest session with early data", b);
    printf("-- SSL_CTX_flush_sessions(server, 0), then early data\n");
    SSL_SESSION *e = hs("full", NULL);
    SSL_CTX_flush_sessions(g_sctx, 0);
    show_stats("server after flush", g_sctx);
    SSL_SESSION *f = hs_early("early data after the flush", e);
    printf("-- server SSL_OP_NO_ANTI_REPLAY\n");
    SSL_CTX_set_options(g_sctx, SSL_OP_NO_ANTI_REPLAY);
    SSL_SESSION *g = hs("full", NULL);
    SSL_SESSION *h = hs_early("resume with early data", g);
    SSL_SESSION *i = hs_early("replay", g);
    FREE_ALL(a, b, c, d, e, f, g, h, i);
    end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    drv_init();
    case_trace();
    case_stateful();
    case_stateless();
    case_stateless_callbacks();
    case_client_cache("3", TLS1_3_VERSION, SRV_STATELESS);
    case_client_cache("4", TLS1_3_VERSION, SRV_STATEFUL);
    case_client_cache("5", TLS1_2_VERSION, SRV_STATEFUL);
    case_client_cache("6", TLS1_2_VERSION, SRV_STATELESS);
    case_expired_stateful();
    case_expired_ticket(TLS1_3_VERSION);
    case_expired_ticket(TLS1_2_VERSION);
    case_removed(SRV_STATEFUL);
    case_removed(SRV_STATELESS);
    case_cache_off(SRV_STATEFUL);
    case_cache_off(SRV_STATELESS);
    case_external(EXT_COPY1);
    case_external(EXT_COPY0);
    case_internal_and_external();
    case_full();
    case_unclean();
    case_early_data(SRV_STATELESS, 0);
    case_early_data(SRV_STATELESS, 1);
    case_early_data(SRV_STATEFUL, 0);
    drv_cleanup();
    return 0;
}
