/*
 * Cache-API benchmarks for `make bench`: one C source written against OpenSSL 3's session-cache
 * API, built two ways by bench/run.sh:
 *   - against the system's libssl (-lssl -lcrypto), run plain and with
 *     LD_PRELOAD=target/release/libsesscache.so (libssl's session objects, sesscache's cache);
 *   - natively against sesscache (-DBENCH_NATIVE -I include -lsesscache): sesscache's own
 *     objects, no libssl in the process.
 * The program uses only functions both provide, so each mode runs the same code.
 *
 * usage: cachebench WORKLOAD N [K] [THREADS]
 *   add-equal N K    K adds into a cache of N: one timeout (300 s), times that never decrease
 *                    (as a server makes sessions). Cache size above N+K: nothing is evicted.
 *   add-mixed N K    K adds into a cache of N whose sessions have timeouts from 60 to 7200 s;
 *                    each new session's expiry falls uniformly inside the cached range.
 *   add-old N K      K adds into a cache of N (one timeout, times spread over the last 300 s)
 *                    of new session objects carrying old times from that range, as an external
 *                    cache hands sessions back (d2i makes a new object with the old time).
 *   remove N K       K SSL_CTX_remove_session of random cached sessions from a cache of N.
 *   flush N          one SSL_CTX_flush_sessions(ctx, t) on a cache of N where exactly 1% of
 *                    the sessions are timed out at t.
 *                    Both: below N = 100K, the median of 31 rounds, each on a fresh cache.
 *   threads N K T    T threads on one SSL_CTX holding N sessions (cache size N+1: steady-state
 *                    eviction, one per add), each doing K iterations of: one SSL_CTX_add_session of a new
 *                    session, then four SSL_has_matching_session_id lookups of cached ids.
 *   threads-private N K T  the same work, but each thread on its own SSL_CTX: nothing shared,
 *                    so its scaling is what `threads` would reach if sharing cost nothing.
 *   spin N K T       calibration, no SSL call: T threads each doing K iterations of private
 *                    arithmetic (about as long as one threads iteration). Its 2-thread scaling
 *                    is what this machine offers at that moment to work that stays in cache.
 *   memspin N K T    calibration, no SSL call: T threads each doing K iterations of 16 random
 *                    reads over one 256 MB array, work that waits on memory as the cache
 *                    workloads do. Its scaling is the machine's ceiling for such work.
 *   scaling N K R [W] two threads against one in one process: R rounds of a 1-thread phase and
 *                    a 2-thread phase of W (threads, spin or memspin; K iterations a thread)
 *                    back to back on one cache; prints the median of the rounds' ratios.
 *   memory N         RSS growth per session for making N sessions and caching them (the
 *                    program drops its own references: the cache holds them).
 *   objects N        RSS growth per session for N session objects alone, no cache (the
 *                    baseline that memory's figure includes).
 * Every add workload times only the adds: session objects are built before the timed loop
 * and the program's own references are dropped outside it. To keep the cache near N the K adds
 * go in batches of max(1, N/10); each batch is removed (untimed) before the next. A run stops
 * early after BENCH_BUDGET_MS (default 1500) of timed work, so libssl's O(n) paths stay
 * bounded. remove and flush below 100K report the median of 31 rounds (BENCH_ROUNDS).
 *
 * Output: one line, "RESULT <workload> <n> <value> <unit> <count>".
 */
#define _GNU_SOURCE
#include <openssl/ssl.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#ifdef BENCH_NATIVE
#define MODE_NAME "native"
#else
#define MODE_NAME "libssl"
#endif




static void die(const char *what)
{
    fprintf(stderr, "cachebench: %s\n", what);
    exit(2);
}

#include "common.h"

/* The key version sessions get: what SSL_version says for a fresh server connection, so that
 * SSL_has_matching_session_id finds them (libssl and sesscache both say TLS1_3_VERSION). */
static int key_version = TLS1_2_VERSION;

static void session_id(uint64_t i, unsigned char id[32])
{
    uint64_t seed = i * 0x2545f4914f6cdd1dULL + 17;
    for (int w = 0; w < 4; w++) {
        uint64_t v = splitmix(&seed);
        memcpy(id + 8 * w, &v, 8);
    }
}

