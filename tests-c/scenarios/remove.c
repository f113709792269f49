/*
 * SSL_CTX_remove_session: present, absent, NULL and empty-id sessions, a different object
 * with a matching id, the remove callback (which session, when, what it sees), and remove
 * callbacks calling back into the same SSL_CTX: from SSL_CTX_remove_session (called after
 * the cache lock is released), and from flush, eviction and SSL_CTX_free (called while the
 * cache lock is held: OpenSSL 3.0 does not deadlock there, its nested lock attempts fail).
 */
#include "scenario.h"

static SSL_CTX *new_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
    return ctx;
}

/* --- re-entrant remove callback --- */

enum action {
    ACT_NONE, ACT_ADD_OTHER, ACT_REMOVE_OTHER, ACT_FLUSH_ALL, ACT_SET_TIME_OTHER,
    ACT_SET_TIMEOUT_OTHER, ACT_MATCH_OTHER, ACT_SET_CACHE_SIZE, ACT_READD_SELF, ACT_GET_MODE,
    ACT_COUNT
};
static const char *const action_names[ACT_COUNT] = {
    "sess_number only", "add other", "remove other", "flush(0)", "set_time other",
    "set_timeout other", "has_matching other", "set cache size", "re-add self", "get mode"
};
static enum action cb_action;
static SSL_SESSION *cb_other;
static SSL *cb_ssl;
static int cb_depth;
/* actions left in the current case: OpenSSL needs at most 2 per case; the cap keeps an
 * implementation whose flush re-finds a re-added session from looping forever */
static int cb_budget;

static void reentrant_cb(SSL_CTX *ctx, SSL_SESSION *s)
{
    int tag = session_tag(s);
    long before = SSL_CTX_sess_number(ctx);
    int resumable = SSL_SESSION_is_resumable(s);
    long r = -1, after, other_time = -1;
    unsigned int len = 0;
    const unsigned char *id;

    if (cb_depth > 0) {
        printf("    nested remove_cb tag=%d number=%ld resumable=%d\n", tag, before, resumable);
        return;
    }
    if (cb_budget <= 0) {
        printf("  remove_cb tag=%d number=%ld resumable=%d (action budget exhausted)\n", tag,
               before, resumable);
        return;
    }
    cb_budget--;
    cb_depth++;
    printf("  remove_cb tag=%d number=%ld resumable=%d action=%s\n", tag, before, resumable,
           action_names[cb_action]);
    switch (cb_action) {
    case ACT_NONE:
        r = 0;
        break;
    case ACT_ADD_OTHER:
        r = SSL_CTX_add_session(ctx, cb_other);
        break;
    case ACT_REMOVE_OTHER:
        r = SSL_CTX_remove_session(ctx, cb_other);
        break;
    case ACT_FLUSH_ALL:
        SSL_CTX_flush_sessions(ctx, 0);
        r = 0;
        break;
    case ACT_SET_TIME_OTHER:
        r = SSL_SESSION_set_time(cb_other, 5000);
        other_time = SSL_SESSION_get_time(cb_other);
        break;
    case ACT_SET_TIMEOUT_OTHER:
        r = SSL_SESSION_set_timeout(cb_other, 5000);
        other_time = SSL_SESSION_get_timeout(cb_other);
        break;
    case ACT_MATCH_OTHER:
        id = SSL_SESSION_get_id(cb_other, &len);
        r = cb_ssl != NULL ? SSL_has_matching_session_id(cb_ssl, id, len) : -2;
        break;
    case ACT_SET_CACHE_SIZE:
        r = SSL_CTX_sess_set_cache_size(ctx, 7);
        break;
    case ACT_READD_SELF:
        r = SSL_CTX_add_session(ctx, s);
        break;
    case ACT_GET_MODE:
        r = SSL_CTX_get_session_cache_mode(ctx);
        break;
    case ACT_COUNT:
        break;
    }
    after = SSL_CTX_sess_number(ctx);
    printf("  remove_cb tag=%d action result=%ld other time/timeout=%ld number after=%ld\n", tag,
           r, other_time, after);
    cb_depth--;
}

/* Runs `act` from the remove callback in one of four places: 0 = SSL_CTX_remove_session,
 * 1 = flush, 2 = eviction by the size limit, 3 = SSL_CTX_free. */
static void reentrant_case(int where, enum action act)
{
    static const char *const where_names[] = { "remove_session", "flush", "eviction",
                                               "SSL_CTX_free" };
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_SESSION *a = make_session(1, 1000, 100);
    SSL_SESSION *b = make_session(2, 2000, 100);
    SSL_SESSION *c = make_session(3, 3000, 100);
    SSL_SESSION *d = make_session(4, 4000, 100);
    long n;

    printf("== reentrant %s from %s\n", action_names[act], where_names[where]);
    cb_ssl = SSL_new(ctx);
    cb_action = act;
    cb_budget = 4;
    SSL_CTX_sess_set_remove_cb(ctx, reentrant_cb);
    /* b under the version SSL_has_matching_session_id looks up with */
    SSL_SESSION_set_protocol_version(b, SSL_version(cb_ssl));
    SSL_CTX_add_session(ctx, a);
    SSL_CTX_add_session(ctx, b);
    /* the other session: b (cached) for remove/set_time/match, d (not cached) for add */
    cb_other = act == ACT_ADD_OTHER ? d : b;
    switch (where) {
    case 0:
        remove_show(ctx, a);
        break;
    case 1:
        flush_show(ctx, 1150);
        break;
    case 2:
        SSL_CTX_sess_set_cache_size(ctx, 2);
        add_show(ctx, c);
        break;
    default:
        SSL_free(cb_ssl);
        cb_ssl = NULL;
        printf("SSL_CTX_free:\n");
        SSL_CTX_free(ctx);
        ctx = NULL;
        printf("SSL_CTX_free done\n");
        break;
    }
    if (ctx != NULL) {
        n = SSL_CTX_sess_number(ctx);
        printf("number = %ld\n", n);
        cb_action = ACT_NONE;
        dump_order_cb("end", ctx, log_remove_cb_time);
        SSL_free(cb_ssl);
        cb_ssl = NULL;
        SSL_CTX_free(ctx);
    }
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
    cb_other = NULL;
}

