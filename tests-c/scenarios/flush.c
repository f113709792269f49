/*
 * SSL_CTX_flush_sessions: the expiry boundary (one before, at, one after time+timeout),
 * flush(0) = everything, mixed timeouts, timeout 0, overflowed and negative-time sessions,
 * negative and huge flush times, remove callback order, the empty cache, counters, and the
 * flush SSL_CTX_free does (callbacks at free time, in which order, with SSL_CTX_up_ref).
 */
#include "scenario.h"
#include <limits.h>

struct spec {
    unsigned char tag;
    long time;
    long timeout;
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static SSL_CTX *ctx_with(const struct spec *sp, int n)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    for (int i = 0; i < n; i++) {
        SSL_SESSION *s = make_session(sp[i].tag, sp[i].time, sp[i].timeout);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    return ctx;
}

/* A fresh cache with the sessions, flushed once at each time in turn. */
static void flush_seq(const char *name, const struct spec *sp, int n, const long *times, int nt)
{
    SSL_CTX *ctx;

    printf("== %s\n", name);
    for (int i = 0; i < n; i++)
        printf("  session tag %d time %ld timeout %ld\n", sp[i].tag, sp[i].time, sp[i].timeout);
    ctx = ctx_with(sp, n);
    for (int i = 0; i < nt; i++)
        flush_show(ctx, times[i]);
    show_stats("stats", ctx);
    dump_order("rest", ctx);
    SSL_CTX_free(ctx);
}

/* For each flush time, a fresh cache holding one session: removed or not. */
static void boundary(long time, long timeout, const long *times, int nt)
{
    printf("== boundary time %ld timeout %ld\n", time, timeout);
    for (int i = 0; i < nt; i++) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_SESSION *s = make_session(1, time, timeout);
        long n;
        SSL_CTX_add_session(ctx, s);
        SSL_CTX_flush_sessions(ctx, times[i]);
        n = SSL_CTX_sess_number(ctx);
        printf("flush %ld -> %s\n", times[i], n == 0 ? "removed" : "kept");
        SSL_SESSION_free(s);
        SSL_CTX_free(ctx);
    }
}

static SSL_CTX *free_ctx;

static void free_time_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    long n = SSL_CTX_sess_number(ctx);
    int r = SSL_SESSION_is_resumable(s);
    int same = ctx == free_ctx;
    long mode = SSL_CTX_get_session_cache_mode(ctx);
    long timeout = SSL_CTX_get_timeout(ctx);
    printf("  free remove_cb tag=%d number=%ld resumable=%d same ctx=%d mode=%#lx timeout=%ld\n",
           tag, n, r, same, (unsigned long)mode, timeout);
}

