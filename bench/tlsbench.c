/*
 * Real-handshake benchmarks for `make bench`: TLS 1.2 handshakes between a client SSL and a
 * server SSL joined by a memory BIO pair, in one process, through the system's libssl. Built
 * against libssl only and run two ways by bench/run.sh: plain, and with
 * LD_PRELOAD=target/release/libsesscache.so (the server context's session cache is then
 * sesscache's, reached through libssl's external-cache callbacks). Natively linked programs
 * have no TLS stack, so there is no native run.
 *
 * The server: TLS 1.2 only, no tickets (session ids: every resumption is a cache lookup),
 * session id context "bench", a throwaway P-256 certificate made at startup. Its cache is
 * prefilled with N synthetic TLS 1.2 sessions through SSL_CTX_add_session so that lookups hit
 * a cache of realistic size; cache size N+K+16 unless stated.
 *
 * usage: tlsbench WORKLOAD N K [THREADS]
 *   resume N K       K resumed handshakes (client offers a cached session; the server finds it
 *                    in its cache), each with both SSLs made, shut down and freed: us/handshake.
 *   full N K         K full handshakes (the server caches each new session): us/handshake.
 *   threads N K T    T threads on one server SSL_CTX (cache size N+1: steady-state eviction),
 *                    each with its own client context and session, doing K iterations of one
 *                    resumed handshake plus one SSL_CTX_add_session of a new synthetic session:
 *                    thousands of iterations per second, all threads together.
 *
 * Output: one line, "RESULT <workload> <n> <value> <unit> <count>".
 */
#define _GNU_SOURCE
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>



static void die(const char *what)
{
    fprintf(stderr, "tlsbench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

#include "common.h"




static EVP_PKEY *key;
static X509 *cert;
static long base_time;

static void make_cert(void)
{
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    if (key == NULL || cert == NULL)
        die("key");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400L);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sesscache bench", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    if (!X509_sign(cert, key, EVP_sha256()))
        die("X509_sign");
}

static SSL_CTX *server_ctx(long size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        die("server ctx");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
        die("server certificate");
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"bench", 5);
    SSL_CTX_sess_set_cache_size(ctx, size);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        die("client ctx");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

static SSL_SESSION *synthetic(uint64_t i)
{
    unsigned char id[32];
    uint64_t seed = i * 0x2545f4914f6cdd1dULL + 3;
    for (int w = 0; w < 4; w++) {
        uint64_t v = splitmix(&seed);
        memcpy(id + 8 * w, &v, 8);
    }
    SSL_SESSION *s = SSL_SESSION_new();
    if (s == NULL || !SSL_SESSION_set1_id(s, id, sizeof id) || !SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION) ||
        !SSL_SESSION_set1_master_key(s, id, sizeof id))
        die("synthetic session");
    SSL_SESSION_set_time(s, base_time + (long)(i / 1000));
    SSL_SESSION_set_timeout(s, 300); /* expires before the real sessions (7200 s): never evicts them */
    return s;
}

static void prefill(SSL_CTX *ctx, long n)
{
    for (long i = 0; i < n; i++) {
        SSL_SESSION *s = synthetic((uint64_t)i);
        if (SSL_CTX_add_session(ctx, s) != 1)
            die("prefill");
        SSL_SESSION_free(s);
    }
}

