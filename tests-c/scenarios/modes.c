/*
 * Session cache modes: every SSL_SESS_CACHE_* value set and read back (set returns the old
 * mode), unknown bits, -1, values beyond 32 bits through SSL_CTX_ctrl; UPDATE_TIME on
 * SSL_CTX_add_session (time refreshed to now, list position) and re-add; OFF/CLIENT/SERVER
 * and the NO_INTERNAL_* / NO_AUTO_CLEAR flags do not affect explicit adds, removes, flushes or
 * SSL_has_matching_session_id.
 */
#include "scenario.h"
#include <limits.h>
#include <time.h>

static void set_and_get(SSL_CTX *ctx, const char *name, long mode)
{
    long old = SSL_CTX_set_session_cache_mode(ctx, mode);
    long now = SSL_CTX_get_session_cache_mode(ctx);
    printf("set %s (%#lx) -> old %#lx, get %#lx\n", name, (unsigned long)mode,
           (unsigned long)old, (unsigned long)now);
}

static void ctrl_set_and_get(SSL_CTX *ctx, const char *name, long mode)
{
    long old = SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, mode, NULL);
    long now = SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_MODE, 0, NULL);
    printf("ctrl set %s (%#lx) -> old %#lx, get %#lx (%ld)\n", name, (unsigned long)mode,
           (unsigned long)old, (unsigned long)now, now);
}

/* When the program started: a session time set to "now" by the library lies between this and
 * time(NULL), however slowly the program runs (under valgrind, say); the sessions made here
 * otherwise carry fixed times far in the past. */
static long program_start;

static int is_now(SSL_SESSION *s)
{
    long t = SSL_SESSION_get_time(s);
    return t >= program_start && t <= (long)time(NULL);
}

static void explicit_ops_in_mode(const char *name, long mode)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL *ssl;
    SSL_SESSION *a, *b;
    unsigned int len;
    const unsigned char *id;
    int m;

    printf("== explicit operations in mode %s\n", name);
    SSL_CTX_set_session_cache_mode(ctx, mode);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    ssl = SSL_new(ctx);
    a = make_session(1, 1000, 100);
    b = make_session(2, 2000, 100);
    SSL_SESSION_set_protocol_version(a, SSL_version(ssl));
    add_show(ctx, a);
    add_show(ctx, b);
    add_show(ctx, a);
    id = SSL_SESSION_get_id(a, &len);
    m = SSL_has_matching_session_id(ssl, id, len);
    printf("has_matching a = %d\n", m);
    m = is_now(a);
    printf("a time is now = %d\n", m);
    remove_show(ctx, b);
    flush_show(ctx, 1101);
    show_stats("stats", ctx);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