static const unsigned char master_key[48] = {1, 2, 3, 4, 5, 6, 7, 8};

static SSL_SESSION *make_session(uint64_t i, long t, long timeout)
{
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char id[32];
    if (s == NULL)
        die("SSL_SESSION_new");
    session_id(i, id);
    /* A 48-byte master key, as every real TLS 1.2 session has (libssl keeps it inline,
     * sesscache natively on the heap): memory figures include it. */
    if (!SSL_SESSION_set1_id(s, id, sizeof id) || !SSL_SESSION_set_protocol_version(s, key_version) ||
        !SSL_SESSION_set1_master_key(s, master_key, sizeof master_key))
        die("session setters");
    SSL_SESSION_set_time(s, t);
    SSL_SESSION_set_timeout(s, timeout);
    return s;
}

static SSL_CTX *make_ctx(long size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        die("SSL_CTX_new");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, size);
    return ctx;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2)
        die("/proc/self/statm");
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static double budget_ns(void)
{
    const char *b = getenv("BENCH_BUDGET_MS");
    return (b ? atof(b) : 1500.0) * 1e6;
}


/* Sessions made with make_session(i, time(i), timeout(i)) for i in [from, from+count). */
typedef void (*times_fn)(uint64_t i, uint64_t *rng, long *t, long *timeout);

static long base_time;
static long n_global;
/* The thread workloads' lookups pick ids in [lookup_lo, lookup_lo + N/2): the newest half of
 * the cache. */
static long lookup_lo;

/* Equal timeouts, non-decreasing times: 1000 sessions a second. */
static void times_equal(uint64_t i, uint64_t *rng, long *t, long *timeout)
{
    (void)rng;
    *t = base_time + (long)(i / 1000);
    *timeout = 300;
}

/* Mixed timeouts. The prefill (i < n) comes in order of expiry (so that building it costs
 * libssl O(1) per add: it is not what is measured); expiries span 7200 s. The timed sessions
 * get an expiry drawn uniformly from that span and a timeout from 60 to 7200 s. */
static void times_mixed(uint64_t i, uint64_t *rng, long *t, long *timeout)
{
    long expiry;
    if ((long)i < n_global)
        expiry = base_time + 7200 + (long)((double)i * 7200.0 / (double)n_global);
    else
        expiry = base_time + 7200 + (long)(splitmix(rng) % 7200);
    *timeout = 60 + (long)(splitmix(rng) % 7141);
    *t = expiry - *timeout;
}

/* Old times: the prefill spans the last 300 s, one timeout; the timed sessions carry a time
 * drawn uniformly from that span. */
static void times_old(uint64_t i, uint64_t *rng, long *t, long *timeout)
{
    if ((long)i < n_global)
        *t = base_time - 300 + (long)((double)i * 300.0 / (double)n_global);
    else
        *t = base_time - 300 + (long)(splitmix(rng) % 300);
    *timeout = 300;
}

static void prefill(SSL_CTX *ctx, long n, times_fn times, uint64_t *rng)
{
    for (long i = 0; i < n; i++) {
        long t, to;
        times((uint64_t)i, rng, &t, &to);
        SSL_SESSION *s = make_session((uint64_t)i, t, to);
        if (SSL_CTX_add_session(ctx, s) != 1)
            die("prefill add");
        SSL_SESSION_free(s); /* the cache holds the only reference */
    }
    if (SSL_CTX_sess_number(ctx) != n)
        die("prefill count");
}


/* Adds fresh[start..end) and returns how many it added: fewer when the budget runs out. */
__attribute__((noinline)) static long timed_add_batch(SSL_CTX *ctx, SSL_SESSION **fresh, long start, long end,
                                                      long *stride, double *spent, double budget)
{
    long done = start, next_check = start + 1;
    double t0 = cpu_ns();
    for (long j = start; j < end; j++) {
        if (SSL_CTX_add_session(ctx, fresh[j]) != 1)
            die("timed add");
        done = j + 1;
        /* Slow paths (libssl's list walk) stop on the budget; the clock is read at doubling
         * intervals (at most every 4096 adds) so fast paths barely pay for it. */
        if (done == next_check) {
            double e = cpu_ns() - t0;
            if (*spent + e > budget)
                break;
            if (*stride < 4096 && e / (double)(done - start) * (double)(2 * *stride) < 1e6)
                *stride *= 2;
            next_check = done + *stride;
        }
    }
    *spent += cpu_ns() - t0;
    return done;
}