static int step(SSL *s)
{
    int r = SSL_do_handshake(s);
    if (r == 1)
        return 1;
    int e = SSL_get_error(s, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* One handshake, offering `offer` if not NULL. Returns 1 if the server resumed, 0 if it did a
 * full handshake; a new reference to the client's session in *got if got is not NULL. */
static int handshake(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *offer, SSL_SESSION **got)
{
    BIO *bc = NULL, *bs = NULL;
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    if (c == NULL || s == NULL || !BIO_new_bio_pair(&bc, 0, &bs, 0))
        die("SSL_new");
    SSL_set_bio(c, bc, bc);
    SSL_set_bio(s, bs, bs);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (offer != NULL && !SSL_set_session(c, offer))
        die("SSL_set_session");
    int done = 0;
    for (int i = 0; i < 32 && !done; i++) {
        int rc = step(c), rs = step(s);
        if (rc < 0 || rs < 0)
            die("handshake failed");
        done = rc == 1 && rs == 1;
    }
    if (!done)
        die("handshake did not finish");
    int reused = SSL_session_reused(s);
    if (got != NULL)
        *got = SSL_get1_session(c);
    /* close_notify both ways: the session stays cached */
    SSL_shutdown(c);
    SSL_shutdown(s);
    SSL_free(c);
    SSL_free(s);
    return reused;
}

__attribute__((noinline)) static double timed_resumes(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *sess, long k)
{
    double t0 = cpu_ns();
    for (long i = 0; i < k; i++)
        if (handshake(cctx, sctx, sess, NULL) != 1)
            die("not resumed");
    return cpu_ns() - t0;
}

__attribute__((noinline)) static double timed_fulls(SSL_CTX *cctx, SSL_CTX *sctx, long k)
{
    double t0 = cpu_ns();
    for (long i = 0; i < k; i++)
        if (handshake(cctx, sctx, NULL, NULL) != 0)
            die("resumed a new connection");
    return cpu_ns() - t0;
}

struct worker {
    SSL_CTX *sctx, *cctx;
    SSL_SESSION *sess;
    SSL_SESSION **fresh;
    long k;
};

__attribute__((noinline)) static void *timed_worker(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start_line);
    for (long j = 0; j < w->k; j++) {
        if (handshake(w->cctx, w->sctx, w->sess, NULL) != 1)
            die("thread: not resumed");
        SSL_CTX_add_session(w->sctx, w->fresh[j]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        die("usage: tlsbench WORKLOAD N K [THREADS]");
    const char *w = argv[1];
    long n = atol(argv[2]), k = atol(argv[3]);
    base_time = (long)time(NULL);
    make_cert();
    if (strcmp(w, "resume") == 0 || strcmp(w, "full") == 0) {
        SSL_CTX *sctx = server_ctx(n + k + 16), *cctx = client_ctx();
        prefill(sctx, n);
        SSL_SESSION *sess = NULL;
        handshake(cctx, sctx, NULL, &sess);
        if (sess == NULL)
            die("no session");
        /* warm-up: the first few handshakes load code and fill caches */
        for (int i = 0; i < 20; i++)
            handshake(cctx, sctx, sess, NULL);
        profile(1);
        double spent = strcmp(w, "resume") == 0 ? timed_resumes(cctx, sctx, sess, k) : timed_fulls(cctx, sctx, k);
        profile(0);
        result(w, n, spent / (double)k / 1000.0, "us/handshake", k);
        SSL_SESSION_free(sess);
        SSL_CTX_free(cctx);
        if (n >= 100000) {
            fflush(stdout);
            _exit(0);
        }
        SSL_CTX_free(sctx);
    } else if (strcmp(w, "threads") == 0) {
        int threads = argc > 4 ? atoi(argv[4]) : 1;
        SSL_CTX *sctx = server_ctx(n + 1);
        prefill(sctx, n);
        struct worker *ws = calloc((size_t)threads, sizeof *ws);
        if (ws == NULL)
            die("calloc");
        for (int t = 0; t < threads; t++) {
            ws[t].sctx = sctx;
            ws[t].cctx = client_ctx();
            ws[t].k = k;
            handshake(ws[t].cctx, sctx, NULL, &ws[t].sess);
            ws[t].fresh = malloc(sizeof *ws[t].fresh * (size_t)k);
            if (ws[t].sess == NULL || ws[t].fresh == NULL)
                die("worker setup");
            for (long j = 0; j < k; j++)
                ws[t].fresh[j] = synthetic((uint64_t)(n + (long)t * k + j));
        }
        double spent = run_timed_threads(threads, timed_worker, ws, sizeof *ws);
        char name[32];
        snprintf(name, sizeof name, "tls-threads%d", threads);
        result(name, n, (double)threads * (double)k / (spent / 1e9) / 1000.0, "kiter/s", (long)threads * k);
        fflush(stdout);
        _exit(0);
    } else {
        die("unknown workload");
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return 0;
}
