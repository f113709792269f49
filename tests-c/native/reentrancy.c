/*
 * Remove callbacks that call back into their SSL_CTX from inside a flush, an eviction and
 * SSL_CTX_free. libssl holds its context lock there, so the nested calls fail (EDEADLK) or
 * deadlock; sesscache holds no lock while a callback runs, so they work. A flush or an
 * eviction leaves alone what a callback re-adds, so they always end.
 */
#include "scenario.h"

static SSL_SESSION *other;
static int action, depth;

static void on_remove(SSL_CTX *ctx, SSL_SESSION *s)
{
    long r = -1;
    if (depth++ > 0) {
        printf("  nested remove_cb tag=%d number=%ld\n", session_tag(s), SSL_CTX_sess_number(ctx));
        depth--;
        return;
    }
    switch (action) {
    case 1: r = SSL_CTX_add_session(ctx, s); break;          /* re-add the one leaving */
    case 2: r = SSL_CTX_remove_session(ctx, other); break;
    case 3: SSL_CTX_flush_sessions(ctx, 0); r = 0; break;
    case 4: r = SSL_CTX_add_session(ctx, other); break;
    }
    long n = SSL_CTX_sess_number(ctx);
    printf("  remove_cb tag=%d action=%d result=%ld number=%ld\n", session_tag(s), action, r, n);
    depth--;
}

static SSL_CTX *fresh(SSL_SESSION **a, SSL_SESSION **b)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, on_remove);
    *a = make_session(1, 1000, 100);
    *b = make_session(2, 2000, 100);
    SSL_CTX_add_session(ctx, *a);
    SSL_CTX_add_session(ctx, *b);
    return ctx;
}

static void finish(SSL_CTX *ctx, SSL_SESSION *a, SSL_SESSION *b)
{
    action = 0;
    show_stats("  stats", ctx);
    SSL_CTX_free(ctx);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
}

int main(void)
{
    static const char *const names[] = { "", "re-add self", "remove other", "flush(0)", "add other" };
    SSL_SESSION *a, *b, *c;
    for (action = 1; action <= 4; action++) {
        int act = action;
        SSL_CTX *ctx = fresh(&a, &b);
        SSL_SESSION *extra = make_session(3, 3000, 100);
        other = act == 4 ? extra : b;
        printf("== %s from flush(1150)\n", names[act]);
        SSL_CTX_flush_sessions(ctx, 1150);
        printf("  after flush number=%ld\n", SSL_CTX_sess_number(ctx));
        finish(ctx, a, b);
        SSL_SESSION_free(extra);

        action = act;
        ctx = fresh(&a, &b);
        extra = make_session(4, 500, 100);
        other = act == 4 ? extra : b;
        c = make_session(3, 3000, 100);
        printf("== %s from eviction (size 2)\n", names[act]);
        SSL_CTX_sess_set_cache_size(ctx, 2);
        long r = SSL_CTX_add_session(ctx, c);
        printf("  add tag=3 -> %ld number=%ld\n", r, SSL_CTX_sess_number(ctx));
        finish(ctx, a, b);
        SSL_SESSION_free(c);
        SSL_SESSION_free(extra);

        action = act;
        ctx = fresh(&a, &b);
        extra = make_session(4, 500, 100);
        other = act == 4 ? extra : b;
        printf("== %s from SSL_CTX_free\n", names[act]);
        SSL_CTX_free(ctx);
        printf("  freed\n");
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
        SSL_SESSION_free(extra);
    }
    return 0;
}