static void bench_add(const char *w, long n, long k, times_fn times)
{
    uint64_t rng = 42;
    SSL_CTX *ctx = make_ctx(n + k + 16);
    prefill(ctx, n, times, &rng);
    SSL_SESSION **fresh = malloc(sizeof *fresh * (size_t)k);
    if (fresh == NULL)
        die("malloc");
    for (long j = 0; j < k; j++) {
        long t, to;
        times((uint64_t)(n + j), &rng, &t, &to);
        fresh[j] = make_session((uint64_t)(n + j), t, to);
    }
    long batch = n / 10 > 1 ? n / 10 : 1;
    double budget = budget_ns(), spent = 0;
    long done = 0, stride = 1;
    while (done < k && spent < budget) {
        long end = done + batch < k ? done + batch : k;
        long start = done;
        profile(1);
        done = timed_add_batch(ctx, fresh, start, end, &stride, &spent, budget);
        profile(0);
        for (long j = start; j < done; j++) /* back to n cached, untimed */
            SSL_CTX_remove_session(ctx, fresh[j]);
    }
    if (SSL_CTX_sess_number(ctx) != n)
        die("cache size after the batches");
    result(w, n, spent / (double)done, "ns/add", done);
    for (long j = 0; j < k; j++)
        SSL_SESSION_free(fresh[j]);
    free(fresh);
    if (n >= 100000) {
        /* Tearing down a big cache costs seconds and is not measured. */
        fflush(stdout);
        _exit(0);
    }
    SSL_CTX_free(ctx);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static double timed_removes(SSL_CTX *ctx, SSL_SESSION **all, long k)
{
    double t0 = cpu_ns();
    for (long i = 0; i < k; i++)
        if (SSL_CTX_remove_session(ctx, all[i]) != 1)
            die("timed remove");
    return cpu_ns() - t0;
}

/* Below 100K one round is short (at 1K: about 100 us of removals, 10 us for a flush), shorter
 * than this machine's interruptions and first-touch page faults: such sizes run ROUNDS_SMALL
 * rounds (BENCH_ROUNDS, when set, instead) in one process, each on a fresh cache, and report
 * the median round. */
#define ROUNDS_SMALL 31
static long rounds_for(long n)
{
    const char *r = getenv("BENCH_ROUNDS");
    long small = r != NULL && atol(r) > 0 ? atol(r) : ROUNDS_SMALL;
    return n < 100000 ? small : 1;
}

static double median_of(double *v, long count)
{
    qsort(v, (size_t)count, sizeof *v, by_value);
    return v[count / 2];
}

/* One round of `remove`: the time of K removals from a fresh cache of N. */
static double remove_round(long n, long k, uint64_t rng, int last)
{
    SSL_CTX *ctx = make_ctx(n + 16);
    SSL_SESSION **all = malloc(sizeof *all * (size_t)n);
    if (all == NULL)
        die("malloc");
    for (long i = 0; i < n; i++) {
        long t, to;
        times_equal((uint64_t)i, &rng, &t, &to);
        all[i] = make_session((uint64_t)i, t, to);
        if (SSL_CTX_add_session(ctx, all[i]) != 1)
            die("prefill add");
    }
    /* K distinct victims in random order (Fisher-Yates over the first K slots). */
    for (long i = 0; i < k; i++) {
        long j = i + (long)(splitmix(&rng) % (uint64_t)(n - i));
        SSL_SESSION *x = all[i];
        all[i] = all[j];
        all[j] = x;
    }
    profile(1);
    double spent = timed_removes(ctx, all, k);
    profile(0);
    if (SSL_CTX_sess_number(ctx) != n - k)
        die("count after removes");
    if (last && n >= 100000)
        return spent; /* the process exits next: no teardown of a large cache */
    for (long i = 0; i < n; i++)
        SSL_SESSION_free(all[i]);
    free(all);
    SSL_CTX_free(ctx);
    return spent;
}

static void bench_remove(long n, long k)
{
    if (k > n)
        k = n;
    long rounds = rounds_for(n);
    double *spent = malloc(sizeof *spent * (size_t)rounds);
    if (spent == NULL)
        die("malloc");
    for (long r = 0; r < rounds; r++)
        spent[r] = remove_round(n, k, 7 + (uint64_t)r, r == rounds - 1);
    result("remove", n, median_of(spent, rounds) / (double)k, "ns/remove", k);
    free(spent);
    if (n >= 100000) {
        fflush(stdout);
        _exit(0);
    }
}

__attribute__((noinline)) static double timed_flush(SSL_CTX *ctx, long t)
{
    double t0 = cpu_ns();
    SSL_CTX_flush_sessions(ctx, t);
    return cpu_ns() - t0;
}

/* One round of `flush`: the time of one flush of a fresh cache of N where 1% timed out. */
static double flush_round(long n, int last)
{
    SSL_CTX *ctx = make_ctx(n + 16);
    /* Times spread over 100 s, timeout 300: at base+301 the first 1% have timed out. */
    for (long i = 0; i < n; i++) {
        SSL_SESSION *s = make_session((uint64_t)i, base_time + (long)((double)i * 100.0 / (double)n), 300);
        if (SSL_CTX_add_session(ctx, s) != 1)
            die("prefill add");
        SSL_SESSION_free(s);
    }
    profile(1);
    double spent = timed_flush(ctx, base_time + 301);
    profile(0);
    if (n - SSL_CTX_sess_number(ctx) != n / 100)
        die("flush did not remove exactly 1%");
    if (!(last && n >= 100000))
        SSL_CTX_free(ctx);
    return spent;
}

static void bench_flush(long n)
{
    long rounds = rounds_for(n);
    double *spent = malloc(sizeof *spent * (size_t)rounds);
    if (spent == NULL)
        die("malloc");
    for (long r = 0; r < rounds; r++)
        spent[r] = flush_round(n, r == rounds - 1);
    result("flush", n, median_of(spent, rounds) / 1000.0, "us/flush", n / 100);
    free(spent);
    if (n >= 100000) {
        fflush(stdout);
        _exit(0);
    }
}

struct worker {
    SSL_CTX *ctx;
    SSL *ssl;
    SSL_SESSION **fresh;
    long k;
    uint64_t rng;
    long hits;
};

__attribute__((noinline)) static void *timed_worker(void *arg)
{
    struct worker *w = arg;
    unsigned char id[32];
    pthread_barrier_wait(&start_line);
    for (long j = 0; j < w->k; j++) {
        SSL_CTX_add_session(w->ctx, w->fresh[j]);
        for (int r = 0; r < 4; r++) {
            /* Recent sessions: the newest half of the cache, which eviction reaches last. */
            session_id((uint64_t)(lookup_lo + (long)(splitmix(&w->rng) % (uint64_t)(n_global / 2))), id);
            w->hits += SSL_has_matching_session_id(w->ssl, id, sizeof id);
        }
    }
    return NULL;
}

/* What bench_threads runs: the cache workload, or a calibration. */
enum thread_work { WORK_CACHE, WORK_SPIN, WORK_MEMSPIN };
static enum thread_work thread_work;
static int private_ctx;

/* memspin's array: 32M words, far beyond any cache here. */
#define MEMSPIN_WORDS (32L << 20)
static uint64_t *memspin_array;

__attribute__((noinline)) static void *timed_memspin(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start_line);
    uint64_t acc = 0;
    for (long j = 0; j < w->k; j++)
        for (int r = 0; r < 16; r++)
            acc += memspin_array[splitmix(&w->rng) % (uint64_t)MEMSPIN_WORDS];
    w->hits = (long)(acc | 1);
    return NULL;
}

