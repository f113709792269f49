/*
 * OpenSSL 3.0's expiry order and expiry test over edge values of (time, timeout): the
 * pairwise order (two sessions added, which one a flush removes first) and, for each session,
 * the flush times at which it counts as expired. sesscache models this in engine/expiry.rs;
 * this scenario checks the model against libssl on every value here.
 */
#include "scenario.h"
#include <stdint.h>

static int first_removed;
static void on_remove(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx;
    if (first_removed < 0)
        first_removed = session_tag(s);
}

static const long cases[][2] = {
    {0, 0}, {0, 5}, {1, 0}, {5, 0}, {0, 100}, {1000, 100}, {1000, 0}, {INT64_MAX, 0},
    {INT64_MAX - 5, 10}, {INT64_MAX, INT64_MAX}, {4611686018427387904L, 4611686018427387904L},
    {-1, 0}, {-1, 1}, {-1, 2}, {-2, 0}, {-3, 0}, {-3, 2}, {-5, 4}, {-5, 10}, {-10, 5},
    {-50, 100}, {-1000, 0}, {-1000, 100}, {INT64_MIN, 0}, {INT64_MIN, 100}, {INT64_MIN, INT64_MAX},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static const long flush_times[] = {
    INT64_MIN, -2000, -1000, -901, -900, -899, -11, -10, -6, -5, -3, -2, -1,
    1, 4, 5, 6, 99, 100, 101, 1000, 1100, 1101, INT64_MAX - 1, INT64_MAX,
};
#define NFLUSH ((int)(sizeof flush_times / sizeof flush_times[0]))

/* 1 when session b sorts nearer the eviction end than session a (a added first). */
static int sorts_before(int a, int b)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL_CTX_sess_set_remove_cb(ctx, on_remove);
    SSL_SESSION *sa = make_session(1, cases[a][0], cases[a][1]);
    SSL_SESSION *sb = make_session(2, cases[b][0], cases[b][1]);
    SSL_CTX_add_session(ctx, sa);
    SSL_CTX_add_session(ctx, sb);
    first_removed = -1;
    SSL_CTX_flush_sessions(ctx, 0);
    SSL_CTX_free(ctx);
    SSL_SESSION_free(sa);
    SSL_SESSION_free(sb);
    return first_removed == 2;
}

int main(void)
{
    printf("== pairwise order: row a (added first), column b: '<' when b goes first\n");
    for (int a = 0; a < NCASES; a++) {
        printf("(%ld,%ld)\t", cases[a][0], cases[a][1]);
        for (int b = 0; b < NCASES; b++)
            putchar(a == b ? '=' : sorts_before(a, b) ? '<' : '.');
        putchar('\n');
    }
    printf("== flush times at which each session is expired\n");
    for (int i = 0; i < NCASES; i++) {
        printf("(%ld,%ld):", cases[i][0], cases[i][1]);
        for (int f = 0; f < NFLUSH; f++) {
            SSL_CTX *ctx = SSL_CTX_new(TLS_method());
            SSL_SESSION *s = make_session(1, cases[i][0], cases[i][1]);
            SSL_CTX_add_session(ctx, s);
            SSL_CTX_flush_sessions(ctx, flush_times[f]);
            long left = SSL_CTX_sess_number(ctx);
            if (left == 0)
                printf(" %ld", flush_times[f]);
            SSL_CTX_free(ctx);
            SSL_SESSION_free(s);
        }
        printf("\n");
    }
    return 0;
}
