/*
 * threads: one server SSL_CTX and one client SSL_CTX shared by NTHREADS threads, each thread
 * running ROUNDS full handshakes and ROUNDS resumptions through real libssl, each connection
 * over its own memory BIO pair (tests-c/lib/tls_oracle.h). Three phases, each with fresh
 * contexts: TLS 1.2 with session ids, TLS 1.3 stateful (server SSL_OP_NO_TICKET, one ticket per
 * handshake) and TLS 1.3 stateless tickets; the client context caches too (SSL_SESS_CACHE_CLIENT)
 * and both contexts count their new and remove callbacks.
 *
 * Only the main thread prints, after the threads are joined: the twelve counters of both
 * contexts, the callback counts and the per-phase totals, which are deterministic whatever the
 * interleaving; then "consistent = 1" when they add up (accept = connect = 2 * NTHREADS *
 * ROUNDS, every handshake finished, hits = resumptions on both sides, number = new - removed
 * callbacks, no miss, timeout or overflow). The preload harness runs it plain and with
 * LD_PRELOAD=target/release/libsesscache.so: the transcripts must be identical.
 *
 * Build: cc -std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -pthread \
 *           -Itests-c/lib -o threads tests-c/preload/threads.c -lssl -lcrypto
 * Race check, the exact command (from the repo root, binary built as above into ./threads):
 *   valgrind --tool=helgrind -q --error-exitcode=99 \
 *       --suppressions=tests-c/preload/helgrind.supp ./threads
 * and with LD_PRELOAD=$PWD/target/release/libsesscache.so in front of it for the preloaded run
 * (about 2-3 minutes each for 50 rounds). Plain, against the system libssl 3.0.19, helgrind
 * reports one benign race of libssl's own in about half of the runs (its session copy reads
 * the cache's list links unlocked, then discards them); helgrind.supp holds that one entry
 * and says why. With it the plain run is clean, so any report in the preloaded run is
 * sesscache's own. But sesscache's parking_lot locks (atomics and futexes) are invisible to
 * helgrind and drd, which then flag every access behind them ("Locks held: none"), so
 * tests-c/preload/run.sh with HELGRIND=1 runs this command plain, preloaded, and preloaded with
 * a build where tests-c/preload/pthread_locks stands in for parking_lot (locks they do see). An optional argument sets ROUNDS (50 by default;
 * `./threads 10` keeps a helgrind run near 25 s).
 */
#include "tls_oracle.h"
#include "scenario.h"
#include <pthread.h>

#define NTHREADS 4
#define ROUNDS_DEFAULT 50

static inline void trace_point(SSL *s, int is_server, int done)
{
    (void)s;
    (void)is_server;
    (void)done;
}

static int g_rounds = ROUNDS_DEFAULT;
static SSL_CTX *g_sctx, *g_cctx;

/* Callback counts, under a mutex (callbacks run on any thread). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static long g_srv_new, g_srv_remove, g_cli_new, g_cli_remove;

static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)sess;
    int server = SSL_get_SSL_CTX(ssl) == g_sctx;
    pthread_mutex_lock(&g_lock);
    if (server)
        g_srv_new++;
    else
        g_cli_new++;
    pthread_mutex_unlock(&g_lock);
    return 0;
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    (void)sess;
    pthread_mutex_lock(&g_lock);
    if (ctx == g_sctx)
        g_srv_remove++;
    else
        g_cli_remove++;
    pthread_mutex_unlock(&g_lock);
}

struct result {
    long full_ok, full_reused, resume_ok, resume_reused_c, resume_reused_s, failed;
};

/* One handshake offering `offer` (may be NULL); returns the client's session (one reference)
 * or NULL on failure; *rc, *rs get the reuse flags. */
static SSL_SESSION *handshake(SSL_SESSION *offer, int *rc, int *rs)
{
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    if (offer != NULL)
        SSL_set_session(p.c, offer);
    SSL_SESSION *got = NULL;
    if (conn_handshake(&p) && conn_read_tickets(&p) >= 0) {
        *rc = SSL_session_reused(p.c);
        *rs = SSL_session_reused(p.s);
        got = SSL_get1_session(p.c);
    }
    conn_close(&p, 1, 1);
    return got;
}

static void *worker(void *arg)
{
    struct result *r = arg;
    for (int i = 0; i < g_rounds; i++) {
        int rc = 0, rs = 0;
        SSL_SESSION *a = handshake(NULL, &rc, &rs);
        if (a == NULL) {
            r->failed++;
            continue;
        }
        r->full_ok++;
        r->full_reused += rc + rs;
        SSL_SESSION *b = handshake(a, &rc, &rs);
        if (b == NULL) {
            r->failed++;
        } else {
            r->resume_ok++;
            r->resume_reused_c += rc;
            r->resume_reused_s += rs;
        }
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
    }
    return NULL;
}

static long stat_of(SSL_CTX *ctx, int i)
{
    switch (i) {
    case 0: return SSL_CTX_sess_number(ctx);
    case 1: return SSL_CTX_sess_connect(ctx);
    case 2: return SSL_CTX_sess_connect_good(ctx);
    case 3: return SSL_CTX_sess_connect_renegotiate(ctx);
    case 4: return SSL_CTX_sess_accept(ctx);
    case 5: return SSL_CTX_sess_accept_good(ctx);
    case 6: return SSL_CTX_sess_accept_renegotiate(ctx);
    case 7: return SSL_CTX_sess_hits(ctx);
    case 8: return SSL_CTX_sess_cb_hits(ctx);
    case 9: return SSL_CTX_sess_misses(ctx);
    case 10: return SSL_CTX_sess_timeouts(ctx);
    default: return SSL_CTX_sess_cache_full(ctx);
    }
}