__attribute__((noinline)) static void *timed_spin(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start_line);
    uint64_t acc = 0;
    for (long j = 0; j < w->k; j++)
        for (int r = 0; r < 1000; r++)
            acc += splitmix(&w->rng);
    w->hits = (long)(acc | 1);
    return NULL;
}

/* Prepares the cache the thread workloads share: N sessions in a context of size N+1, so each
 * add evicts one; and memspin's array when that calibration runs. */
static SSL_CTX *thread_setup(long n, uint64_t *rng)
{
    SSL_CTX *ctx = make_ctx(n + 1); /* holds n; each add then evicts one */
    prefill(ctx, n, times_equal, rng);
    lookup_lo = n / 2;
    if (thread_work == WORK_MEMSPIN && memspin_array == NULL) {
        memspin_array = malloc(sizeof *memspin_array * (size_t)MEMSPIN_WORDS);
        if (memspin_array == NULL)
            die("malloc");
        for (long i = 0; i < MEMSPIN_WORDS; i++)
            memspin_array[i] = (uint64_t)i;
    }
    return ctx;
}

/* One timed phase: `threads` workers on ctx (each on its own context with private_ctx), each
 * doing k iterations; the sessions they add get ids from first_id on. Returns thousands of
 * iterations a second, all threads together. Frees everything it made but ctx. */
