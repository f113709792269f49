/*
 * The oracle's handshake driver for tests-c/pairs: REAL TLS 1.2 handshakes inside one process,
 * client SSL and server SSL joined by a memory BIO pair, over a throwaway EC P-256 certificate
 * made at startup. No files, no sockets, no sleeping; every loop is bounded.
 *
 * A pair's oracle.c includes this file and its native.c includes tests-c/pairs/hooks_native.h,
 * which implements the same driver interface with the sesscache_ handshake hooks; the case
 * code shared by both then runs the same events through either.
 *
 * Driver interface (both implementations):
 *   drv_init() / drv_cleanup()          process-wide setup and teardown
 *   drv_server_ctx() / drv_client_ctx() a fresh context: TLS 1.2 only, no tickets, and on the
 *                                       server the session id context "sesscache"
 *   conn_new(&p, cctx, sctx)            a client SSL and a server SSL, connect/accept state
 *   conn_handshake(&p)                  runs the handshake; 1 = both finished, 0 = failed
 *   conn_renegotiate(&p, abbreviated)   client-initiated renegotiation (SSL_renegotiate or
 *                                       SSL_renegotiate_abbreviated); 1 = both finished
 *   conn_set_verify_peer(ssl, on)       SSL_VERIFY_PEER on one SSL (accepts any certificate)
 *   conn_close(&p, shut_c, shut_s)      SSL_shutdown on the chosen sides, then SSL_free the
 *                                       client, then the server
 * The info callback calls trace_point() (defined by the includer, see pairs/pair_common.h) at
 * SSL_CB_HANDSHAKE_START and SSL_CB_HANDSHAKE_DONE.
 *
 * Oracle only (real libssl, no native counterpart; used by tests-c/preload/):
 *   drv_set_version(ctx, version)       pins a context to one protocol version (TLS1_2_VERSION,
 *                                       TLS1_3_VERSION) instead of the driver's TLS 1.2
 *   conn_read_tickets(&p)               the client reads what the server sent after the
 *                                       handshake (TLS 1.3 NewSessionTicket messages, which
 *                                       make the client's session resumable and run the
 *                                       client's new-session callback); returns the number of
 *                                       tickets received, -1 on an error
 */
#ifndef SESSCACHE_TLS_ORACLE_H
#define SESSCACHE_TLS_ORACLE_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#define DRIVER_NAME "oracle"

/* Defined by the includer: called at handshake start and done, with the SSL concerned. */
static inline void trace_point(SSL *s, int is_server, int done);

struct conn {
    SSL *c, *s;
};

static EVP_PKEY *drv_key;
static X509 *drv_cert;

