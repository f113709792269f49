/*
 * null_provider: a program that loads only the "null" provider in the default library context
 * and makes its contexts in a library context of its own with the default provider, as
 * OpenSSL's own test/sslapitest does. No context can be made in the default library context
 * then, so whatever sesscache does to mark sessions not resumable must not need one. Sessions
 * are removed, evicted and flushed (with and without a remove callback, and by SSL_CTX_free),
 * and after every step each session's SSL_SESSION_is_resumable is printed.
 *
 * Written against the system <openssl/ssl.h>, built with -lssl -lcrypto; the preload harness
 * runs it plain and with LD_PRELOAD=target/release/libsesscache.so: identical transcripts.
 */
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define N 5
static SSL_SESSION *g_s[N];
static int g_removed;

static void show(const char *label, SSL_CTX *ctx)
{
    printf("%-34s number=%ld resumable:", label, SSL_CTX_sess_number(ctx));
    for (int i = 0; i < N; i++)
        printf(" S%d=%d", i, SSL_SESSION_is_resumable(g_s[i]));
    printf("\n");
}

static void remove_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx;
    for (int i = 0; i < N; i++)
        if (s == g_s[i])
            printf("  remove callback: S%d\n", i);
    g_removed++;
}

static void make_sessions(long now)
{
    for (int i = 0; i < N; i++) {
        unsigned char id[32];
        memset(id, 0x40 + i, sizeof id);
        g_s[i] = SSL_SESSION_new();
        if (g_s[i] == NULL || !SSL_SESSION_set1_id(g_s[i], id, sizeof id)
            || !SSL_SESSION_set_protocol_version(g_s[i], TLS1_2_VERSION)) {
            printf("cannot make session %d\n", i);
            return;
        }
        SSL_SESSION_set_time(g_s[i], now + i);
        SSL_SESSION_set_timeout(g_s[i], 100);
    }
}

static void free_sessions(void)
{
    for (int i = 0; i < N; i++)
        SSL_SESSION_free(g_s[i]);
}

static void run(OSSL_LIB_CTX *libctx, int with_callback)
{
    long now = (long)time(NULL);
    printf("== contexts in their own library context, %s remove callback\n", with_callback ? "with a" : "no");
    SSL_CTX *ctx = SSL_CTX_new_ex(libctx, NULL, TLS_server_method());
    if (ctx == NULL) {
        printf("SSL_CTX_new_ex(libctx) failed\n");
        return;
    }
    if (with_callback)
        SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    make_sessions(now);
    for (int i = 0; i < N; i++)
        printf("add S%d: %d\n", i, SSL_CTX_add_session(ctx, g_s[i]));
    show("after adding all", ctx);

    printf("remove S1: %d\n", SSL_CTX_remove_session(ctx, g_s[1]));
    show("after removing S1", ctx);
    printf("remove S1 again: %d\n", SSL_CTX_remove_session(ctx, g_s[1]));

    /* Eviction: a cache of 3 drops the sessions that expire first. */
    SSL_CTX_sess_set_cache_size(ctx, 3);
    printf("add S1 into a cache of 3: %d\n", SSL_CTX_add_session(ctx, g_s[1]));
    show("after the eviction", ctx);

    /* A flush at a time when S2 and S3 have expired (time + 100 < t). */
    SSL_CTX_flush_sessions(ctx, now + 100 + 4);
    show("after SSL_CTX_flush_sessions(t)", ctx);

    SSL_CTX_sess_set_cache_size(ctx, 0);
    for (int i = 0; i < N; i++)
        SSL_CTX_add_session(ctx, g_s[i]); /* not resumable ones are cached as well */
    show("after adding all again", ctx);
    SSL_CTX_flush_sessions(ctx, 0);
    show("after SSL_CTX_flush_sessions(0)", ctx);

    /* SSL_CTX_free flushes what is left. */
    free_sessions();
    make_sessions(now);
    SSL_CTX_add_session(ctx, g_s[0]);
    SSL_CTX_add_session(ctx, g_s[4]);
    SSL_CTX_free(ctx);
    printf("after SSL_CTX_free: resumable S0=%d S4=%d, remove callbacks so far %d\n", SSL_SESSION_is_resumable(g_s[0]),
           SSL_SESSION_is_resumable(g_s[4]), g_removed);
    free_sessions();
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* The default library context gets only the null provider: nothing can be fetched there. */
    OSSL_PROVIDER *null_provider = OSSL_PROVIDER_load(NULL, "null");
    OSSL_LIB_CTX *libctx = OSSL_LIB_CTX_new();
    OSSL_PROVIDER *default_provider = libctx ? OSSL_PROVIDER_load(libctx, "default") : NULL;
    if (null_provider == NULL || default_provider == NULL) {
        printf("cannot load the providers\n");
        return 1;
    }
    SSL_CTX *in_default = SSL_CTX_new(TLS_method());
    printf("SSL_CTX_new in the default library context: %s\n", in_default ? "a context" : "NULL");
    SSL_CTX_free(in_default);
    run(libctx, 0);
    run(libctx, 1);
    OSSL_PROVIDER_unload(default_provider);
    OSSL_LIB_CTX_free(libctx);
    OSSL_PROVIDER_unload(null_provider);
    return 0;
}