static double thread_phase(SSL_CTX *ctx, long n, long k, int threads, long first_id, uint64_t *rng)
{
    struct worker *ws = calloc((size_t)threads, sizeof *ws);
    if (ws == NULL)
        die("calloc");
    for (int t = 0; t < threads; t++) {
        ws[t].ctx = ctx;
        if (private_ctx && t > 0) {
            ws[t].ctx = make_ctx(n + 1);
            prefill(ws[t].ctx, n, times_equal, rng);
        }
        ws[t].ssl = SSL_new(ws[t].ctx);
        ws[t].k = k;
        ws[t].rng = 1000 + (uint64_t)first_id + (uint64_t)t;
        ws[t].fresh = malloc(sizeof *ws[t].fresh * (size_t)k);
        if (ws[t].ssl == NULL || ws[t].fresh == NULL)
            die("worker setup");
        for (long j = 0; j < k; j++) {
            uint64_t i = (uint64_t)(first_id + (long)t * k + j);
            ws[t].fresh[j] = make_session(i, base_time + (long)(i / 1000), 300);
        }
    }
    double spent = run_timed_threads(threads,
                                     thread_work == WORK_SPIN      ? timed_spin
                                     : thread_work == WORK_MEMSPIN ? timed_memspin
                                                                   : timed_worker,
                                     ws, sizeof *ws);
    long hits = 0;
    for (int t = 0; t < threads; t++)
        hits += ws[t].hits;
    if (hits == 0)
        die("no lookup hit");
    for (int t = 0; t < threads; t++) {
        for (long j = 0; j < k; j++)
            SSL_SESSION_free(ws[t].fresh[j]);
        free(ws[t].fresh);
        SSL_free(ws[t].ssl);
        if (ws[t].ctx != ctx)
            SSL_CTX_free(ws[t].ctx);
    }
    free(ws);
    return (double)threads * (double)k / (spent / 1e9) / 1000.0;
}

static const char *thread_work_name(void)
{
    return thread_work == WORK_SPIN ? "spin" : thread_work == WORK_MEMSPIN ? "memspin" : private_ctx ? "threads-private" : "threads";
}

static void bench_threads(long n, long k, int threads)
{
    uint64_t rng = 99;
    SSL_CTX *ctx = thread_setup(n, &rng);
    double rate = thread_phase(ctx, n, k, threads, n, &rng);
    char name[32];
    snprintf(name, sizeof name, "%s%d", thread_work_name(), threads);
    result(name, n, rate, "kiter/s", (long)threads * k);
    if (n >= 100000) {
        fflush(stdout);
        _exit(0);
    }
    free(memspin_array);
    SSL_CTX_free(ctx);
}

/* Two threads against one, in one process: rounds of a 1-thread phase then a 2-thread phase
 * on the same cache, back to back, so that both see the machine in the same state (on a
 * shared machine, runs seconds apart can differ by half). Result: the median of the rounds'
 * ratios. Each phase's sessions get new ids, and the lookups follow the newest half of the
 * cache. */
