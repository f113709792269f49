/*
 * session_owner: what the sslapitest tests that read libssl's private structures check (they
 * are not counted by tests-c/openssl/run.sh; see tests-c/openssl/private-structures.txt),
 * checked here through the public API only, so that plain and preloaded runs can be compared:
 *   - execute_test_session reads sess->owner: a session the server cached is in the context's
 *     cache and its SSL_SESSION_dup is not; in a cache of one, the session added last is the
 *     one cached (in TLS 1.2 the client's session and the server's share their id, so each add
 *     of the other object replaces the cached one). Here: SSL_CTX_add_session's return value
 *     (0 only for the very object that is cached), SSL_CTX_remove_session's (1 when its id
 *     was cached) and the number of sessions;
 *   - test_session_timeout reads sess->prev and sess->next: the internal list is in expiry
 *     order, also after SSL_SESSION_set_time / set_timeout on cached sessions, and each flush
 *     removes exactly the sessions expired at its time. Here: the order in which the remove
 *     callback sees the sessions go, and the number left after each flush.
 * A real TLS 1.2 handshake makes the server's session, as in execute_test_session.
 *
 * Written against the system <openssl/ssl.h>, built with -lssl -lcrypto; the preload harness
 * runs it plain and with LD_PRELOAD=target/release/libsesscache.so: identical transcripts.
 */
#include "tls_oracle.h"
#include "../pairs/pair_common.h"

static SSL_SESSION *g_timed[3];
static const char *g_label[3] = {"early", "middle", "late"};

static void order_remove_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    (void)ctx;
    for (int i = 0; i < 3; i++)
        if (s == g_timed[i])
            printf("  removed: %s\n", g_label[i]);
}

/* One call per statement: the order of a call's arguments is the compiler's choice. */
static void add(SSL_CTX *ctx, const char *name, SSL_SESSION *s)
{
    int r = SSL_CTX_add_session(ctx, s);
    printf("add %s: %d number=%ld\n", name, r, SSL_CTX_sess_number(ctx));
}

static void rm(SSL_CTX *ctx, const char *name, SSL_SESSION *s)
{
    int r = SSL_CTX_remove_session(ctx, s);
    printf("remove %s: %d number=%ld resumable=%d\n", name, r, SSL_CTX_sess_number(ctx), SSL_SESSION_is_resumable(s));
}

/* execute_test_session's owner checks, for the sessions of a real handshake. */
static void case_owner(void)
{
    case_begin("the server's session is cached, its dup is not; a cache of one keeps the last added");
    drv_set_version(g_sctx, TLS1_2_VERSION);
    drv_set_version(g_cctx, TLS1_2_VERSION);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    if (!conn_handshake(&p))
        printf("handshake FAILED\n");
    SSL_SESSION *sess1 = SSL_get1_session(p.c);
    SSL_SESSION *sess2 = SSL_get1_session(p.s);
    conn_close(&p, 1, 1);
    printf("number=%ld\n", SSL_CTX_sess_number(g_sctx));
    SSL_SESSION *dup = SSL_SESSION_dup(sess2);
    /* sess2 is cached (a re-add returns 0); its dup is not (an add replaces sess2: 1) */
    add(g_sctx, "sess2", sess2);
    add(g_sctx, "dup", dup);
    add(g_sctx, "dup", dup);
    rm(g_sctx, "sess2", sess2);
    rm(g_sctx, "dup", dup);
    rm(g_sctx, "dup", dup);

    /* sess1 expires before the dup; in a cache of one, the session added last stays */
    SSL_SESSION_set_time(sess1, 1000);
    SSL_SESSION_set_timeout(sess1, 1000);
    SSL_SESSION_set_time(dup, 2000);
    SSL_SESSION_set_timeout(dup, 2000);
    SSL_CTX_sess_set_cache_size(g_sctx, 1);
    add(g_sctx, "sess1", sess1);
    add(g_sctx, "dup", dup);
    add(g_sctx, "sess1", sess1);
    add(g_sctx, "sess1", sess1);
    rm(g_sctx, "dup", dup);
    rm(g_sctx, "sess1", sess1);
    SSL_SESSION_free(dup);
    SSL_SESSION_free(sess1);
    SSL_SESSION_free(sess2);
    case_end();
}

/* test_session_timeout's list checks, seen through the remove callback and the counts. */
static void case_timeout_order(void)
{
    case_begin("expiry order after re-timing cached sessions, and what each flush removes");
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL_CTX_sess_set_remove_cb(ctx, order_remove_cb);
    long now = (long)time(NULL);
    const long timeout = 10;
    for (int i = 0; i < 3; i++) {
        unsigned char id[SSL3_SSL_SESSION_ID_LENGTH];
        memset(id, i + 1, sizeof id);
        g_timed[i] = SSL_SESSION_new();
        SSL_SESSION_set1_id(g_timed[i], id, sizeof id);
        SSL_SESSION_set_protocol_version(g_timed[i], TLS1_2_VERSION);
    }
    /* added late first, so that only the re-timing puts them in order */
    for (int i = 2; i >= 0; i--)
        add(ctx, g_label[i], g_timed[i]);
    for (int i = 0; i < 3; i++) {
        SSL_SESSION_set_time(g_timed[i], now - 10 + 10 * i);
        SSL_SESSION_set_timeout(g_timed[i], timeout);
    }
    printf("number=%ld\n", SSL_CTX_sess_number(ctx));
    long at[3] = {now + timeout - 1, now + timeout + 1, now + timeout + 11};
    for (int i = 0; i < 3; i++) {
        printf("flush(now%+ld):\n", at[i] - now);
        SSL_CTX_flush_sessions(ctx, at[i]);
        printf("  number=%ld\n", SSL_CTX_sess_number(ctx));
    }
    for (int i = 0; i < 3; i++)
        add(ctx, g_label[i], g_timed[i]);
    printf("flush(0):\n");
    SSL_CTX_flush_sessions(ctx, 0);
    printf("  number=%ld\n", SSL_CTX_sess_number(ctx));
    /* UPDATE_TIME: an add stamps the session with the time of the add */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_UPDATE_TIME | SSL_CTX_get_session_cache_mode(ctx));
    SSL_SESSION_set_time(g_timed[0], now - 10);
    add(ctx, "early with UPDATE_TIME", g_timed[0]);
    printf("its time moved: %d\n", SSL_SESSION_get_time(g_timed[0]) != now - 10);
    SSL_CTX_free(ctx);
    for (int i = 0; i < 3; i++)
        SSL_SESSION_free(g_timed[i]);
    case_end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    drv_init();
    case_owner();
    case_timeout_order();
    drv_cleanup();
    return 0;
}
