/*
 * The session cache size limit: sizes 1, 2, 3 and 10 reached, which sessions are evicted and
 * in what order (remove callback), cache_full counts, shrinking below the current count,
 * 0 = unlimited, negative and large sizes through SSL_CTX_sess_set_cache_size and
 * SSL_CTX_ctrl, re-adds and same-id replacements in a full cache, a new session expiring
 * before all cached ones, and an empty-id session at the tail blocking eviction.
 */
#include "scenario.h"
#include <limits.h>

static SSL_CTX *new_ctx(long size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    long old = SSL_CTX_sess_set_cache_size(ctx, size);
    long now = SSL_CTX_sess_get_cache_size(ctx);
    printf("set cache size %ld -> %ld, get -> %ld\n", size, old, now);
    SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
    return ctx;
}

static void add_new(SSL_CTX *ctx, unsigned char tag, long time, long timeout)
{
    SSL_SESSION *s = make_session(tag, time, timeout);
    long full;
    add_show(ctx, s);
    full = SSL_CTX_sess_cache_full(ctx);
    printf("  cache_full = %ld\n", full);
    SSL_SESSION_free(s);
}

static void limit_case(long size, int count)
{
    SSL_CTX *ctx;

    printf("== size %ld, %d sessions added in time order\n", size, count);
    ctx = new_ctx(size);
    for (int i = 1; i <= count; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);
}

static void size_value(const char *how, long v)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    long old, now, old2, now2;

    if (how[0] == 'm') {
        old = SSL_CTX_sess_set_cache_size(ctx, v);
        now = SSL_CTX_sess_get_cache_size(ctx);
        old2 = SSL_CTX_sess_set_cache_size(ctx, v);
        now2 = SSL_CTX_sess_get_cache_size(ctx);
    } else {
        old = SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, v, NULL);
        now = SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, NULL);
        old2 = SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, v, NULL);
        now2 = SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, NULL);
    }
    printf("%s set %ld -> %ld, get -> %ld; again -> %ld, get -> %ld\n", how, v, old, now, old2,
           now2);
    SSL_CTX_free(ctx);
}

