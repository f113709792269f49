/*
 * Helpers shared by the C scenarios. A scenario is a C program written against OpenSSL 3's
 * session-cache API that prints a transcript to stdout. The same source is built against the
 * system libssl (the oracle) and against sesscache (-I include), and the transcripts must be
 * identical, so a scenario prints only what both must agree on: return values, counters, ids,
 * callback calls, DER bytes; never pointers or absolute wall-clock times.
 */
#ifndef SESSCACHE_SCENARIO_H
#define SESSCACHE_SCENARIO_H

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

/* Prints a labelled long, one per line. */
#define SHOW(label, expr) do { long v_ = (long)(expr); printf("%s = %ld\n", (label), v_); } while (0)

/* All twelve statistics of a context on one line. */
static inline void show_stats(const char *label, SSL_CTX *ctx)
{
    long v[12];
    v[0] = SSL_CTX_sess_number(ctx);
    v[1] = SSL_CTX_sess_connect(ctx);
    v[2] = SSL_CTX_sess_connect_good(ctx);
    v[3] = SSL_CTX_sess_connect_renegotiate(ctx);
    v[4] = SSL_CTX_sess_accept(ctx);
    v[5] = SSL_CTX_sess_accept_good(ctx);
    v[6] = SSL_CTX_sess_accept_renegotiate(ctx);
    v[7] = SSL_CTX_sess_hits(ctx);
    v[8] = SSL_CTX_sess_cb_hits(ctx);
    v[9] = SSL_CTX_sess_misses(ctx);
    v[10] = SSL_CTX_sess_timeouts(ctx);
    v[11] = SSL_CTX_sess_cache_full(ctx);
    printf("%s: number=%ld connect=%ld connect_good=%ld connect_reneg=%ld accept=%ld accept_good=%ld "
           "accept_reneg=%ld hits=%ld cb_hits=%ld misses=%ld timeouts=%ld cache_full=%ld\n",
           label, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
}

/* A session with a 32-byte id filled with `fill` (empty id when fill == 0), a fixed time and
 * timeout, and TLS 1.2 as its version. */
static inline SSL_SESSION *make_session(unsigned char fill, long time, long timeout)
{
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char id[32];
    memset(id, fill, sizeof id);
    SSL_SESSION_set1_id(s, id, fill ? 32 : 0);
    SSL_SESSION_set_time(s, time);
    SSL_SESSION_set_timeout(s, timeout);
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    return s;
}

/* The first byte of a session's id, or -1 for an empty id: enough to name test sessions. */
static inline int session_tag(const SSL_SESSION *s)
{
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &len);
    return len ? id[0] : -1;
}

static inline void show_hex(const char *label, const unsigned char *p, long n)
{
    printf("%s (%ld) =", label, n);
    for (long i = 0; i < n; i++)
        printf("%s%02x", i % 32 ? "" : "\n  ", p[i]);
    printf("\n");
}

/* --- cache-behaviour helpers --- */

/* A session like make_session but with an id of `len` bytes (0..32) all equal to `fill`. */
static inline SSL_SESSION *make_session_len(unsigned char fill, unsigned int len, long time,
                                            long timeout)
{
    SSL_SESSION *s = make_session(fill, time, timeout);
    unsigned char id[32];
    memset(id, fill, sizeof id);
    SSL_SESSION_set1_id(s, id, len);
    return s;
}

/* Remove callback that logs the session's tag, the cache count seen from inside the callback
 * and whether the session is still resumable at that point. */
static inline void log_remove_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    long n = SSL_CTX_sess_number(ctx);
    int r = SSL_SESSION_is_resumable(s);
    printf("  remove_cb tag=%d number=%ld resumable=%d\n", tag, n, r);
}

/* Like log_remove_cb, also printing the session's time (tells apart sessions sharing an id;
 * use only where every session's time was set to a fixed value). */
static inline void log_remove_cb_time(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    long t = SSL_SESSION_get_time(s);
    long n = SSL_CTX_sess_number(ctx);
    int r = SSL_SESSION_is_resumable(s);
    printf("  remove_cb tag=%d time=%ld number=%ld resumable=%d\n", tag, t, n, r);
}

/* SSL_CTX_add_session with its return value and the count afterwards. */
static inline int add_show(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    int r = SSL_CTX_add_session(ctx, s);
    long n = SSL_CTX_sess_number(ctx);
    printf("add tag=%d -> %d number=%ld\n", tag, r, n);
    return r;
}

/* SSL_CTX_remove_session with its return value and the count afterwards. */
static inline int remove_show(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    int r = SSL_CTX_remove_session(ctx, s);
    long n = SSL_CTX_sess_number(ctx);
    printf("remove tag=%d -> %d number=%ld\n", tag, r, n);
    return r;
}

/* SSL_CTX_flush_sessions with the count afterwards (callbacks print themselves). */
static inline void flush_show(SSL_CTX *ctx, long t)
{
    long n;
    printf("flush %ld:\n", t);
    SSL_CTX_flush_sessions(ctx, t);
    n = SSL_CTX_sess_number(ctx);
    printf("flush %ld done number=%ld\n", t, n);
}

/* Empties the cache with SSL_CTX_flush_sessions(ctx, 0) while log_remove_cb is installed, which
 * shows the cache's internal order (the order flush walks it), then restores the old callback. */
static inline void dump_order_cb(const char *label, SSL_CTX *ctx,
                                 void (*cb)(SSL_CTX *, SSL_SESSION *))
{
    void (*old)(SSL_CTX *, SSL_SESSION *) = SSL_CTX_sess_get_remove_cb(ctx);
    printf("%s: order by flush(0):\n", label);
    SSL_CTX_sess_set_remove_cb(ctx, cb);
    SSL_CTX_flush_sessions(ctx, 0);
    SSL_CTX_sess_set_remove_cb(ctx, old);
}

static inline void dump_order(const char *label, SSL_CTX *ctx)
{
    dump_order_cb(label, ctx, log_remove_cb);
}

#endif
