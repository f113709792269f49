/*
 * Code shared by both halves of the handshake pairs (oracle.c against libssl, native.c against
 * sesscache): session naming, the callbacks (new / get / remove, with a small external cache),
 * trace points and the per-handshake report. It uses only the session-cache API, so the very
 * same code runs on both sides; only the handshake driver differs (tests-c/lib/tls_oracle.h
 * or tests-c/pairs/hooks_native.h, included first).
 *
 * Session ids are random, so sessions are never printed by id: each distinct id gets a name
 * S0, S1, ... in the order it is first printed, which is the same on both sides when the same
 * events happen in the same order.
 */
#ifndef SESSCACHE_PAIR_COMMON_H
#define SESSCACHE_PAIR_COMMON_H

#include "scenario.h"
#include <stdlib.h>
#include <time.h>

static SSL_CTX *g_sctx, *g_cctx; /* the contexts of the current case, for labels and traces */
static int g_trace;               /* print both contexts' stats at every trace point and callback */
static int g_quiet_cb;            /* count callback calls instead of printing them */
static long g_n_new, g_n_remove, g_n_get;

/* ---- session names ---- */

#define MAX_NAMES 256
static struct {
    unsigned char id[32];
    unsigned int len;
} g_names[MAX_NAMES];
static int g_nnames;

static inline int name_of_id(const unsigned char *id, unsigned int len)
{
    if (len == 0 || len > 32)
        return -1;
    for (int i = 0; i < g_nnames; i++)
        if (g_names[i].len == len && memcmp(g_names[i].id, id, len) == 0)
            return i;
    if (g_nnames == MAX_NAMES) {
        fprintf(stderr, "too many session names\n");
        exit(3);
    }
    memcpy(g_names[g_nnames].id, id, len);
    g_names[g_nnames].len = len;
    return g_nnames++;
}

static inline const char *sname(const SSL_SESSION *s)
{
    static char buf[8][16];
    static int k;
    char *b = buf[k++ & 7];
    if (s == NULL)
        return "none";
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &len);
    int n = name_of_id(id, len);
    if (n < 0)
        return "noid";
    snprintf(b, 16, "S%d", n);
    return b;
}

static inline const char *ctx_label(const SSL_CTX *ctx)
{
    return ctx == g_sctx ? "server" : ctx == g_cctx ? "client" : "other";
}

static inline void show_both(const char *indent)
{
    char l[32];
    snprintf(l, sizeof l, "%sserver", indent);
    show_stats(l, g_sctx);
    snprintf(l, sizeof l, "%sclient", indent);
    show_stats(l, g_cctx);
}

/* Called by the driver at a handshake's start (before anything is counted) and when it is
 * done (after everything is counted). */
static inline void trace_point(SSL *s, int is_server, int done)
{
    (void)s;
    if (!g_trace)
        return;
    printf("  @%s %s\n", is_server ? "server" : "client", done ? "done" : "start");
    show_both("    ");
}

/* ---- the external cache the callbacks keep ---- */

enum ext_mode {
    EXT_OFF,      /* new callback prints only; get callback not installed */
    EXT_COPY1,    /* get returns the stored session, *copy = 1 */
    EXT_COPY0,    /* get returns SSL_SESSION_dup of it, *copy = 0 (the library owns the copy) */
    EXT_SHARED0,  /* get returns the stored session itself after an up_ref, *copy = 0 */
};

#define EXT_SLOTS 8
static SSL_SESSION *g_ext[EXT_SLOTS];
static enum ext_mode g_ext_mode;
static int g_ext_keep_on_remove; /* the remove callback leaves the stored entry alone */
static int g_ext_store_dup;      /* the new callback stores an SSL_SESSION_dup, not the session */
static int g_expire_every;       /* new callback: move every Nth new session's time back */
static long g_expire_count;

static inline int ext_find(const unsigned char *id, unsigned int len)
{
    for (int i = 0; i < EXT_SLOTS; i++) {
        if (g_ext[i] == NULL)
            continue;
        unsigned int l = 0;
        const unsigned char *x = SSL_SESSION_get_id(g_ext[i], &l);
        if (l == len && memcmp(x, id, len) == 0)
            return i;
    }
    return -1;
}

static inline void ext_drop(int i)
{
    SSL_SESSION_free(g_ext[i]);
    g_ext[i] = NULL;
}

static inline void ext_clear(void)
{
    for (int i = 0; i < EXT_SLOTS; i++)
        if (g_ext[i] != NULL)
            ext_drop(i);
}

