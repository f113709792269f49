/*
 * The fronts' fleet path in real handshakes, within one process: server contexts A and B share
 * SESSCACHE_FLEET=memory: (src/fleet/memory.rs, a test-only in-process remote). Built against
 * libssl (run plain, and preloaded) and natively (-DNATIVE_DRIVER: the sesscache_ hooks); see
 * run.sh for which transcripts must match what.
 */
#ifdef NATIVE_DRIVER
/* The native driver's sessions carry no cipher or master key, and a session without a cipher
 * has no DER (as in libssl): the engine's negotiation is stood in for here. */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
static void negotiated(SSL *s)
{
    static const unsigned char suite[2] = { 0xc0, 0x2f }; /* ECDHE-RSA-AES128-GCM-SHA256 */
    static const unsigned char master[48] = { 1 };
    SSL_SESSION *session = SSL_get_session(s);
    if (!SSL_SESSION_set_cipher(session, SSL_CIPHER_find(s, suite)) ||
        !SSL_SESSION_set1_master_key(session, master, sizeof master)) {
        fprintf(stderr, "native: cannot set the negotiated cipher\n");
        exit(2);
    }
}
#define DRV_NEW_SESSION negotiated
#include "../../pairs/hooks_native.h"
#else
#include "tls_oracle.h"
#endif
#include "scenario.h"

static inline void trace_point(SSL *s, int is_server, int done)
{
    (void)s, (void)is_server, (void)done;
}

static int g_removed_at_b;
static void count_removal(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx, (void)s;
    g_removed_at_b++;
}

/* A full handshake at `sctx`: the client's session and the server's (references). */
static void make(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION **client, SSL_SESSION **server)
{
    struct conn p;
    conn_new(&p, cctx, sctx);
    if (!conn_handshake(&p))
        drv_die("full handshake");
    *client = SSL_get1_session(p.c);
    *server = SSL_get1_session(p.s);
    conn_close(&p, 1, 1);
}

/* The client offers `session` at `sctx`: 1 resumed, 0 full handshake, -1 failed. */
static int offer(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *session)
{
    struct conn p;
    conn_new(&p, cctx, sctx);
    SSL_set_session(p.c, session);
    int ok = conn_handshake(&p);
    int reused = SSL_session_reused(p.s);
    conn_close(&p, 1, 1);
    return ok ? reused : -1;
}

/* A distinct object with the same id and contents: as another process would hold it. */
static SSL_SESSION *copy_of(SSL_SESSION *s)
{
    unsigned char *der = NULL;
    int len = i2d_SSL_SESSION(s, &der);
    const unsigned char *p = der;
    SSL_SESSION *copy = len > 0 ? d2i_SSL_SESSION(NULL, &p, len) : NULL;
    OPENSSL_free(der);
    if (copy == NULL)
        drv_die("i2d/d2i copy");
    return copy;
}

int main(void)
{
    drv_init();
    SSL_CTX *cctx = drv_client_ctx(), *a = drv_server_ctx(), *b = drv_server_ctx(), *c = drv_server_ctx();
    SSL_CTX_set_session_id_context(c, (const unsigned char *)"other", 5);
    SSL_CTX_sess_set_remove_cb(b, count_removal);
    SSL_SESSION *c0, *s0, *c1, *s1, *c2, *s2;

    printf("-- a session made at A, offered at B and at a context of another id context\n");
    make(cctx, a, &c0, &s0);
    SHOW("offer S0 at B", offer(cctx, b, c0));
    SHOW("offer S0 at C", offer(cctx, c, c0));
    SHOW("offer S0 at A", offer(cctx, a, c0));

    printf("-- B holds a copy of S1; A removes S1 explicitly\n");
    make(cctx, a, &c1, &s1);
    SSL_SESSION *s1_copy = copy_of(s1);
    SHOW("add copy at B", SSL_CTX_add_session(b, s1_copy));
    SHOW("remove S1 at A", SSL_CTX_remove_session(a, s1));
    SHOW("B number before", SSL_CTX_sess_number(b));
    SHOW("offer S1 at B", offer(cctx, b, c1));
    SHOW("B removals", g_removed_at_b);
    SHOW("B number after", SSL_CTX_sess_number(b));
    SHOW("offer S1 at A", offer(cctx, a, c1));

    printf("-- A flushes S2: a local flush only\n");
    make(cctx, a, &c2, &s2);
    SSL_CTX_flush_sessions(a, 0);
    SHOW("A number", SSL_CTX_sess_number(a));
    SHOW("offer S2 at A", offer(cctx, a, c2));
    SHOW("offer S2 at B", offer(cctx, b, c2));

    show_stats("A", a);
    show_stats("B", b);
    show_stats("C", c);
    SSL_SESSION *all[] = { c0, s0, c1, s1, s1_copy, c2, s2 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        SSL_SESSION_free(all[i]);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
    SSL_CTX_free(cctx);
    drv_cleanup();
    return 0;
}
