/*
 * The fleet's ticket keys against libssl's own (issue 12): K TLS 1.3 resumptions from one
 * stateless ticket, client and server SSL joined by a memory BIO pair in one process (each with
 * both SSLs made, the handshake, the server's new ticket read, shutdown and free). Run by
 * bench/tickets.sh plain, preloaded with the fleet off (libssl's keys) and preloaded with the
 * fleet on (our ticket key callback); each opens the ticket and seals a new one per handshake.
 *
 * usage: ticketbench K      output: "RESULT tls13-ticket-resume <us per handshake> <K>"
 */
#include "../tests-c/lib/tls_oracle.h"

#include <time.h>

static inline void trace_point(SSL *s, int is_server, int done)
{
    (void)s;
    (void)is_server;
    (void)done;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static SSL_SESSION *handshake(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *offer, int *reused)
{
    struct conn p;
    conn_new(&p, cctx, sctx);
    if (offer != NULL)
        SSL_set_session(p.c, offer);
    SSL_SESSION *got = NULL;
    *reused = 0;
    if (conn_handshake(&p)) {
        *reused = SSL_session_reused(p.s);
        conn_read_tickets(&p);
        got = SSL_get1_session(p.c);
    }
    conn_close(&p, 1, 1);
    return got;
}

int main(int argc, char **argv)
{
    long k = argc == 2 ? atol(argv[1]) : 0;
    if (k <= 0) {
        fprintf(stderr, "usage: ticketbench K\n");
        return 2;
    }
    drv_init();
    SSL_CTX *sctx = drv_server_ctx(), *cctx = drv_client_ctx();
    SSL_CTX_clear_options(sctx, SSL_OP_NO_TICKET);
    SSL_CTX_clear_options(cctx, SSL_OP_NO_TICKET);
    drv_set_version(sctx, TLS1_3_VERSION);
    drv_set_version(cctx, TLS1_3_VERSION);
    int reused;
    SSL_SESSION *ticket = handshake(cctx, sctx, NULL, &reused);
    if (ticket == NULL)
        drv_die("first handshake");
    long resumed = 0;
    double t0 = seconds();
    for (long i = 0; i < k; i++) {
        SSL_SESSION *s = handshake(cctx, sctx, ticket, &reused);
        resumed += reused;
        SSL_SESSION_free(s);
    }
    double t = seconds() - t0;
    if (resumed != k)
        drv_die("a handshake did not resume");
    printf("RESULT tls13-ticket-resume %.2f %ld\n", t / k * 1e6, k);
    SSL_SESSION_free(ticket);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    drv_cleanup();
    return 0;
}
