/*
 * The order of the cache's session list, seen through evictions by the size limit and through
 * flush(0) remove callbacks: equal timeouts with different times, mixed per-session timeouts,
 * ties (equal time+timeout) against the head, the tail and the middle, re-adding a cached
 * session, SSL_SESSION_set_time/set_timeout on cached sessions, time+timeout overflowing
 * (times near LONG_MAX), and negative times.
 */
#include "scenario.h"
#include <limits.h>

struct spec {
    unsigned char tag;
    long time;
    long timeout;
};

static SSL_CTX *ctx_with(const struct spec *sp, int n, long size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_cache_size(ctx, size);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    for (int i = 0; i < n; i++) {
        SSL_SESSION *s = make_session(sp[i].tag, sp[i].time, sp[i].timeout);
        printf("  [tag %d time %ld timeout %ld] ", sp[i].tag, sp[i].time, sp[i].timeout);
        add_show(ctx, s);
        SSL_SESSION_free(s);
    }
    return ctx;
}

/* Adds the sessions to an unlimited cache and dumps the order by flush(0). */
static void order_case(const char *name, const struct spec *sp, int n)
{
    SSL_CTX *ctx;

    printf("== %s (flush order)\n", name);
    ctx = ctx_with(sp, n, 0);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);
}

/* Adds the sessions to an unlimited cache, then limits it to 2 and adds a filler session
 * per remaining entry: each add evicts the current tail (the size limit keeps size-1). */
static void evict_case(const char *name, const struct spec *sp, int n)
{
    SSL_CTX *ctx;
    long r;

    printf("== %s (eviction order)\n", name);
    ctx = ctx_with(sp, n, 0);
    r = SSL_CTX_sess_set_cache_size(ctx, 2);
    printf("set cache size 2 -> %ld\n", r);
    {
        /* a filler that expires after everything (but does not overflow) */
        SSL_SESSION *f = make_session(0xf0, LONG_MAX / 2, 100);
        printf("filler: ");
        add_show(ctx, f);
        SSL_SESSION_free(f);
    }
    dump_order("end", ctx);
    SSL_CTX_free(ctx);
}