static inline void drv_die(const char *what)
{
    fprintf(stderr, "oracle driver: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static inline void drv_init(void)
{
    drv_key = EVP_EC_gen("P-256");
    if (drv_key == NULL)
        drv_die("EVP_EC_gen");
    drv_cert = X509_new();
    if (drv_cert == NULL)
        drv_die("X509_new");
    X509_set_version(drv_cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(drv_cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(drv_cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(drv_cert), 86400L);
    X509_NAME *name = X509_get_subject_name(drv_cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sesscache test", -1, -1, 0);
    X509_set_issuer_name(drv_cert, name);
    X509_set_pubkey(drv_cert, drv_key);
    if (!X509_sign(drv_cert, drv_key, EVP_sha256()))
        drv_die("X509_sign");
}

static inline void drv_cleanup(void)
{
    X509_free(drv_cert);
    EVP_PKEY_free(drv_key);
    drv_cert = NULL;
    drv_key = NULL;
}

static inline void drv_info_cb(const SSL *s, int where, int ret)
{
    (void)ret;
    if (where & SSL_CB_HANDSHAKE_START)
        trace_point((SSL *)s, SSL_is_server(s), 0);
    if (where & SSL_CB_HANDSHAKE_DONE)
        trace_point((SSL *)s, SSL_is_server(s), 1);
}

static inline void drv_common_ctx(SSL_CTX *ctx)
{
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_info_callback(ctx, drv_info_cb);
}

static inline SSL_CTX *drv_server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        drv_die("SSL_CTX_new server");
    drv_common_ctx(ctx);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    if (SSL_CTX_use_certificate(ctx, drv_cert) != 1 || SSL_CTX_use_PrivateKey(ctx, drv_key) != 1)
        drv_die("server certificate");
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sesscache", 9);
    return ctx;
}

static inline SSL_CTX *drv_client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        drv_die("SSL_CTX_new client");
    drv_common_ctx(ctx);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

static inline void conn_new(struct conn *p, SSL_CTX *cctx, SSL_CTX *sctx)
{
    BIO *bc = NULL, *bs = NULL;
    p->c = SSL_new(cctx);
    p->s = SSL_new(sctx);
    if (p->c == NULL || p->s == NULL || !BIO_new_bio_pair(&bc, 0, &bs, 0))
        drv_die("conn_new");
    SSL_set_bio(p->c, bc, bc);
    SSL_set_bio(p->s, bs, bs);
    SSL_set_connect_state(p->c);
    SSL_set_accept_state(p->s);
}

/* One step of one side: 1 = finished, 0 = wants more, -1 = failed. */
static inline int drv_step(SSL *s)
{
    int r = SSL_do_handshake(s);
    if (r == 1)
        return 1;
    int e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    return -1;
}

static inline int conn_handshake(struct conn *p)
{
    for (int i = 0; i < 32; i++) {
        int rc = drv_step(p->c);
        int rs = drv_step(p->s);
        if (rc < 0 || rs < 0) {
            /* let the other side read the alert, as a peer would */
            if (rc >= 0)
                drv_step(p->c);
            if (rs >= 0)
                drv_step(p->s);
            ERR_clear_error();
            return 0;
        }
        if (rc == 1 && rs == 1)
            return 1;
    }
    ERR_clear_error();
    return 0;
}

/* The server in a finished state sees the renegotiation ClientHello only when it reads. */
static inline int drv_server_poll(SSL *s)
{
    if (SSL_in_init(s))
        return drv_step(s);
    unsigned char b;
    int r = SSL_read(s, &b, 1);
    if (r > 0)
        return -1; /* no application data is ever sent */
    int e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return SSL_in_init(s) ? 0 : 1;
    return -1;
}

static inline int conn_renegotiate(struct conn *p, int abbreviated)
{
    if (!(abbreviated ? SSL_renegotiate_abbreviated(p->c) : SSL_renegotiate(p->c)))
        return 0;
    int server_entered = 0;
    for (int i = 0; i < 32; i++) {
        int rc = drv_step(p->c);
        int rs = drv_server_poll(p->s);
        if (SSL_in_init(p->s))
            server_entered = 1;
        if (rc < 0 || rs < 0) {
            ERR_clear_error();
            return 0;
        }
        if (rc == 1 && !SSL_renegotiate_pending(p->c) && server_entered && !SSL_in_init(p->s))
            return 1;
    }
    ERR_clear_error();
    return 0;
}

static inline int drv_accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static inline void conn_set_verify_peer(SSL *s, int on)
{
    SSL_set_verify(s, on ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, on ? drv_accept_any : NULL);
}

static inline void drv_set_version(SSL_CTX *ctx, int version)
{
    if (!SSL_CTX_set_min_proto_version(ctx, version) || !SSL_CTX_set_max_proto_version(ctx, version))
        drv_die("drv_set_version");
}

static inline void drv_count_tickets(int write_p, int version, int content_type, const void *buf, size_t len,
                                     SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        ((const unsigned char *)buf)[0] == SSL3_MT_NEWSESSION_TICKET)
        ++*(int *)arg;
}

static inline int conn_read_tickets(struct conn *p)
{
    int n = 0;
    SSL_set_msg_callback(p->c, drv_count_tickets);
    SSL_set_msg_callback_arg(p->c, &n);
    for (int i = 0; i < 16; i++) {
        unsigned char b;
        int r = SSL_read(p->c, &b, 1);
        int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(p->c, r);
        if (r > 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)) {
            n = -1; /* no application data is ever sent, and nothing may fail */
            break;
        }
        if (BIO_ctrl_pending(SSL_get_rbio(p->c)) == 0)
            break;
    }
    SSL_set_msg_callback(p->c, NULL);
    SSL_set_msg_callback_arg(p->c, NULL);
    ERR_clear_error();
    return n;
}

static inline void conn_close(struct conn *p, int shut_c, int shut_s)
{
    if (shut_c)
        SSL_shutdown(p->c);
    if (shut_s)
        SSL_shutdown(p->s);
    ERR_clear_error();
    SSL_free(p->c);
    SSL_free(p->s);
    p->c = p->s = NULL;
}

/* Frees every session named: FREE_ALL(a, b, c). */
static inline void free_all(SSL_SESSION **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        SSL_SESSION_free(list[i]);
}
#define FREE_ALL(...)                                                                                   \
    do {                                                                                                \
        SSL_SESSION *l_[] = { __VA_ARGS__ };                                                            \
        free_all(l_, sizeof l_ / sizeof l_[0]);                                                         \
    } while (0)

#endif
