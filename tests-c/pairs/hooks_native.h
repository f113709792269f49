/*
 * The native handshake driver for tests-c/pairs: the same interface as tests-c/lib/tls_oracle.h,
 * but with no TLS at all. Each "handshake" is the sequence of sesscache_ hooks that a TLS 1.2
 * engine calls where libssl's handshake touches the session cache, in the order libssl does
 * (established by the oracle's traces):
 *
 *   client: start (connect / connect_renegotiate)
 *   client: ClientHello offers its session's id, if it has a resumable one (and this is not a
 *           full renegotiation, which offers none); a non-resumable session is dropped first,
 *           as libssl replaces it with a fresh one
 *   server: start (accept / accept_renegotiate)
 *   server: resume lookup when an id was offered (misses, cb_hits, timeouts, hits)
 *   server: new session on a miss
 *   client: ServerHello: resumed when the ids match, else a new session (client miss when it
 *           had a session with an id)
 *   full handshake:    server finishes, then the client (the server sends the last Finished)
 *   resumed handshake: client finishes, then the server (the client sends the last Finished)
 *   failure (server_resume -1, or no new session): the server sends a fatal alert and the
 *           client reads it (see sesscache_fatal_alert below)
 *
 * Only what a TLS engine itself decides lives here; every cache rule is the library's.
 */
#ifndef SESSCACHE_HOOKS_NATIVE_H
#define SESSCACHE_HOOKS_NATIVE_H

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIVER_NAME "native"

/*
 * Proposed hook, not (yet) in the library: the connection sent or received a fatal alert.
 * libssl then removes the connection's session from its context's cache (which also marks it
 * not resumable and calls the remove callback): ssl3_send_alert for the sender,
 * ssl3_read_bytes for the receiver. Declared weak so the pairs build without it; while it is
 * missing, the transcripts show the difference.
 */
int sesscache_fatal_alert(SSL *s) __attribute__((weak));

/* Defined by the includer: called at handshake start and done, with the SSL concerned. */
static inline void trace_point(SSL *s, int is_server, int done);

struct conn {
    SSL *c, *s;
};

static inline void drv_die(const char *what)
{
    fprintf(stderr, "native driver: %s\n", what);
    exit(2);
}

static inline void drv_init(void)
{
}

static inline void drv_cleanup(void)
{
}

static inline SSL_CTX *drv_server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        drv_die("SSL_CTX_new server");
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sesscache", 9);
    return ctx;
}

static inline SSL_CTX *drv_client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        drv_die("SSL_CTX_new client");
    return ctx;
}

static inline void conn_new(struct conn *p, SSL_CTX *cctx, SSL_CTX *sctx)
{
    p->c = SSL_new(cctx);
    p->s = SSL_new(sctx);
    if (p->c == NULL || p->s == NULL)
        drv_die("conn_new");
    SSL_set_connect_state(p->c);
    SSL_set_accept_state(p->s);
}

/* The session id the client's ClientHello carries (0 = none). */
static inline unsigned int drv_client_hello(SSL *c, unsigned char id[32], int offer_none)
{
    SSL_SESSION *sess = SSL_get_session(c);
    unsigned int len = 0;
    const unsigned char *x = sess != NULL ? SSL_SESSION_get_id(sess, &len) : NULL;
    if (len > 0 && !SSL_SESSION_is_resumable(sess)) {
        /* libssl starts a fresh session instead (tls_construct_client_hello), so a later
         * refusal counts no client miss */
        SSL_set_session(c, NULL);
        return 0;
    }
    if (offer_none)
        return 0;
    if (len > 32)
        drv_die("session id too long");
    if (len > 0)
        memcpy(id, x, len);
    return len;
}

static inline void drv_fatal_alert(SSL *s)
{
    if (sesscache_fatal_alert != NULL)
        sesscache_fatal_alert(s);
}

/* One handshake from start to finish; `offer_none` for a full renegotiation. */
static inline int drv_handshake(struct conn *p, int offer_none)
{
    unsigned char id[32];
    trace_point(p->c, 0, 0);
    sesscache_handshake_start(p->c, TLS1_2_VERSION);
    unsigned int id_len = drv_client_hello(p->c, id, offer_none);

    trace_point(p->s, 1, 0);
    sesscache_handshake_start(p->s, TLS1_2_VERSION);
    int resumed = id_len > 0 ? sesscache_server_resume(p->s, id, id_len) : 0;
    if (resumed < 0 || (resumed == 0 && sesscache_server_new_session(p->s) != 1)) {
        /* the server sends a fatal alert and the client reads it */
        drv_fatal_alert(p->s);
        drv_fatal_alert(p->c);
        return 0;
    }
#ifdef DRV_NEW_SESSION
    /* what the TLS engine negotiated goes into the new session (an includer's hook) */
    if (!resumed)
        DRV_NEW_SESSION(p->s);
#endif

    unsigned int sid_len = 0;
    const unsigned char *sid = SSL_SESSION_get_id(SSL_get_session(p->s), &sid_len);
    unsigned char server_id[32];
    if (sid_len > 32)
        drv_die("server session id too long");
    if (sid_len > 0)
        memcpy(server_id, sid, sid_len);
    if (sesscache_client_resume(p->c, server_id, sid_len) < 0)
        return 0;

    SSL *first = resumed ? p->c : p->s;
    SSL *second = resumed ? p->s : p->c;
    sesscache_handshake_finish(first);
    trace_point(first, first == p->s, 1);
    sesscache_handshake_finish(second);
    trace_point(second, second == p->s, 1);
    return 1;
}

static inline int conn_handshake(struct conn *p)
{
    return drv_handshake(p, 0);
}

static inline int conn_renegotiate(struct conn *p, int abbreviated)
{
    return drv_handshake(p, !abbreviated);
}

static inline void conn_set_verify_peer(SSL *s, int on)
{
    sesscache_set_verify_peer(s, on);
}

static inline void conn_close(struct conn *p, int shut_c, int shut_s)
{
    if (shut_c)
        sesscache_shutdown(p->c);
    if (shut_s)
        sesscache_shutdown(p->s);
    SSL_free(p->c);
    SSL_free(p->s);
    p->c = p->s = NULL;
}

#endif
