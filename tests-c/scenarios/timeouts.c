/*
 * Timeouts and times: SSL_CTX_set_timeout/get (returns the old value, negatives accepted),
 * SSL_SESSION_set_timeout/get (negative rejected, zero, huge), SSL_SESSION_set_time/get
 * (returns the new time, negative and extreme values), what SSL_CTX_set_timeout does not
 * touch, and the expiry boundary of cached sessions after set_time/set_timeout, seen through
 * flush.
 */
#include "scenario.h"
#include <limits.h>

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const long values[] = { 300, 0, 1, -1, -100, 7200, LONG_MAX, LONG_MIN, LONG_MAX - 1,
                               2147483647L, 2147483648L, -2147483648L, 86400 };

/* Removed or kept by flush(t), for a fresh cache holding s (tag 1) only. */
static void flush_probe(SSL_SESSION *s, long t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    long n;
    SSL_CTX_add_session(ctx, s);
    SSL_CTX_flush_sessions(ctx, t);
    n = SSL_CTX_sess_number(ctx);
    printf("  flush %ld -> %s\n", t, n == 0 ? "removed" : "kept");
    SSL_CTX_free(ctx);
}

int main(void)
{
    SSL_CTX *ctx;
    SSL_SESSION *s;
    long r, g;

    printf("== SSL_CTX_set_timeout returns the old value\n");
    ctx = SSL_CTX_new(TLS_server_method());
    g = SSL_CTX_get_timeout(ctx);
    printf("default = %ld\n", g);
    for (int i = 0; i < N(values); i++) {
        r = SSL_CTX_set_timeout(ctx, values[i]);
        g = SSL_CTX_get_timeout(ctx);
        printf("set %ld -> %ld, get %ld\n", values[i], r, g);
    }
    SSL_CTX_free(ctx);

    printf("== SSL_CTX_set_timeout per method\n");
    {
        const SSL_METHOD *m[3];
        m[0] = TLS_method();
        m[1] = TLS_server_method();
        m[2] = TLS_client_method();
        for (int i = 0; i < 3; i++) {
            ctx = SSL_CTX_new(m[i]);
            r = SSL_CTX_set_timeout(ctx, 10);
            g = SSL_CTX_get_timeout(ctx);
            printf("method %d: set 10 -> %ld, get %ld\n", i, r, g);
            SSL_CTX_free(ctx);
        }
    }

    printf("== SSL_CTX_set_timeout does not touch sessions\n");
    ctx = SSL_CTX_new(TLS_server_method());
    s = make_session(1, 1000, 100);
    SSL_CTX_add_session(ctx, s);
    SSL_CTX_set_timeout(ctx, 5);
    g = SSL_SESSION_get_timeout(s);
    printf("cached session timeout = %ld\n", g);
    SSL_SESSION_free(s);
    s = SSL_SESSION_new();
    g = SSL_SESSION_get_timeout(s);
    printf("new session timeout = %ld\n", g);
    SSL_SESSION_free(s);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    flush_show(ctx, 1101);
    SSL_CTX_free(ctx);

    printf("== SSL_SESSION_set_timeout\n");
    s = SSL_SESSION_new();
    for (int i = 0; i < N(values); i++) {
        r = SSL_SESSION_set_timeout(s, values[i]);
        g = SSL_SESSION_get_timeout(s);
        printf("set %ld -> %ld, get %ld\n", values[i], r, g);
    }
    SSL_SESSION_free(s);

    printf("== SSL_SESSION_set_timeout negative first\n");
    s = SSL_SESSION_new();
    r = SSL_SESSION_set_timeout(s, -5);
    g = SSL_SESSION_get_timeout(s);
    printf("set -5 -> %ld, get %ld\n", r, g);
    SSL_SESSION_free(s);

    printf("== SSL_SESSION_set_time\n");
    s = SSL_SESSION_new();
    for (int i = 0; i < N(values); i++) {
        r = SSL_SESSION_set_time(s, values[i]);
        g = SSL_SESSION_get_time(s);
        printf("set %ld -> %ld, get %ld\n", values[i], r, g);
    }
    SSL_SESSION_free(s);

    printf("== set_time and set_timeout leave each other alone\n");
    s = SSL_SESSION_new();
    SSL_SESSION_set_time(s, 1234);
    SSL_SESSION_set_timeout(s, 55);
    SSL_SESSION_set_time(s, 999);
    g = SSL_SESSION_get_timeout(s);
    printf("timeout after set_time = %ld\n", g);
    SSL_SESSION_set_timeout(s, 66);
    g = SSL_SESSION_get_time(s);
    printf("time after set_timeout = %ld\n", g);
    r = SSL_SESSION_set_timeout(s, -1);
    g = SSL_SESSION_get_timeout(s);
    printf("set_timeout -1 -> %ld, timeout %ld\n", r, g);
    SSL_SESSION_free(s);

    printf("== expiry boundaries through flush\n");
    {
        static const long tv[][2] = {
            { 1000, 100 }, { 1000, 0 }, { 0, 0 }, { 0, 304 }, { 1, LONG_MAX - 1 },
            { 1, LONG_MAX }, { LONG_MAX, 0 }, { -1, 0 }, { -10, 20 }, { LONG_MIN, LONG_MAX },
        };
        for (int i = 0; i < N(tv); i++) {
            long exp = (long)((unsigned long)tv[i][0] + (unsigned long)tv[i][1]);
            s = make_session(1, tv[i][0], tv[i][1]);
            printf("time %ld timeout %ld:\n", tv[i][0], tv[i][1]);
            if (exp > LONG_MIN)
                flush_probe(s, exp - 1);
            flush_probe(s, exp);
            if (exp < LONG_MAX)
                flush_probe(s, exp + 1);
            flush_probe(s, LONG_MAX);
            SSL_SESSION_free(s);
        }
    }

    printf("== rejected negative timeout keeps the old expiry\n");
    s = make_session(1, 1000, 100);
    r = SSL_SESSION_set_timeout(s, -1);
    printf("set_timeout -1 -> %ld\n", r);
    flush_probe(s, 1100);
    flush_probe(s, 1101);
    SSL_SESSION_free(s);

    printf("== set_time and set_timeout on a cached session move its expiry\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_SESSION *b = make_session(2, 1000, 100);
        SSL_SESSION *c = make_session(3, 1000, 100);
        SSL_CTX_add_session(ctx, a);
        SSL_CTX_add_session(ctx, b);
        SSL_CTX_add_session(ctx, c);
        r = SSL_SESSION_set_time(a, 2000);
        printf("set_time a 2000 -> %ld\n", r);
        r = SSL_SESSION_set_timeout(b, 5);
        printf("set_timeout b 5 -> %ld\n", r);
        r = SSL_SESSION_set_timeout(c, -7);
        printf("set_timeout c -7 -> %ld\n", r);
        flush_show(ctx, 1006);
        flush_show(ctx, 1101);
        flush_show(ctx, 2100);
        flush_show(ctx, 2101);
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
        SSL_SESSION_free(c);
    }
    SSL_CTX_free(ctx);
    return 0;
}