static void both(const char *name, const struct spec *sp, int n)
{
    order_case(name, sp, n);
    evict_case(name, sp, n);
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A fixed linear congruential generator: the same sequence on every run and platform. */
static unsigned long lcg_state;

static unsigned long lcg(void)
{
    lcg_state = (lcg_state * 6364136223846793005UL + 1442695040888963407UL)
                & 0xffffffffffffffffUL;
    return lcg_state >> 33;
}

static long pick_time(void)
{
    static const long special[] = { LONG_MAX, LONG_MAX - 1, LONG_MIN, -1, 0, 1,
                                    LONG_MAX / 2, -1000 };
    unsigned long r = lcg();
    if (r % 10 == 0)
        return special[(r / 10) % 8];
    return 1000 + (long)(lcg() % 200);
}

static long pick_timeout(void)
{
    static const long special[] = { 0, LONG_MAX, LONG_MAX - 1000, 1 };
    unsigned long r = lcg();
    if (r % 12 == 0)
        return special[(r / 12) % 4];
    return (long)(lcg() % 100);
}

/* Mixed operations on a size-limited cache with ids drawn from a small pool (so re-adds,
 * same-id replacements and removes of absent sessions happen), logging every eviction. */
static void stress(unsigned long seed, long size, int steps)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_SESSION *pool[24];

    printf("== stress seed %lu size %ld steps %d\n", seed, size, steps);
    lcg_state = seed;
    SSL_CTX_sess_set_cache_size(ctx, size);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
    for (int i = 0; i < 24; i++) {
        /* One draw per statement: the order of a call's arguments is the compiler's choice. */
        long t = pick_time();
        long to = pick_timeout();
        pool[i] = make_session((unsigned char)(i + 1), t, to);
        if (i % 3 == 0)
            SSL_SESSION_set_protocol_version(pool[i], TLS1_3_VERSION);
    }
    for (int step = 0; step < steps; step++) {
        unsigned long op = lcg() % 100;
        int k = (int)(lcg() % 24);
        SSL_SESSION *s = pool[k];
        if (op < 45) {
            printf("%d: ", step);
            add_show(ctx, s);
        } else if (op < 55) {
            /* a fresh object with the same id replaces the pool entry */
            long t = pick_time();
            long to = pick_timeout();
            SSL_SESSION *n = make_session((unsigned char)(k + 1), t, to);
            SSL_SESSION_set_protocol_version(n, SSL_SESSION_get_protocol_version(s));
            SSL_SESSION_free(s);
            pool[k] = n;
            printf("%d: new object ", step);
            add_show(ctx, n);
        } else if (op < 65) {
            long t = pick_time(), r = SSL_SESSION_set_time(s, t);
            printf("%d: set_time tag %d %ld -> %ld\n", step, k + 1, t, r);
        } else if (op < 73) {
            long t = pick_timeout(), r = SSL_SESSION_set_timeout(s, t);
            printf("%d: set_timeout tag %d %ld -> %ld\n", step, k + 1, t, r);
        } else if (op < 85) {
            printf("%d: ", step);
            remove_show(ctx, s);
        } else if (op < 92) {
            long t = 1000 + (long)(lcg() % 300);
            printf("%d: ", step);
            flush_show(ctx, t);
        } else if (op < 96) {
            long m = (lcg() % 2) ? SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME
                                 : SSL_SESS_CACHE_SERVER;
            /* UPDATE_TIME stamps "now": keep it for a single add, then print no times */
            SSL_CTX_set_session_cache_mode(ctx, m);
            printf("%d: mode %#lx, ", step, (unsigned long)m);
            SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
            add_show(ctx, s);
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
            if (m & SSL_SESS_CACHE_UPDATE_TIME)
                SSL_SESSION_set_time(s, pick_time());
            SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
        } else {
            long n = 1 + (long)(lcg() % (unsigned long)(size + 3));
            long r = SSL_CTX_sess_set_cache_size(ctx, n);
            printf("%d: set cache size %ld -> %ld\n", step, n, r);
        }
    }
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    for (int i = 0; i < 24; i++)
        SSL_SESSION_free(pool[i]);
    SSL_CTX_free(ctx);
}

static int pair_first_tag;

static void pair_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx;
    if (pair_first_tag == 0)
        pair_first_tag = session_tag(s);
}

/* 1 when B, added after A, is placed at the head (list order B >= A), 0 when at the tail:
 * flush(0) walks from the tail, so the first session it removes tells which. */
static int placed_after(const struct spec *b, const struct spec *a)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_SESSION *sa = make_session(1, a->time, a->timeout);
    SSL_SESSION *sb = make_session(2, b->time, b->timeout);
    SSL_CTX_sess_set_remove_cb(ctx, pair_cb);
    SSL_CTX_add_session(ctx, sa);
    SSL_CTX_add_session(ctx, sb);
    pair_first_tag = 0;
    SSL_CTX_flush_sessions(ctx, 0);
    SSL_SESSION_free(sa);
    SSL_SESSION_free(sb);
    SSL_CTX_free(ctx);
    return pair_first_tag == 1;
}

static void pair_matrix(const char *name, const struct spec *sp, int n)
{
    printf("== %s: pairwise order (row B added after column A: 1 = B ahead of A)\n", name);
    for (int b = 0; b < n; b++) {
        printf("[%ld,%ld]\t", sp[b].time, sp[b].timeout);
        for (int a = 0; a < n; a++) {
            int r = placed_after(&sp[b], &sp[a]);
            printf("%d", r);
        }
        printf("\n");
    }
}

