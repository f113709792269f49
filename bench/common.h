/*
 * What the C benchmarks share: their clocks, a small PRNG, the result line bench/run.sh reads,
 * the perf control hooks of bench/profile.sh, and the start and timing of threaded workloads. The includer defines `die` first.
 */
#ifndef SESSCACHE_BENCH_COMMON_H
#define SESSCACHE_BENCH_COMMON_H

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Wall-clock time, for the multi-threaded workloads (throughput). */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The calling thread's CPU time, for the single-threaded workloads: on a shared machine it
 * leaves out the time other processes hold the core (cache and memory stalls still count).
 * BENCH_CLOCK=wall times them by the wall clock instead. */
static double cpu_ns(void)
{
    static int wall = -1;
    if (wall < 0) {
        const char *c = getenv("BENCH_CLOCK");
        wall = c != NULL && strcmp(c, "wall") == 0;
    }
    if (wall)
        return now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void result(const char *w, long n, double value, const char *unit, long count)
{
    printf("RESULT %s %ld %.3f %s %ld\n", w, n, value, unit, count);
    fflush(stdout);
}

/* Profiling hooks: bench/profile.sh runs perf with a control FIFO (BENCH_PERF_CTL, and
 * BENCH_PERF_ACK for its answers) so that only the timed regions are sampled; callgrind uses
 * --toggle-collect on the timed_* functions, which stay out of line for that. */
static void profile(int on)
{
    static int ctl = -2, ack = -1;
    if (ctl == -2) {
        const char *c = getenv("BENCH_PERF_CTL"), *a = getenv("BENCH_PERF_ACK");
        ctl = c ? open(c, O_WRONLY) : -1;
        ack = a ? open(a, O_RDONLY) : -1;
    }
    if (ctl < 0)
        return;
    const char *cmd = on ? "enable\n" : "disable\n";
    if (write(ctl, cmd, strlen(cmd)) < 0)
        die("perf control");
    char buf[16];
    if (ack >= 0 && read(ack, buf, sizeof buf) < 0)
        die("perf ack");
}

/* Where the threaded workloads' workers wait, so that all of them start at once. */
static pthread_barrier_t start_line;

/* Runs `work` on `threads` threads, the t-th given args + t * size; each waits on start_line
 * before its timed part. Returns the wall time in ns from their release to the last join,
 * with the profiler on meanwhile. */
static double run_timed_threads(int threads, void *(*work)(void *), void *args, size_t size)
{
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (tids == NULL)
        die("calloc");
    pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, work, (char *)args + (size_t)t * size) != 0)
            die("pthread_create");
    profile(1);
    double t0 = now_ns();
    pthread_barrier_wait(&start_line);
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    double spent = now_ns() - t0;
    profile(0);
    pthread_barrier_destroy(&start_line);
    free(tids);
    return spent;
}

#endif
