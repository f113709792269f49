/*
 * Defaults of fresh objects: contexts of the three generic methods (cache mode, size, timeout,
 * the twelve counters), a fresh SSL_SESSION (timeout, version, id, resumable, hostname,
 * cipher, master key, id context, time) and fresh SSL objects (version, session, reuse,
 * SSL_get_SSL_CTX identity).
 */
#include "scenario.h"
#include <time.h>

static void ctx_defaults(const char *name, const SSL_METHOD *meth)
{
    SSL_CTX *ctx;
    long mode, size, timeout;

    printf("== ctx defaults %s\n", name);
    ctx = SSL_CTX_new(meth);
    printf("ctx created = %d\n", ctx != NULL);
    mode = SSL_CTX_get_session_cache_mode(ctx);
    size = SSL_CTX_sess_get_cache_size(ctx);
    timeout = SSL_CTX_get_timeout(ctx);
    printf("mode = %#lx\n", mode);
    printf("cache size = %ld\n", size);
    printf("timeout = %ld\n", timeout);
    show_stats("stats", ctx);
    SSL_CTX_free(ctx);
}

static void ssl_defaults(const char *name, const SSL_METHOD *meth)
{
    SSL_CTX *ctx;
    SSL *ssl;
    int version, reused, same_ctx, match;
    SSL_SESSION *s0, *s1;
    unsigned char id[32];

    printf("== ssl defaults %s\n", name);
    ctx = SSL_CTX_new(meth);
    ssl = SSL_new(ctx);
    printf("ssl created = %d\n", ssl != NULL);
    version = SSL_version(ssl);
    printf("SSL_version = %#x\n", (unsigned)version);
    s0 = SSL_get_session(ssl);
    printf("SSL_get_session is NULL = %d\n", s0 == NULL);
    s0 = SSL_get0_session(ssl);
    printf("SSL_get0_session is NULL = %d\n", s0 == NULL);
    s1 = SSL_get1_session(ssl);
    printf("SSL_get1_session is NULL = %d\n", s1 == NULL);
    SSL_SESSION_free(s1);
    reused = SSL_session_reused(ssl);
    printf("SSL_session_reused = %d\n", reused);
    same_ctx = SSL_get_SSL_CTX(ssl) == ctx;
    printf("SSL_get_SSL_CTX == ctx = %d\n", same_ctx);
    memset(id, 1, sizeof id);
    match = SSL_has_matching_session_id(ssl, id, 32);
    printf("SSL_has_matching_session_id (empty cache) = %d\n", match);
    show_stats("stats after SSL_new", ctx);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

int main(void)
{
    SSL_SESSION *s;
    long timeout, t, now, tdiff;
    int version, resumable;
    unsigned int idlen = 99, ctxlen = 99;
    const char *host;
    const SSL_CIPHER *cipher;
    size_t mklen;
    unsigned char mk[64];

    ctx_defaults("TLS_method", TLS_method());
    ctx_defaults("TLS_server_method", TLS_server_method());
    ctx_defaults("TLS_client_method", TLS_client_method());

    printf("== session defaults\n");
    now = (long)time(NULL);
    s = SSL_SESSION_new();
    printf("session created = %d\n", s != NULL);
    timeout = SSL_SESSION_get_timeout(s);
    printf("timeout = %ld\n", timeout);
    t = SSL_SESSION_get_time(s);
    /* Between the clock readings around its creation, however slowly this runs. */
    tdiff = (long)time(NULL);
    printf("time is the creation time = %d\n", t >= now && t <= tdiff);
    version = SSL_SESSION_get_protocol_version(s);
    printf("protocol version = %#x\n", (unsigned)version);
    SSL_SESSION_get_id(s, &idlen);
    printf("id length = %u\n", idlen);
    SSL_SESSION_get0_id_context(s, &ctxlen);
    printf("id context length = %u\n", ctxlen);
    resumable = SSL_SESSION_is_resumable(s);
    printf("resumable = %d\n", resumable);
    host = SSL_SESSION_get0_hostname(s);
    printf("hostname is NULL = %d\n", host == NULL);
    cipher = SSL_SESSION_get0_cipher(s);
    printf("cipher is NULL = %d\n", cipher == NULL);
    mklen = SSL_SESSION_get_master_key(s, NULL, 0);
    printf("master key length = %zu\n", mklen);
    mklen = SSL_SESSION_get_master_key(s, mk, sizeof mk);
    printf("master key copied = %zu\n", mklen);
    SSL_SESSION_free(s);

    printf("== session defaults with an id\n");
    s = SSL_SESSION_new();
    memset(mk, 5, 32);
    resumable = SSL_SESSION_set1_id(s, mk, 32);
    printf("set1_id = %d\n", resumable);
    resumable = SSL_SESSION_is_resumable(s);
    printf("resumable = %d\n", resumable);
    SSL_SESSION_free(s);

    ssl_defaults("TLS_method", TLS_method());
    ssl_defaults("TLS_server_method", TLS_server_method());
    ssl_defaults("TLS_client_method", TLS_client_method());
    return 0;
}