enum { NUMBER, CONNECT, CONNECT_GOOD, CONNECT_RENEG, ACCEPT, ACCEPT_GOOD, ACCEPT_RENEG, HITS, CB_HITS, MISSES, TIMEOUTS, CACHE_FULL };

#define CHECK(cond)                                                                                     \
    do {                                                                                                \
        if (!(cond)) {                                                                                  \
            printf("  inconsistent: %s\n", #cond);                                                      \
            ok = 0;                                                                                     \
        }                                                                                               \
    } while (0)

static int phase(const char *title, int version, int stateful)
{
    printf("\n== phase %s: %d threads x (%d full + %d resumed)\n", title, NTHREADS, g_rounds, g_rounds);
    g_sctx = drv_server_ctx();
    g_cctx = drv_client_ctx();
    drv_set_version(g_sctx, version);
    drv_set_version(g_cctx, version);
    SSL_CTX_clear_options(g_cctx, SSL_OP_NO_TICKET);
    if (!stateful)
        SSL_CTX_clear_options(g_sctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(g_sctx, 1);
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_new_cb(g_sctx, new_cb);
    SSL_CTX_sess_set_remove_cb(g_sctx, remove_cb);
    SSL_CTX_sess_set_new_cb(g_cctx, new_cb);
    SSL_CTX_sess_set_remove_cb(g_cctx, remove_cb);
    g_srv_new = g_srv_remove = g_cli_new = g_cli_remove = 0;

    pthread_t th[NTHREADS];
    struct result res[NTHREADS];
    memset(res, 0, sizeof res);
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, worker, &res[i]) != 0)
            drv_die("pthread_create");
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);

    struct result t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < NTHREADS; i++) {
        t.full_ok += res[i].full_ok;
        t.full_reused += res[i].full_reused;
        t.resume_ok += res[i].resume_ok;
        t.resume_reused_c += res[i].resume_reused_c;
        t.resume_reused_s += res[i].resume_reused_s;
        t.failed += res[i].failed;
    }
    long s[12], c[12];
    for (int i = 0; i < 12; i++) {
        s[i] = stat_of(g_sctx, i);
        c[i] = stat_of(g_cctx, i);
    }
    show_stats("server", g_sctx);
    show_stats("client", g_cctx);
    printf("handshakes: full ok=%ld (reused flags %ld), resumed ok=%ld (client reused %ld, server reused %ld), failed=%ld\n",
           t.full_ok, t.full_reused, t.resume_ok, t.resume_reused_c, t.resume_reused_s, t.failed);
    printf("callbacks: server new=%ld remove=%ld, client new=%ld remove=%ld\n", g_srv_new, g_srv_remove, g_cli_new,
           g_cli_remove);

    int ok = 1;
    long n = (long)NTHREADS * g_rounds;
    CHECK(t.failed == 0);
    CHECK(t.full_ok == n && t.resume_ok == n);
    CHECK(t.full_reused == 0);
    CHECK(t.resume_reused_c == n && t.resume_reused_s == n);
    CHECK(s[ACCEPT] == 2 * n && s[ACCEPT_GOOD] == s[ACCEPT]);
    CHECK(c[CONNECT] == 2 * n && c[CONNECT_GOOD] == c[CONNECT]);
    CHECK(s[CONNECT] == 0 && s[CONNECT_GOOD] == 0 && c[ACCEPT] == 0 && c[ACCEPT_GOOD] == 0);
    CHECK(s[CONNECT_RENEG] == 0 && s[ACCEPT_RENEG] == 0 && c[CONNECT_RENEG] == 0 && c[ACCEPT_RENEG] == 0);
    CHECK(s[HITS] == n && c[HITS] == n);
    CHECK(s[CB_HITS] == 0 && c[CB_HITS] == 0);
    CHECK(s[MISSES] == 0 && c[MISSES] == 0);
    CHECK(s[TIMEOUTS] == 0 && c[TIMEOUTS] == 0);
    CHECK(s[CACHE_FULL] == 0 && c[CACHE_FULL] == 0);
    CHECK(s[NUMBER] == g_srv_new - g_srv_remove);
    CHECK(c[NUMBER] == g_cli_new - g_cli_remove);
    CHECK(g_srv_new >= n && g_cli_new >= n);
    printf("consistent = %d\n", ok);

    SSL_CTX_free(g_cctx);
    SSL_CTX_free(g_sctx);
    printf("after SSL_CTX_free: callbacks: server new=%ld remove=%ld, client new=%ld remove=%ld\n", g_srv_new,
           g_srv_remove, g_cli_new, g_cli_remove);
    g_sctx = g_cctx = NULL;
    return ok;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) {
        g_rounds = atoi(argv[1]);
        if (g_rounds < 1 || g_rounds > 1000) {
            fprintf(stderr, "usage: %s [ROUNDS 1..1000]\n", argv[0]);
            return 2;
        }
    }
    drv_init();
    int ok = 1;
    ok &= phase("TLS 1.2 session ids", TLS1_2_VERSION, 1);
    ok &= phase("TLS 1.3 stateful (server SSL_OP_NO_TICKET)", TLS1_3_VERSION, 1);
    ok &= phase("TLS 1.3 stateless tickets", TLS1_3_VERSION, 0);
    drv_cleanup();
    printf("\nall consistent = %d\n", ok);
    return ok ? 0 : 1;
}