int main(void)
{
    SSL_CTX *ctx;
    SSL_SESSION *a, *b, *e;
    long r;

    limit_case(1, 4);
    limit_case(2, 5);
    limit_case(3, 6);
    limit_case(10, 13);

    printf("== size 3, sessions added in reverse time order\n");
    ctx = new_ctx(3);
    for (int i = 6; i >= 1; i--)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== size 4, new session expiring before all cached ones\n");
    ctx = new_ctx(4);
    for (int i = 1; i <= 3; i++)
        add_new(ctx, (unsigned char)(10 + i), 5000 + 10 * i, 100);
    add_new(ctx, 1, 10, 100);
    add_new(ctx, 2, 20, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== shrink below the current count, then add\n");
    ctx = new_ctx(10);
    for (int i = 1; i <= 8; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    r = SSL_CTX_sess_set_cache_size(ctx, 3);
    printf("set cache size 3 -> %ld\n", r);
    show_stats("after shrink", ctx);
    add_new(ctx, 20, 2000, 100);
    show_stats("after add", ctx);
    add_new(ctx, 21, 2010, 100);
    show_stats("after second add", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== 0 is unlimited\n");
    ctx = new_ctx(0);
    SSL_CTX_sess_set_remove_cb(ctx, NULL);
    for (int i = 1; i <= 200; i++) {
        SSL_SESSION *s = make_session((unsigned char)i, 1000 + i, 100);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    show_stats("after 200 adds", ctx);
    r = SSL_CTX_sess_set_cache_size(ctx, 150);
    printf("set cache size 150 -> %ld\n", r);
    add_new(ctx, 250, 5000, 100);
    show_stats("after add at 150", ctx);
    SSL_CTX_free(ctx);

    printf("== default size limit 20480\n");
    ctx = SSL_CTX_new(TLS_server_method());
    r = SSL_CTX_sess_get_cache_size(ctx);
    printf("default size = %ld\n", r);
    for (int i = 0; i < 20482; i++) {
        SSL_SESSION *s = SSL_SESSION_new();
        unsigned char id[32];
        memset(id, 0, sizeof id);
        id[0] = (unsigned char)(i & 0xff);
        id[1] = (unsigned char)((i >> 8) & 0xff);
        id[2] = 0xee;
        SSL_SESSION_set1_id(s, id, 32);
        SSL_SESSION_set_time(s, 1000 + i);
        SSL_SESSION_set_timeout(s, 100);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    show_stats("after 20482 adds", ctx);
    SSL_CTX_free(ctx);

    printf("== negative and large sizes\n");
    size_value("macro", -1);
    size_value("macro", -5);
    size_value("macro", LONG_MIN);
    size_value("ctrl", -1);
    size_value("ctrl", -100);
    size_value("macro", 0);
    size_value("macro", 1);
    size_value("macro", 2147483647L);
    size_value("macro", 2147483648L);
    size_value("macro", 4294967295L);
    size_value("macro", 4294967296L);
    size_value("ctrl", LONG_MAX);
    size_value("ctrl", LONG_MAX - 1);

    printf("== negative size rejected keeps the old limit\n");
    ctx = new_ctx(2);
    r = SSL_CTX_sess_set_cache_size(ctx, -1);
    printf("set -1 -> %ld\n", r);
    r = SSL_CTX_sess_get_cache_size(ctx);
    printf("get -> %ld\n", r);
    for (int i = 1; i <= 3; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== LONG_MAX size behaves as unlimited\n");
    ctx = new_ctx(LONG_MAX);
    for (int i = 1; i <= 3; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== re-add of a cached session in a full cache\n");
    ctx = new_ctx(3);
    a = make_session(1, 1010, 100);
    b = make_session(2, 1020, 100);
    add_show(ctx, a);
    add_show(ctx, b);
    add_show(ctx, a);
    add_show(ctx, b);
    r = SSL_CTX_sess_cache_full(ctx);
    printf("cache_full = %ld\n", r);
    dump_order("end", ctx);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_CTX_free(ctx);

    printf("== same-id replacement in a full cache\n");
    ctx = new_ctx(3);
    for (int i = 1; i <= 2; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    printf("replace tag 2:\n");
    add_new(ctx, 2, 3000, 100);
    printf("replace tag 2 again:\n");
    add_new(ctx, 2, 3010, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== over the limit: re-add and same-id replacement\n");
    ctx = new_ctx(0);
    a = make_session(3, 1030, 100);
    for (int i = 1; i <= 5; i++) {
        if (i == 3)
            add_show(ctx, a);
        else
            add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    }
    r = SSL_CTX_sess_set_cache_size(ctx, 3);
    printf("set cache size 3 -> %ld\n", r);
    printf("re-add tag 3 (cached):\n");
    add_show(ctx, a);
    printf("replace tag 3 with a new object expiring first:\n");
    add_new(ctx, 3, 10, 100);
    show_stats("stats", ctx);
    printf("replace tag 5 with a new object expiring last:\n");
    add_new(ctx, 5, 9000, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_SESSION_free(a);
    SSL_CTX_free(ctx);

    printf("== empty-id session at the tail blocks eviction\n");
    ctx = new_ctx(3);
    e = make_session(0, 10, 100);
    add_show(ctx, e);
    SSL_SESSION_free(e);
    for (int i = 1; i <= 5; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== empty-id session reaching the tail after evictions\n");
    ctx = new_ctx(4);
    add_new(ctx, 1, 1000, 100);
    e = make_session(0, 1005, 100);
    add_show(ctx, e);
    SSL_SESSION_free(e);
    for (int i = 2; i <= 6; i++)
        add_new(ctx, (unsigned char)i, 1000 + 10 * i, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);

    printf("== size 1 with an empty-id session\n");
    ctx = new_ctx(1);
    e = make_session(0, 5000, 100);
    add_show(ctx, e);
    SSL_SESSION_free(e);
    add_new(ctx, 1, 1000, 100);
    add_new(ctx, 2, 6000, 100);
    show_stats("stats", ctx);
    dump_order("end", ctx);
    SSL_CTX_free(ctx);
    return 0;
}