int main(void)
{
    program_start = (long)time(NULL);
    SSL_CTX *ctx;
    long r;

    printf("== every flag set and read back\n");
    ctx = SSL_CTX_new(TLS_server_method());
    r = SSL_CTX_get_session_cache_mode(ctx);
    printf("default = %#lx\n", (unsigned long)r);
    set_and_get(ctx, "OFF", SSL_SESS_CACHE_OFF);
    set_and_get(ctx, "CLIENT", SSL_SESS_CACHE_CLIENT);
    set_and_get(ctx, "SERVER", SSL_SESS_CACHE_SERVER);
    set_and_get(ctx, "BOTH", SSL_SESS_CACHE_BOTH);
    set_and_get(ctx, "NO_AUTO_CLEAR", SSL_SESS_CACHE_NO_AUTO_CLEAR);
    set_and_get(ctx, "NO_INTERNAL_LOOKUP", SSL_SESS_CACHE_NO_INTERNAL_LOOKUP);
    set_and_get(ctx, "NO_INTERNAL_STORE", SSL_SESS_CACHE_NO_INTERNAL_STORE);
    set_and_get(ctx, "NO_INTERNAL", SSL_SESS_CACHE_NO_INTERNAL);
    set_and_get(ctx, "UPDATE_TIME", SSL_SESS_CACHE_UPDATE_TIME);
    set_and_get(ctx, "BOTH|NO_INTERNAL|NO_AUTO_CLEAR|UPDATE_TIME",
                SSL_SESS_CACHE_BOTH | SSL_SESS_CACHE_NO_INTERNAL | SSL_SESS_CACHE_NO_AUTO_CLEAR
                    | SSL_SESS_CACHE_UPDATE_TIME);
    set_and_get(ctx, "SERVER|UPDATE_TIME", SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME);
    SSL_CTX_free(ctx);

    printf("== unknown bits and odd values\n");
    ctx = SSL_CTX_new(TLS_server_method());
    set_and_get(ctx, "0x4", 0x4);
    set_and_get(ctx, "0x40", 0x40);
    set_and_get(ctx, "0x800", 0x800);
    set_and_get(ctx, "0x1000", 0x1000);
    set_and_get(ctx, "0xffff", 0xffff);
    set_and_get(ctx, "0x7fffffff", 0x7fffffffL);
    set_and_get(ctx, "0x80000000", 0x80000000L);
    set_and_get(ctx, "0xffffffff", 0xffffffffL);
    set_and_get(ctx, "-1", -1);
    set_and_get(ctx, "-2", -2);
    set_and_get(ctx, "0", 0);
    ctrl_set_and_get(ctx, "2^32", 0x100000000L);
    ctrl_set_and_get(ctx, "2^32+2", 0x100000002L);
    ctrl_set_and_get(ctx, "2^32+0x402", 0x100000402L);
    ctrl_set_and_get(ctx, "0x123456789", 0x123456789L);
    ctrl_set_and_get(ctx, "LONG_MAX", LONG_MAX);
    ctrl_set_and_get(ctx, "LONG_MIN", LONG_MIN);
    ctrl_set_and_get(ctx, "-1", -1);
    ctrl_set_and_get(ctx, "SERVER", SSL_SESS_CACHE_SERVER);
    SSL_CTX_free(ctx);

    printf("== UPDATE_TIME refreshes the time on add\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_SESSION *b = make_session(2, 2000, 100);
        int n;
        long to;
        add_show(ctx, a);
        n = is_now(a);
        printf("a time is now = %d\n", n);
        to = SSL_SESSION_get_timeout(a);
        printf("a timeout = %ld\n", to);
        SSL_SESSION_set_time(a, 1000);
        n = is_now(a);
        printf("after set_time 1000 (cached): a time is now = %d\n", n);
        printf("re-add a:\n");
        add_show(ctx, a);
        n = is_now(a);
        printf("a time is now = %d\n", n);
        printf("add b under UPDATE_TIME off:\n");
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        add_show(ctx, b);
        n = is_now(b);
        printf("b time is now = %d\n", n);
        r = SSL_SESSION_get_time(b);
        printf("b time = %ld\n", r);
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
    }
    SSL_CTX_free(ctx);

    printf("== UPDATE_TIME moves a re-added session ahead of later-expiring ones\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *s[4];
        long far = (long)time(NULL) + 100000;
        /* tags 1..3 expire long before now; tag 4 long after now + 100 */
        for (int i = 0; i < 3; i++) {
            s[i] = make_session((unsigned char)(i + 1), 1000 + 10 * i, 100);
            add_show(ctx, s[i]);
        }
        s[3] = make_session(4, far, 100);
        add_show(ctx, s[3]);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME);
        printf("re-add tag 1 with UPDATE_TIME:\n");
        add_show(ctx, s[0]);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        printf("flush at 2000 (tag 1 now expires after now+100-ish):\n");
        flush_show(ctx, 2000);
        dump_order("end", ctx);
        for (int i = 0; i < 4; i++)
            SSL_SESSION_free(s[i]);
    }
    SSL_CTX_free(ctx);

    printf("== UPDATE_TIME with a size limit: the refreshed session survives eviction\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_cache_size(ctx, 4);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *s[3];
        SSL_SESSION *n;
        for (int i = 0; i < 3; i++) {
            s[i] = make_session((unsigned char)(i + 1), 1000 + 10 * i, 100);
            add_show(ctx, s[i]);
        }
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME);
        add_show(ctx, s[0]);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        n = make_session(9, 5000, 100);
        add_show(ctx, n);
        SSL_SESSION_free(n);
        n = make_session(10, 5000, 100);
        add_show(ctx, n);
        SSL_SESSION_free(n);
        dump_order("end", ctx);
        for (int i = 0; i < 3; i++)
            SSL_SESSION_free(s[i]);
    }
    SSL_CTX_free(ctx);

    printf("== UPDATE_TIME on a new session of the same id replacing a cached one\n");
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    {
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_SESSION *b = make_session(1, 3000, 100);
        int n;
        add_show(ctx, a);
        add_show(ctx, b);
        n = is_now(b);
        printf("b time is now = %d\n", n);
        r = SSL_SESSION_get_timeout(b);
        printf("b timeout = %ld\n", r);
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
    }
    SSL_CTX_free(ctx);

    explicit_ops_in_mode("OFF", SSL_SESS_CACHE_OFF);
    explicit_ops_in_mode("CLIENT", SSL_SESS_CACHE_CLIENT);
    explicit_ops_in_mode("SERVER", SSL_SESS_CACHE_SERVER);
    explicit_ops_in_mode("BOTH", SSL_SESS_CACHE_BOTH);
    explicit_ops_in_mode("NO_INTERNAL_LOOKUP", SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP);
    explicit_ops_in_mode("NO_INTERNAL_STORE", SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    explicit_ops_in_mode("NO_INTERNAL", SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    explicit_ops_in_mode("NO_AUTO_CLEAR", SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR);
    explicit_ops_in_mode("-1", -1);

    printf("== many expired adds do not auto-flush (auto clear is a handshake thing)\n");
    ctx = SSL_CTX_new(TLS_server_method());
    for (int i = 1; i <= 300; i++) {
        SSL_SESSION *s = SSL_SESSION_new();
        unsigned char id[32];
        memset(id, 0, sizeof id);
        id[0] = (unsigned char)(i & 0xff);
        id[1] = (unsigned char)(i >> 8);
        SSL_SESSION_set1_id(s, id, 32);
        SSL_SESSION_set_time(s, 1);
        SSL_SESSION_set_timeout(s, 1);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    show_stats("after 300 expired adds", ctx);
    SSL_CTX_free(ctx);
    return 0;
}
