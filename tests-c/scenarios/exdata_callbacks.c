/*
 * ex_data callbacks that call back into sessions: new, dup and free callbacks that read the
 * session being duplicated (through a global, as an application's index would), the new
 * session they are given, and the session being freed. libssl holds no session lock while
 * they run, so every read completes; so must ours (a dup that held the source's lock while
 * the callbacks ran deadlocked: alarm() turns a hang into a failure). Also: a dup callback
 * that replaces the value, one that refuses (the dup fails, the half-made copy is freed
 * through the free callbacks), and the order of the callbacks.
 */
#include "scenario.h"
#include <unistd.h>

static const SSL_SESSION *g_src; /* the session being duplicated, when set */
static int g_idx, g_refuse;
static int v_src, v_replaced;

static const char *name_of(const void *p)
{
    return p == NULL ? "NULL" : p == &v_src ? "&v_src" : p == &v_replaced ? "&v_replaced" : "other";
}

/* Reads the source through the public API: each call takes the source's own lock, if any. */
static void read_source(const char *who)
{
    if (g_src == NULL)
        return;
    const char *host = SSL_SESSION_get0_hostname(g_src);
    unsigned int idlen = 0;
    SSL_SESSION_get_id(g_src, &idlen);
    printf("  %s reads the source: time=%ld timeout=%ld idlen=%u host=%s resumable=%d data=%s\n", who,
           SSL_SESSION_get_time(g_src), SSL_SESSION_get_timeout(g_src), idlen, host ? host : "(null)",
           SSL_SESSION_is_resumable(g_src), name_of(SSL_SESSION_get_ex_data(g_src, g_idx)));
}

static void on_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ad;
    (void)argp;
    printf("  new cb idx_is_ours=%d argl=%ld ptr=%s\n", idx == g_idx, argl, name_of(ptr));
    if (g_src != NULL) /* a copy: its time is the source's (a fresh session's is the clock's) */
        printf("  new cb: the copy's time=%ld\n", SSL_SESSION_get_time(parent));
    read_source("new cb");
}

static int on_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx, long argl, void *argp)
{
    (void)to;
    (void)from;
    (void)argp;
    printf("  dup cb idx_is_ours=%d argl=%ld value=%s refuse=%d\n", idx == g_idx, argl, name_of(*from_d), g_refuse);
    read_source("dup cb");
    if (g_refuse)
        return 0;
    *from_d = &v_replaced;
    return 1;
}

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ad;
    (void)argp;
    printf("  free cb idx_is_ours=%d argl=%ld ptr=%s parent time=%ld\n", idx == g_idx, argl, name_of(ptr),
           SSL_SESSION_get_time(parent));
    read_source("free cb");
}

int main(void)
{
    SSL_SESSION *s, *d;
    alarm(60); /* a deadlock fails the run instead of hanging it */

    g_idx = SSL_SESSION_get_ex_new_index(7, NULL, on_new, on_dup, on_free);
    printf("index > 0: %d\n", g_idx > 0);

    printf("== new\n");
    s = make_session(1, 1000, 300);
    SSL_SESSION_set1_hostname(s, "example.org");
    printf("== dup without data: no dup callback\n");
    g_src = s;
    d = SSL_SESSION_dup(s);
    g_src = NULL;
    printf("dup -> %s\n", d ? "session" : "NULL");
    printf("== free the copy\n");
    SSL_SESSION_free(d);

    printf("== dup with data: the callback replaces it\n");
    SSL_SESSION_set_ex_data(s, g_idx, &v_src);
    g_src = s;
    d = SSL_SESSION_dup(s);
    g_src = NULL;
    printf("dup -> %s, copy data=%s, source data=%s\n", d ? "session" : "NULL",
           d ? name_of(SSL_SESSION_get_ex_data(d, g_idx)) : "-", name_of(SSL_SESSION_get_ex_data(s, g_idx)));
    printf("== free the copy\n");
    SSL_SESSION_free(d);

    printf("== dup of a cached, then removed session\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_add_session(ctx, s);
        SSL_CTX_remove_session(ctx, s);
        g_src = s;
        d = SSL_SESSION_dup(s);
        g_src = NULL;
        printf("dup -> %s, resumable=%d\n", d ? "session" : "NULL", d ? SSL_SESSION_is_resumable(d) : -1);
        SSL_SESSION_free(d);
        SSL_CTX_free(ctx);
    }

    printf("== a refusing dup callback fails the dup\n");
    g_refuse = 1;
    g_src = s;
    d = SSL_SESSION_dup(s);
    g_src = NULL;
    g_refuse = 0;
    printf("dup -> %s\n", d ? "session" : "NULL");
    SSL_SESSION_free(d);

    printf("== free the source\n");
    SSL_SESSION_free(s);
    return 0;
}