int main(void)
{
    static const struct spec equal_timeouts[] = {
        { 1, 1030, 100 }, { 2, 1010, 100 }, { 3, 1040, 100 }, { 4, 1000, 100 }, { 5, 1020, 100 },
    };
    static const struct spec mixed_timeouts[] = {
        { 1, 1000, 500 }, { 2, 1100, 100 }, { 3, 1050, 300 }, { 4, 900, 250 },
        { 5, 1200, 0 }, { 6, 0, 1150 },
    };
    static const struct spec ties[] = {
        { 1, 1000, 100 }, { 2, 1050, 50 }, { 3, 1100, 0 }, { 4, 900, 200 }, { 5, 1000, 100 },
    };
    static const struct spec ties_head_tail_middle[] = {
        { 1, 100, 0 }, { 2, 200, 0 }, { 3, 300, 0 },
        { 4, 300, 0 }, /* tie with the head */
        { 5, 100, 0 }, /* tie with the tail */
        { 6, 200, 0 }, /* tie in the middle */
        { 7, 150, 50 }, /* tie in the middle, other time/timeout split */
        { 8, 50, 50 }, /* tie with the tail again */
    };
    static const struct spec overflow[] = {
        { 1, 1000, 100 },
        { 2, LONG_MAX - 10, 100 }, /* time + timeout overflows */
        { 3, LONG_MAX, 1 }, /* overflows */
        { 4, LONG_MAX - 100, 100 }, /* exactly LONG_MAX */
        { 5, LONG_MAX - 100, 99 }, /* LONG_MAX - 1 */
        { 6, 2000, 100 },
        { 7, LONG_MAX / 2 + 1, LONG_MAX / 2 + 1 }, /* overflows */
        { 8, LONG_MAX, 0 },
    };
    static const struct spec negative[] = {
        { 1, -1000, 100 }, { 2, 0, 100 }, { 3, -50, 100 }, { 4, LONG_MIN, 100 },
        { 5, LONG_MIN, 0 }, { 6, -1, 0 }, { 7, 1000, 100 },
    };
    static const struct spec huge_timeouts[] = {
        { 1, 1000, LONG_MAX }, /* overflows */
        { 2, 0, LONG_MAX }, /* exactly LONG_MAX */
        { 3, -5, LONG_MAX }, /* LONG_MAX - 5 */
        { 4, 1, LONG_MAX - 1 }, /* exactly LONG_MAX */
        { 5, 5000, 100 },
    };
    static const struct spec matrix[] = {
        { 0, -1000, 100 }, { 0, 0, 100 }, { 0, -50, 100 }, { 0, LONG_MIN, 100 },
        { 0, LONG_MIN, 0 }, { 0, -1, 0 }, { 0, 1000, 100 }, { 0, -5, LONG_MAX },
        { 0, 0, LONG_MAX }, { 0, 1000, LONG_MAX }, { 0, LONG_MAX, 1 }, { 0, LONG_MAX, 0 },
        { 0, -1, 1 }, { 0, -2, 1 }, { 0, -100, 50 }, { 0, -100, 200 }, { 0, 1, LONG_MAX },
        { 0, LONG_MIN, LONG_MAX }, { 0, -1001, 1000 }, { 0, 0, 0 },
    };
    static const struct spec neg_times[] = {
        { 0, -1, 0 }, { 0, -2, 0 }, { 0, -3, 0 }, { 0, -10, 0 }, { 0, -1000, 0 },
        { 0, LONG_MIN, 0 }, { 0, 0, 0 }, { 0, 1, 0 }, { 0, 100, 0 }, { 0, LONG_MAX, 0 },
    };

    both("equal timeouts, different times", equal_timeouts, N(equal_timeouts));
    both("mixed per-session timeouts", mixed_timeouts, N(mixed_timeouts));
    both("ties keep insertion order", ties, N(ties));
    both("ties against head, tail and middle", ties_head_tail_middle, N(ties_head_tail_middle));
    both("time + timeout overflow", overflow, N(overflow));
    both("negative times", negative, N(negative));
    both("huge timeouts", huge_timeouts, N(huge_timeouts));
    pair_matrix("mixed signs and overflows", matrix, N(matrix));
    pair_matrix("negative times, timeout 0", neg_times, N(neg_times));

    stress(1, 8, 300);
    stress(42, 5, 300);
    stress(20240601, 16, 400);
    stress(7, 2, 200);

    printf("== re-add of a cached session moves it among ties\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_SESSION *s[4];
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        for (int i = 0; i < 4; i++) {
            s[i] = make_session((unsigned char)(i + 1), 1000, 100);
            add_show(ctx, s[i]);
        }
        printf("re-add tag 1 and tag 3:\n");
        add_show(ctx, s[0]);
        add_show(ctx, s[2]);
        dump_order("end", ctx);
        for (int i = 0; i < 4; i++)
            SSL_SESSION_free(s[i]);
        SSL_CTX_free(ctx);
    }

    printf("== re-add of a cached session in a size-limited cache\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_SESSION *s[3];
        SSL_SESSION *n;
        SSL_CTX_sess_set_cache_size(ctx, 4);
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        for (int i = 0; i < 3; i++) {
            s[i] = make_session((unsigned char)(i + 1), 1000, 100);
            add_show(ctx, s[i]);
        }
        add_show(ctx, s[0]);
        n = make_session(9, 1000, 100);
        add_show(ctx, n);
        SSL_SESSION_free(n);
        dump_order("end", ctx);
        for (int i = 0; i < 3; i++)
            SSL_SESSION_free(s[i]);
        SSL_CTX_free(ctx);
    }

    printf("== set_time and set_timeout on cached sessions reposition them\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_SESSION *s[5];
        long r;
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        for (int i = 0; i < 5; i++) {
            s[i] = make_session((unsigned char)(i + 1), 1000 + 100 * i, 100);
            add_show(ctx, s[i]);
        }
        r = SSL_SESSION_set_time(s[0], 5000);
        printf("set_time tag 1 5000 -> %ld\n", r);
        r = SSL_SESSION_set_timeout(s[4], 0);
        printf("set_timeout tag 5 0 -> %ld\n", r);
        r = SSL_SESSION_set_time(s[2], 1100);
        printf("set_time tag 3 1100 (tie with tag 2) -> %ld\n", r);
        r = SSL_SESSION_set_timeout(s[1], 100);
        printf("set_timeout tag 2 100 (unchanged value) -> %ld\n", r);
        r = SSL_SESSION_set_time(s[3], LONG_MAX);
        printf("set_time tag 4 LONG_MAX -> %ld\n", r);
        dump_order("end", ctx);
        for (int i = 0; i < 5; i++)
            SSL_SESSION_free(s[i]);
        SSL_CTX_free(ctx);
    }

    printf("== set_time on a cached session then eviction\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_SESSION *s[3];
        SSL_SESSION *n;
        long r;
        SSL_CTX_sess_set_cache_size(ctx, 4);
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        for (int i = 0; i < 3; i++) {
            s[i] = make_session((unsigned char)(i + 1), 1000 + 100 * i, 100);
            add_show(ctx, s[i]);
        }
        r = SSL_SESSION_set_time(s[0], 9000);
        printf("set_time tag 1 9000 -> %ld\n", r);
        n = make_session(9, 3000, 100);
        add_show(ctx, n);
        SSL_SESSION_free(n);
        n = make_session(10, 3000, 100);
        add_show(ctx, n);
        SSL_SESSION_free(n);
        dump_order("end", ctx);
        for (int i = 0; i < 3; i++)
            SSL_SESSION_free(s[i]);
        SSL_CTX_free(ctx);
    }

    printf("== set_time on a session removed from the cache does not re-add it\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_SESSION *b = make_session(2, 2000, 100);
        long r;
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        add_show(ctx, a);
        add_show(ctx, b);
        remove_show(ctx, a);
        r = SSL_SESSION_set_time(a, 3000);
        printf("set_time removed tag 1 -> %ld\n", r);
        r = SSL_CTX_sess_number(ctx);
        printf("number = %ld\n", r);
        dump_order("end", ctx);
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
        SSL_CTX_free(ctx);
    }
    return 0;
}