static inline int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    g_n_new++;
    if (g_expire_every > 0 && (g_n_new % g_expire_every) == 0) {
        SSL_SESSION_set_time(sess, (long)time(NULL) - 100000);
        g_expire_count++;
    }
    if (!g_quiet_cb) {
        printf("  [new %s] %s reused=%d\n", ctx_label(ctx), sname(sess), SSL_session_reused(ssl));
        if (g_trace)
            show_both("    ");
    }
    if (g_ext_mode == EXT_OFF || ctx != g_sctx)
        return 0;
    for (int i = 0; i < EXT_SLOTS; i++) {
        if (g_ext[i] == NULL) {
            if (g_ext_store_dup) {
                g_ext[i] = SSL_SESSION_dup(sess);
                return 0;
            }
            g_ext[i] = sess; /* keep the reference the library handed over */
            return 1;
        }
    }
    printf("  [new] external cache full\n");
    return 0;
}

static inline SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    (void)ssl;
    g_n_get++;
    int i = ext_find(id, (unsigned int)len);
    if (!g_quiet_cb) {
        printf("  [get] %s len=%d %s\n", i < 0 ? "unknown" : sname(g_ext[i]), len,
               i < 0 ? "not found" : SSL_SESSION_is_resumable(g_ext[i]) ? "found" : "found, not resumable");
        if (g_trace)
            show_both("    ");
    }
    if (i < 0)
        return NULL;
    switch (g_ext_mode) {
    case EXT_COPY1:
        *copy = 1;
        return g_ext[i];
    case EXT_COPY0:
        *copy = 0;
        return SSL_SESSION_dup(g_ext[i]);
    case EXT_SHARED0:
        *copy = 0;
        SSL_SESSION_up_ref(g_ext[i]);
        return g_ext[i];
    default:
        return NULL;
    }
}

static inline void remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
    g_n_remove++;
    if (!g_quiet_cb) {
        printf("  [remove %s] %s resumable=%d\n", ctx_label(ctx), sname(sess), SSL_SESSION_is_resumable(sess));
        if (g_trace)
            show_both("    ");
    }
    if (ctx == g_sctx && !g_ext_keep_on_remove) {
        unsigned int len = 0;
        const unsigned char *id = SSL_SESSION_get_id(sess, &len);
        int i = ext_find(id, len);
        if (i >= 0)
            ext_drop(i);
    }
}

/* Installs the callbacks on a context: new and remove always, get only with an external mode. */
static inline void install_cbs(SSL_CTX *ctx, enum ext_mode m)
{
    SSL_CTX_sess_set_new_cb(ctx, new_cb);
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    if (m != EXT_OFF)
        SSL_CTX_sess_set_get_cb(ctx, get_cb);
    if (ctx == g_sctx)
        g_ext_mode = m;
}

/* ---- cases ---- */

static inline void case_begin(const char *title)
{
    printf("\n== case %s\n", title);
    g_nnames = 0; /* names restart per case, so a difference stays inside its case */
    g_sctx = drv_server_ctx();
    g_cctx = drv_client_ctx();
    g_trace = 0;
    g_quiet_cb = 0;
    g_ext_mode = EXT_OFF;
    g_ext_keep_on_remove = 0;
    g_ext_store_dup = 0;
    g_expire_every = 0;
    g_expire_count = 0;
    g_n_new = g_n_remove = g_n_get = 0;
}

static inline void case_end(void)
{
    ext_clear();
    SSL_CTX_free(g_cctx);
    SSL_CTX_free(g_sctx);
    g_cctx = g_sctx = NULL;
    g_ext_mode = EXT_OFF;
}

/* The state after a handshake: who reused which session, and both contexts' stats. */
static inline void report(const char *label, struct conn *p, int ok)
{
    /* Named one per statement: sname() names new sessions in call order, and the order of a
     * call's arguments is the compiler's choice. */
    const char *client = sname(SSL_get_session(p->c));
    const char *server = sname(SSL_get_session(p->s));
    printf("%s: %s client_reused=%d server_reused=%d client_session=%s server_session=%s\n", label,
           ok ? "ok" : "FAILED", SSL_session_reused(p->c), SSL_session_reused(p->s), client, server);
    show_both("  ");
}

/* A handshake with `offer` set on the client (may be NULL); returns the client's session (one
 * reference) and closes the connection with the given shutdowns. */
static inline SSL_SESSION *run(const char *label, SSL_SESSION *offer, int shut_c, int shut_s)
{
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    if (offer != NULL)
        SSL_set_session(p.c, offer);
    int ok = conn_handshake(&p);
    report(label, &p, ok);
    SSL_SESSION *got = SSL_get1_session(p.c);
    conn_close(&p, shut_c, shut_s);
    return got;
}

static inline void show_resumable(const char *label, const SSL_SESSION *s)
{
    printf("%s: %s resumable=%d\n", label, sname(s), s ? SSL_SESSION_is_resumable(s) : -1);
}

#endif