static void bench_scaling(long n, long k, int rounds)
{
    uint64_t rng = 99;
    SSL_CTX *ctx = thread_setup(n, &rng);
    double *ratios = malloc(sizeof *ratios * (size_t)rounds);
    if (ratios == NULL || rounds < 1)
        die("rounds");
    long id = n;
    for (int r = 0; r < rounds; r++) {
        lookup_lo = id - n / 2;
        double one = thread_phase(ctx, n, k, 1, id, &rng);
        id += k;
        lookup_lo = id - n / 2;
        double two = thread_phase(ctx, n, k, 2, id, &rng);
        id += 2 * k;
        ratios[r] = two / one;
        fprintf(stderr, "scaling %s round %d: 1 thread %.1f, 2 threads %.1f kiter/s: %.2fx\n", thread_work_name(), r + 1, one,
                two, ratios[r]);
    }
    qsort(ratios, (size_t)rounds, sizeof *ratios, by_value);
    char name[40];
    snprintf(name, sizeof name, "scaling-%s", thread_work_name());
    result(name, n, ratios[rounds / 2], "x", rounds);
    free(ratios);
    free(memspin_array);
    if (n >= 100000) {
        fflush(stdout);
        _exit(0);
    }
    SSL_CTX_free(ctx);
}

static void bench_memory(long n, int cached)
{
    uint64_t rng = 5;
    SSL_CTX *ctx = make_ctx(n + 16);
    /* Warm up the allocator and whatever the first add sets up. */
    SSL_SESSION *warm = make_session(UINT64_MAX, base_time, 300);
    SSL_CTX_add_session(ctx, warm);
    SSL_CTX_remove_session(ctx, warm);
    SSL_SESSION_free(warm);
    SSL_SESSION **keep = cached ? NULL : malloc(sizeof *keep * (size_t)n);
    long before = rss_bytes();
    for (long i = 0; i < n; i++) {
        long t, to;
        times_equal((uint64_t)i, &rng, &t, &to);
        SSL_SESSION *s = make_session((uint64_t)i, t, to);
        if (cached) {
            if (SSL_CTX_add_session(ctx, s) != 1)
                die("add");
            SSL_SESSION_free(s);
        } else {
            keep[i] = s;
        }
    }
    long after = rss_bytes();
    if (cached && SSL_CTX_sess_number(ctx) != n)
        die("count");
    result(cached ? "memory" : "objects", n, (double)(after - before) / (double)n, "B/session", n);
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: cachebench WORKLOAD N [K] [THREADS]");
    const char *w = argv[1];
    long n = atol(argv[2]);
    long k = argc > 3 ? atol(argv[3]) : 1000;
    n_global = n;
    base_time = (long)time(NULL);
    if (n < 1 || k < 1)
        die("N and K must be positive");
    {
        SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
        SSL *ssl = probe ? SSL_new(probe) : NULL;
        if (ssl == NULL)
            die("probe");
        key_version = SSL_version(ssl);
        SSL_free(ssl);
        SSL_CTX_free(probe);
    }
    if (strcmp(w, "add-equal") == 0)
        bench_add(w, n, k, times_equal);
    else if (strcmp(w, "add-mixed") == 0)
        bench_add(w, n, k, times_mixed);
    else if (strcmp(w, "add-old") == 0)
        bench_add(w, n, k, times_old);
    else if (strcmp(w, "remove") == 0)
        bench_remove(n, k);
    else if (strcmp(w, "flush") == 0)
        bench_flush(n);
    else if (strcmp(w, "threads") == 0)
        bench_threads(n, k, argc > 4 ? atoi(argv[4]) : 1);
    else if (strcmp(w, "threads-private") == 0) {
        private_ctx = 1;
        bench_threads(n, k, argc > 4 ? atoi(argv[4]) : 1);
    } else if (strcmp(w, "spin") == 0) {
        thread_work = WORK_SPIN;
        bench_threads(n, k, argc > 4 ? atoi(argv[4]) : 1);
    } else if (strcmp(w, "memspin") == 0) {
        thread_work = WORK_MEMSPIN;
        bench_threads(n, k, argc > 4 ? atoi(argv[4]) : 1);
    } else if (strcmp(w, "scaling") == 0) {
        const char *work = argc > 5 ? argv[5] : "threads";
        if (strcmp(work, "spin") == 0)
            thread_work = WORK_SPIN;
        else if (strcmp(work, "memspin") == 0)
            thread_work = WORK_MEMSPIN;
        else if (strcmp(work, "threads") != 0)
            die("scaling: WORK is threads, spin or memspin");
        bench_scaling(n, k, argc > 4 ? atoi(argv[4]) : 5);
    } else if (strcmp(w, "memory") == 0)
        bench_memory(n, 1);
    else if (strcmp(w, "objects") == 0)
        bench_memory(n, 0);
    else
        die("unknown workload");
    return 0;
}