int main(void)
{
    SSL_CTX *ctx;
    SSL_SESSION *a, *b, *e;
    int r;

    printf("== remove present\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(2, 2000, 100);
    add_show(ctx, a);
    add_show(ctx, b);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable before = %d\n", r);
    remove_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable after = %d\n", r);
    printf("remove again:\n");
    remove_show(ctx, a);
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== remove absent (never added)\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(2, 2000, 100);
    add_show(ctx, b);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable before = %d\n", r);
    remove_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable after = %d\n", r);
    printf("add the removed-but-absent session:\n");
    add_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable after add = %d\n", r);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== remove absent, no callback installed\n");
    ctx = SSL_CTX_new(TLS_server_method());
    a = make_session(1, 1000, 100);
    remove_show(ctx, a);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable after = %d\n", r);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);

    printf("== remove NULL session\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    add_show(ctx, a);
    r = SSL_CTX_remove_session(ctx, NULL);
    printf("remove NULL -> %d\n", r);
    show_stats("stats", ctx);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);

    printf("== remove with NULL ctx\n");
    e = make_session(0, 1000, 100);
    r = SSL_CTX_remove_session(NULL, e);
    printf("remove(NULL, empty-id session) -> %d\n", r);
    r = SSL_CTX_remove_session(NULL, NULL);
    printf("remove(NULL, NULL) -> %d\n", r);
    r = SSL_SESSION_is_resumable(e);
    printf("resumable empty = %d\n", r);
    SSL_SESSION_free(e);

    printf("== remove a different object with the same id\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(1, 2000, 100);
    add_show(ctx, a);
    remove_show(ctx, b);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable cached a = %d\n", r);
    r = SSL_SESSION_is_resumable(b);
    printf("resumable argument b = %d\n", r);
    show_stats("stats", ctx);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== remove same id, other protocol version\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(1, 2000, 100);
    SSL_SESSION_set_protocol_version(b, TLS1_3_VERSION);
    add_show(ctx, a);
    remove_show(ctx, b);
    r = SSL_SESSION_is_resumable(a);
    printf("resumable cached a = %d\n", r);
    r = SSL_SESSION_is_resumable(b);
    printf("resumable argument b = %d\n", r);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== remove empty-id session\n");
    ctx = new_ctx();
    e = make_session(0, 1000, 100);
    a = make_session(1, 2000, 100);
    add_show(ctx, e);
    add_show(ctx, a);
    remove_show(ctx, e);
    remove_show(ctx, e);
    show_stats("stats", ctx);
    dump_order_cb("end", ctx, log_remove_cb_time);
    SSL_SESSION_free(e);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);

    printf("== session emptied of its id while cached\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    add_show(ctx, a);
    r = SSL_SESSION_set1_id(a, (const unsigned char *)"", 0);
    printf("set1_id len 0 -> %d\n", r);
    remove_show(ctx, a);
    show_stats("stats", ctx);
    {
        unsigned char id[32];
        memset(id, 1, sizeof id);
        r = SSL_SESSION_set1_id(a, id, 32);
        printf("set1_id back to the cached id -> %d\n", r);
    }
    remove_show(ctx, a);
    show_stats("stats", ctx);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);

    printf("== remove callback replaced and cleared\n");
    ctx = new_ctx();
    a = make_session(1, 1000, 100);
    b = make_session(2, 2000, 100);
    add_show(ctx, a);
    add_show(ctx, b);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    remove_show(ctx, a);
    SSL_CTX_sess_set_remove_cb(ctx, NULL);
    remove_show(ctx, b);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== remove many in reverse order\n");
    ctx = new_ctx();
    {
        SSL_SESSION *ss[6];
        for (int i = 0; i < 6; i++) {
            ss[i] = make_session((unsigned char)(i + 1), 1000 + 10 * i, 100);
            SSL_CTX_add_session(ctx, ss[i]);
        }
        for (int i = 5; i >= 0; i--) {
            if (i % 2 == 0)
                remove_show(ctx, ss[i]);
        }
        dump_order_cb("end", ctx, log_remove_cb_time);
        for (int i = 0; i < 6; i++)
            SSL_SESSION_free(ss[i]);
    }
    SSL_CTX_free(ctx);

    /* From SSL_CTX_remove_session libssl runs the callback after releasing its lock, so every
     * action is comparable. From flush, eviction and SSL_CTX_free it holds the lock: there
     * only the actions that take no lock are; the others are a deliberate difference (libssl's
     * nested call fails with EDEADLK, ours works), covered by tests-c/native/reentrancy.c. */
    for (int where = 0; where < 4; where++)
        for (int act = 0; act < ACT_COUNT; act++)
            if (where == 0 || act == ACT_NONE || act == ACT_SET_CACHE_SIZE || act == ACT_GET_MODE)
                reentrant_case(where, (enum action)act);
    return 0;
}