int main(void)
{
    static const struct spec mixed[] = {
        { 1, 1000, 100 }, { 2, 1050, 10 }, { 3, 900, 300 }, { 4, 1100, 0 }, { 5, 0, 1060 },
        { 6, 2000, 1 }, { 7, 1000, 0 },
    };
    static const long mixed_times[] = { 999, 1000, 1001, 1060, 1061, 1100, 1101, 1199, 1200,
                                        1201, 2001, 2002 };
    static const struct spec ovf[] = {
        { 1, 1000, 100 }, { 2, LONG_MAX - 10, 100 }, { 3, LONG_MAX, 1 }, { 4, LONG_MAX, 0 },
        { 5, LONG_MAX - 100, 100 }, { 6, 1, LONG_MAX }, { 7, 0, LONG_MAX },
    };
    static const long ovf_times[] = { -1, LONG_MIN, 1101, LONG_MAX - 1, LONG_MAX };
    static const struct spec neg[] = {
        { 1, -1000, 100 }, { 2, -1, 0 }, { 3, -50, 100 }, { 4, LONG_MIN, 0 }, { 5, 10, 10 },
        { 6, -1, 1 },
    };
    static const long neg_times[] = { -2000, -1, 1, 21, 100, LONG_MAX };
    static const long bt[] = { -1, 1, 1099, 1100, 1101, 1102, LONG_MAX };
    static const long bt0[] = { 999, 1000, 1001 };
    static const long btz[] = { -1, 1, 2 };
    static const long btneg[] = { LONG_MIN, -1001, -1000, -999, -901, -900, -899, -1, 1,
                                  LONG_MAX };
    static const long btmax[] = { LONG_MAX - 1, LONG_MAX };
    SSL_CTX *ctx;

    boundary(1000, 100, bt, N(bt));
    boundary(1000, 0, bt0, N(bt0));
    boundary(0, 0, btz, N(btz));
    boundary(0, 1, btz, N(btz));
    boundary(-1000, 100, btneg, N(btneg));
    boundary(-1000, 0, btneg, N(btneg));
    boundary(LONG_MAX - 100, 99, btmax, N(btmax));
    boundary(LONG_MAX - 100, 100, btmax, N(btmax));
    boundary(LONG_MAX, 0, btmax, N(btmax));
    boundary(LONG_MAX, 1, btmax, N(btmax));

    flush_seq("mixed timeouts flushed step by step", mixed, N(mixed), mixed_times,
              N(mixed_times));
    flush_seq("overflowed sessions", ovf, N(ovf), ovf_times, N(ovf_times));
    flush_seq("negative times", neg, N(neg), neg_times, N(neg_times));

    printf("== flush(0) removes everything, tail first\n");
    ctx = ctx_with(ovf, N(ovf));
    flush_show(ctx, 0);
    SSL_CTX_free(ctx);
    ctx = ctx_with(neg, N(neg));
    flush_show(ctx, 0);
    SSL_CTX_free(ctx);
    ctx = ctx_with(mixed, N(mixed));
    flush_show(ctx, 0);
    flush_show(ctx, 0);
    SSL_CTX_free(ctx);

    printf("== flush of an empty cache\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    flush_show(ctx, 0);
    flush_show(ctx, 12345);
    show_stats("stats", ctx);
    SSL_CTX_free(ctx);

    printf("== flush with an empty-id session\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *e = make_session(0, 1000, 100);
        SSL_SESSION *a = make_session(1, 1010, 100);
        add_show(ctx, e);
        add_show(ctx, a);
        flush_show(ctx, 1105);
        flush_show(ctx, 1111);
        SSL_SESSION_free(e);
        SSL_SESSION_free(a);
    }
    SSL_CTX_free(ctx);

    printf("== flushed sessions we still hold\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        int r;
        add_show(ctx, a);
        flush_show(ctx, 5000);
        r = SSL_SESSION_is_resumable(a);
        printf("resumable after flush = %d\n", r);
        printf("add again:\n");
        add_show(ctx, a);
        remove_show(ctx, a);
        SSL_SESSION_free(a);
    }
    SSL_CTX_free(ctx);

    printf("== SSL_CTX_free flushes with callbacks, tail first\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_timeout(ctx, 77);
    SSL_CTX_sess_set_remove_cb(ctx, free_time_cb);
    free_ctx = ctx;
    for (int i = 0; i < N(mixed); i++) {
        SSL_SESSION *s = make_session(mixed[i].tag, mixed[i].time, mixed[i].timeout);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    {
        SSL_SESSION *e = make_session(0, 950, 100);
        SSL_CTX_add_session(ctx, e);
        SSL_SESSION_free(e);
    }
    printf("SSL_CTX_free:\n");
    SSL_CTX_free(ctx);
    printf("SSL_CTX_free done\n");

    printf("== SSL_CTX_free with an extra reference flushes only at the last free\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, free_time_cb);
    free_ctx = ctx;
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_SESSION *b = make_session(2, 900, 100);
        int r;
        SSL_CTX_add_session(ctx, a);
        SSL_CTX_add_session(ctx, b);
        r = SSL_CTX_up_ref(ctx);
        printf("up_ref -> %d\n", r);
        printf("first SSL_CTX_free:\n");
        SSL_CTX_free(ctx);
        r = SSL_SESSION_is_resumable(a);
        printf("a resumable after first free = %d\n", r);
        show_stats("after first free", ctx);
        printf("second SSL_CTX_free:\n");
        SSL_CTX_free(ctx);
        r = SSL_SESSION_is_resumable(a);
        printf("a resumable after last free = %d\n", r);
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
    }

    printf("== SSL_CTX_free kept alive by an SSL object\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, free_time_cb);
    free_ctx = ctx;
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL *ssl = SSL_new(ctx);
        SSL_CTX_add_session(ctx, a);
        SSL_SESSION_free(a);
        printf("SSL_CTX_free:\n");
        SSL_CTX_free(ctx);
        printf("SSL_free:\n");
        SSL_free(ssl);
        printf("SSL_free done\n");
    }
    return 0;
}
