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

#endif
