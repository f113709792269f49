/*
 * Session ids and id contexts: SSL_SESSION_set1_id lengths 0..33, SSL_SESSION_set1_id_context
 * lengths 0..33, SSL_CTX_set_session_id_context and SSL_set_session_id_context up to and over
 * 32 bytes, set1_* from the session's own buffer, and SSL_has_matching_session_id: which
 * protocol version it looks up with (sessions cached under 0, TLS1_2_VERSION, TLS1_3_VERSION
 * and whatever SSL_version reports), lengths 0, 31, 32, 33, id contexts ignored.
 */
#include "scenario.h"

static void show_id(const char *label, const SSL_SESSION *s)
{
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &len);
    show_hex(label, id, (long)len);
}

static void show_sid_ctx(const char *label, const SSL_SESSION *s)
{
    unsigned int len = 0;
    const unsigned char *c = SSL_SESSION_get0_id_context(s, &len);
    show_hex(label, c, (long)len);
}

static void match_case(const char *name, const SSL_METHOD *meth)
{
    SSL_CTX *ctx = SSL_CTX_new(meth);
    SSL *ssl = SSL_new(ctx);
    int v = SSL_version(ssl);
    static const int versions[] = { 0, TLS1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION,
                                    0x10000 /* TLS_ANY_VERSION */ };
    unsigned char id[33];

    printf("== has_matching_session_id, %s, SSL_version %#x\n", name, (unsigned)v);
    /* tag 0x10 + i cached under versions[i]; tag 0x20 under SSL_version(ssl) */
    for (int i = 0; i < 5; i++) {
        SSL_SESSION *s = make_session((unsigned char)(0x10 + i), 1000, 100);
        SSL_SESSION_set_protocol_version(s, versions[i]);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    {
        SSL_SESSION *s = make_session(0x20, 1000, 100);
        SSL_SESSION_set_protocol_version(s, v);
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s);
    }
    for (int i = 0; i < 5; i++) {
        int m;
        memset(id, 0x10 + i, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("cached under %#x: match = %d\n", (unsigned)versions[i], m);
    }
    {
        int m32, m31, m1, m33, m0;
        memset(id, 0x20, sizeof id);
        m32 = SSL_has_matching_session_id(ssl, id, 32);
        m31 = SSL_has_matching_session_id(ssl, id, 31);
        m1 = SSL_has_matching_session_id(ssl, id, 1);
        m33 = SSL_has_matching_session_id(ssl, id, 33);
        m0 = SSL_has_matching_session_id(ssl, id, 0);
        printf("cached under SSL_version: len 32 = %d, 31 = %d, 1 = %d, 33 = %d, 0 = %d\n", m32,
               m31, m1, m33, m0);
    }
    SSL_set_connect_state(ssl);
    {
        int m;
        memset(id, 0x20, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("after set_connect_state: match = %d\n", m);
    }
    SSL_set_accept_state(ssl);
    {
        int m;
        memset(id, 0x20, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("after set_accept_state: match = %d\n", m);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

int main(void)
{
    SSL_SESSION *s;
    unsigned char buf[40];
    int r;

    printf("== SSL_SESSION_set1_id lengths\n");
    s = SSL_SESSION_new();
    for (unsigned int len = 0; len <= 33; len++) {
        unsigned int got = 99;
        for (unsigned int i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)(len + i);
        r = SSL_SESSION_set1_id(s, buf, len);
        SSL_SESSION_get_id(s, &got);
        printf("set1_id len %u -> %d, length %u\n", len, r, got);
    }
    show_id("id after all", s);
    r = SSL_SESSION_set1_id(s, buf, 1000);
    printf("set1_id len 1000 -> %d\n", r);
    r = SSL_SESSION_set1_id(s, buf, 0xffffffffu);
    printf("set1_id len 0xffffffff -> %d\n", r);
    show_id("id after rejected", s);
    SSL_SESSION_free(s);

    printf("== SSL_SESSION_set1_id from its own buffer\n");
    s = SSL_SESSION_new();
    for (unsigned int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(0xa0 + i);
    SSL_SESSION_set1_id(s, buf, 32);
    {
        unsigned int len = 0;
        const unsigned char *own = SSL_SESSION_get_id(s, &len);
        r = SSL_SESSION_set1_id(s, own, 16);
        printf("set1_id(own, 16) -> %d\n", r);
        show_id("id", s);
        own = SSL_SESSION_get_id(s, &len);
        r = SSL_SESSION_set1_id(s, own, 32);
        printf("set1_id(own, 32) -> %d\n", r);
        show_id("id", s);
    }
    SSL_SESSION_free(s);

    printf("== SSL_SESSION_set1_id_context lengths\n");
    s = SSL_SESSION_new();
    for (unsigned int len = 0; len <= 33; len++) {
        unsigned int got = 99;
        for (unsigned int i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)(0x40 + len + i);
        r = SSL_SESSION_set1_id_context(s, buf, len);
        SSL_SESSION_get0_id_context(s, &got);
        printf("set1_id_context len %u -> %d, length %u\n", len, r, got);
    }
    show_sid_ctx("id context after all", s);
    r = SSL_SESSION_set1_id_context(s, buf, 64);
    printf("set1_id_context len 64 -> %d\n", r);
    show_sid_ctx("id context after rejected", s);
    {
        unsigned int len = 0;
        const unsigned char *own = SSL_SESSION_get0_id_context(s, &len);
        r = SSL_SESSION_set1_id_context(s, own, 4);
        printf("set1_id_context(own, 4) -> %d\n", r);
        show_sid_ctx("id context", s);
    }
    SSL_SESSION_free(s);

    printf("== id and id context are independent\n");
    s = SSL_SESSION_new();
    memset(buf, 0x11, sizeof buf);
    SSL_SESSION_set1_id(s, buf, 5);
    memset(buf, 0x22, sizeof buf);
    SSL_SESSION_set1_id_context(s, buf, 7);
    show_id("id", s);
    show_sid_ctx("id context", s);
    r = SSL_SESSION_is_resumable(s);
    printf("resumable = %d\n", r);
    SSL_SESSION_set1_id(s, buf, 0);
    r = SSL_SESSION_is_resumable(s);
    printf("resumable with empty id = %d\n", r);
    show_sid_ctx("id context", s);
    SSL_SESSION_free(s);

    printf("== SSL_CTX_set_session_id_context / SSL_set_session_id_context lengths\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL *ssl = SSL_new(ctx);
        static const unsigned int lens[] = { 0, 1, 16, 31, 32, 33, 64, 1000 };
        memset(buf, 0x33, sizeof buf);
        for (int i = 0; i < 8; i++) {
            int rc = SSL_CTX_set_session_id_context(ctx, buf, lens[i]);
            int rs = SSL_set_session_id_context(ssl, buf, lens[i]);
            printf("len %u: ctx -> %d, ssl -> %d\n", lens[i], rc, rs);
        }
        SSL_free(ssl);
        ssl = SSL_new(ctx);
        r = SSL_set_session_id_context(ssl, buf, 32);
        printf("new SSL after ctx context: set 32 -> %d\n", r);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }

    printf("== session id context does not matter for cache keys\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL *ssl = SSL_new(ctx);
        SSL_SESSION *a = make_session(1, 1000, 100);
        SSL_SESSION *b = make_session(1, 2000, 100);
        int v = SSL_version(ssl);
        unsigned char id[32];
        int m;
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"ctx", 3);
        SSL_set_session_id_context(ssl, (const unsigned char *)"ssl", 3);
        SSL_SESSION_set_protocol_version(a, v);
        SSL_SESSION_set_protocol_version(b, v);
        SSL_SESSION_set1_id_context(a, (const unsigned char *)"A", 1);
        SSL_SESSION_set1_id_context(b, (const unsigned char *)"BB", 2);
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
        add_show(ctx, a);
        add_show(ctx, b);
        memset(id, 1, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("has_matching = %d\n", m);
        remove_show(ctx, a);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("has_matching after remove = %d\n", m);
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }

    printf("== has_matching_session_id with empty and short cached ids\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL *ssl = SSL_new(ctx);
        int v = SSL_version(ssl);
        SSL_SESSION *e = make_session(0, 1000, 100);
        SSL_SESSION *sh = make_session_len(7, 4, 1000, 100);
        unsigned char id[33];
        int m0, m4, m32, m5;
        memset(id, 7, sizeof id);
        SSL_SESSION_set_protocol_version(e, v);
        SSL_SESSION_set_protocol_version(sh, v);
        m0 = SSL_has_matching_session_id(ssl, id, 0);
        printf("len 0 before adding an empty-id session = %d\n", m0);
        SSL_CTX_add_session(ctx, e);
        SSL_CTX_add_session(ctx, sh);
        memset(id, 7, sizeof id);
        m0 = SSL_has_matching_session_id(ssl, id, 0);
        m4 = SSL_has_matching_session_id(ssl, id, 4);
        m5 = SSL_has_matching_session_id(ssl, id, 5);
        m32 = SSL_has_matching_session_id(ssl, id, 32);
        printf("len 0 = %d, len 4 = %d, len 5 = %d, len 32 = %d\n", m0, m4, m5, m32);
        id[3] = 8;
        m4 = SSL_has_matching_session_id(ssl, id, 4);
        printf("len 4 differing last byte = %d\n", m4);
        SSL_SESSION_free(e);
        SSL_SESSION_free(sh);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }

    match_case("TLS_method", TLS_method());
    match_case("TLS_server_method", TLS_server_method());
    match_case("TLS_client_method", TLS_client_method());

    printf("== SSL_version after SSL_set_session\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL *ssl = SSL_new(ctx);
        SSL_SESSION *a = make_session(1, 1000, 100);
        unsigned char id[32];
        int v, m;
        SSL_SESSION_set_protocol_version(a, TLS1_2_VERSION);
        SSL_CTX_add_session(ctx, a);
        r = SSL_set_session(ssl, a);
        v = SSL_version(ssl);
        printf("set_session -> %d, SSL_version %#x\n", r, (unsigned)v);
        memset(id, 1, sizeof id);
        m = SSL_has_matching_session_id(ssl, id, 32);
        printf("has_matching (session cached under TLS1_2) = %d\n", m);
        SSL_SESSION_free(a);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    printf("== a session whose id changes while cached\n");
    {
        /* libssl's hash table keeps the hash of the id a session came in with and compares
         * the session's current id, so the session is then found under neither id; with its
         * old id back it is found again. */
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL *ssl = SSL_new(ctx);
        int version = SSL_version(ssl);
        SSL_SESSION *a = make_session(1, 1000, 100), *b = make_session(2, 1000, 100);
        unsigned char one[32], two[32], three[32];
        memset(one, 1, 32);
        memset(two, 2, 32);
        memset(three, 3, 32);
        SSL_SESSION_set_protocol_version(a, version);
        SSL_SESSION_set_protocol_version(b, version);
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        printf("add a -> %d\n", SSL_CTX_add_session(ctx, a));
        printf("add b -> %d\n", SSL_CTX_add_session(ctx, b));
        SSL_SESSION_set1_id(a, three, 32);
        printf("matching old %d new %d other %d\n", SSL_has_matching_session_id(ssl, one, 32),
               SSL_has_matching_session_id(ssl, three, 32), SSL_has_matching_session_id(ssl, two, 32));
        r = SSL_CTX_remove_session(ctx, a);
        printf("remove a (new id) -> %d number %ld\n", r, SSL_CTX_sess_number(ctx));
        SSL_SESSION_set1_id(a, one, 32);
        printf("matching old id again %d\n", SSL_has_matching_session_id(ssl, one, 32));
        r = SSL_CTX_remove_session(ctx, a);
        printf("remove a (old id) -> %d number %ld\n", r, SSL_CTX_sess_number(ctx));
        SSL_SESSION_free(a);
        SSL_SESSION_free(b);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    return 0;
}
