/*
 * SSL_SESSION fields: master key set/get (lengths, short and zero output buffers), hostname
 * set/get/NULL/replace, cipher via SSL_CIPHER_find on TLS 1.2 and TLS 1.3 suites, protocol
 * version, SSL_SESSION_dup (what is copied, not cached, resumable), ex_data (indices, set/get,
 * unset and negative indices) and reference counts (up_ref, free after up_ref).
 */
#include "scenario.h"

static void show_cipher(const char *label, const SSL_CIPHER *c)
{
    if (c == NULL) {
        printf("%s: NULL\n", label);
    } else {
        const char *name = SSL_CIPHER_get_name(c);
        unsigned long id = (unsigned long)SSL_CIPHER_get_id(c);
        printf("%s: %s id=%#lx\n", label, name, id);
    }
}

static void show_session(const char *label, const SSL_SESSION *s)
{
    unsigned int idlen = 0, ctxlen = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &idlen);
    const unsigned char *sc = SSL_SESSION_get0_id_context(s, &ctxlen);
    long t = SSL_SESSION_get_time(s);
    long to = SSL_SESSION_get_timeout(s);
    int v = SSL_SESSION_get_protocol_version(s);
    int res = SSL_SESSION_is_resumable(s);
    const char *host = SSL_SESSION_get0_hostname(s);
    const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
    unsigned char mk[64];
    size_t mklen = SSL_SESSION_get_master_key(s, mk, sizeof mk);

    printf("%s: time=%ld timeout=%ld version=%#x resumable=%d hostname=%s\n", label, t, to,
           (unsigned)v, res, host ? host : "(null)");
    show_hex("  id", id, (long)idlen);
    show_hex("  id context", sc, (long)ctxlen);
    show_hex("  master key", mk, (long)mklen);
    show_cipher("  cipher", c);
}

int main(void)
{
    SSL_SESSION *s, *d;
    unsigned char key[600], out[600];
    int r;
    size_t n;

    for (unsigned int i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 3);

    printf("== master key lengths\n");
    {
        static const size_t lens[] = { 0, 1, 47, 48, 49, 64, 255, 256, 257, 512, 513 };
        s = SSL_SESSION_new();
        for (int i = 0; i < 11; i++) {
            size_t got, copied;
            r = SSL_SESSION_set1_master_key(s, key, lens[i]);
            got = SSL_SESSION_get_master_key(s, NULL, 0);
            memset(out, 0, sizeof out);
            copied = SSL_SESSION_get_master_key(s, out, sizeof out);
            printf("set len %zu -> %d, length %zu, copied %zu, bytes match %d\n", lens[i], r,
                   got, copied, memcmp(out, key, copied) == 0);
        }
        SSL_SESSION_free(s);
    }

    printf("== master key get with short and zero buffers\n");
    s = SSL_SESSION_new();
    r = SSL_SESSION_set1_master_key(s, key, 48);
    printf("set 48 -> %d\n", r);
    {
        static const size_t outs[] = { 0, 1, 16, 47, 48, 49, 100 };
        for (int i = 0; i < 7; i++) {
            memset(out, 0xee, sizeof out);
            n = SSL_SESSION_get_master_key(s, out, outs[i]);
            printf("get outlen %zu -> %zu, copied ok %d, next byte untouched %d\n", outs[i], n,
                   memcmp(out, key, outs[i] < 48 ? outs[i] : 48) == 0 || outs[i] == 0,
                   out[outs[i] < 48 ? outs[i] : 48] == 0xee);
        }
    }
    r = SSL_SESSION_set1_master_key(s, key + 100, 10);
    printf("replace with 10 bytes -> %d\n", r);
    n = SSL_SESSION_get_master_key(s, out, sizeof out);
    show_hex("master key", out, (long)n);
    r = SSL_SESSION_set1_master_key(s, key, 1000);
    printf("set 1000 -> %d\n", r);
    n = SSL_SESSION_get_master_key(s, out, sizeof out);
    show_hex("master key after rejected", out, (long)n);
    r = SSL_SESSION_set1_master_key(s, key, 0);
    printf("set 0 -> %d\n", r);
    n = SSL_SESSION_get_master_key(s, NULL, 0);
    printf("length = %zu\n", n);
    SSL_SESSION_free(s);

    printf("== hostname\n");
    s = SSL_SESSION_new();
    {
        const char *h;
        h = SSL_SESSION_get0_hostname(s);
        printf("initial = %s\n", h ? h : "(null)");
        r = SSL_SESSION_set1_hostname(s, "example.com");
        h = SSL_SESSION_get0_hostname(s);
        printf("set example.com -> %d, get %s\n", r, h ? h : "(null)");
        r = SSL_SESSION_set1_hostname(s, "other.example.org");
        h = SSL_SESSION_get0_hostname(s);
        printf("replace -> %d, get %s\n", r, h ? h : "(null)");
        r = SSL_SESSION_set1_hostname(s, "");
        h = SSL_SESSION_get0_hostname(s);
        printf("set empty -> %d, get is NULL %d, get \"%s\"\n", r, h == NULL, h ? h : "");
        r = SSL_SESSION_set1_hostname(s, NULL);
        h = SSL_SESSION_get0_hostname(s);
        printf("set NULL -> %d, get is NULL %d\n", r, h == NULL);
        r = SSL_SESSION_set1_hostname(s, NULL);
        printf("set NULL again -> %d\n", r);
        {
            char buf[300];
            memset(buf, 'a', sizeof buf - 1);
            buf[sizeof buf - 1] = 0;
            r = SSL_SESSION_set1_hostname(s, buf);
            h = SSL_SESSION_get0_hostname(s);
            printf("set 299 chars -> %d, length %zu\n", r, h ? strlen(h) : (size_t)0);
            buf[0] = 'b';
            h = SSL_SESSION_get0_hostname(s);
            printf("copy is independent of the buffer: first char %c\n", h ? h[0] : '?');
        }
        r = SSL_SESSION_set1_hostname(s, "xn--bcher-kva.example");
        h = SSL_SESSION_get0_hostname(s);
        printf("set punycode -> %d, get %s\n", r, h ? h : "(null)");
    }
    SSL_SESSION_free(s);

    printf("== ciphers via SSL_CIPHER_find\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_method());
        SSL *ssl = SSL_new(ctx);
        static const unsigned char suites[][2] = {
            { 0xc0, 0x2f }, { 0xc0, 0x30 }, { 0xc0, 0x2b }, { 0xcc, 0xa8 }, { 0x00, 0x9c },
            { 0x00, 0x2f }, { 0x00, 0x35 }, { 0x13, 0x01 }, { 0x13, 0x02 }, { 0x13, 0x03 },
            { 0x13, 0x04 }, { 0x13, 0x05 }, { 0x00, 0x00 }, { 0xff, 0xff }, { 0x13, 0x06 },
        };
        const SSL_CIPHER *c, *c2;
        for (int i = 0; i < 15; i++) {
            char label[32];
            c = SSL_CIPHER_find(ssl, suites[i]);
            snprintf(label, sizeof label, "find %02x%02x", suites[i][0], suites[i][1]);
            show_cipher(label, c);
        }
        s = SSL_SESSION_new();
        c = SSL_SESSION_get0_cipher(s);
        show_cipher("new session cipher", c);
        c = SSL_CIPHER_find(ssl, suites[0]);
        r = SSL_SESSION_set_cipher(s, c);
        c2 = SSL_SESSION_get0_cipher(s);
        printf("set_cipher -> %d, same pointer %d\n", r, c2 == c);
        show_cipher("session cipher", c2);
        c = SSL_CIPHER_find(ssl, suites[7]);
        r = SSL_SESSION_set_cipher(s, c);
        c2 = SSL_SESSION_get0_cipher(s);
        printf("set_cipher TLS 1.3 -> %d, same pointer %d\n", r, c2 == c);
        show_cipher("session cipher", c2);
        c2 = SSL_CIPHER_find(ssl, suites[7]);
        printf("find twice gives the same pointer %d\n", c2 == c);
        r = SSL_SESSION_set_cipher(s, NULL);
        c2 = SSL_SESSION_get0_cipher(s);
        printf("set_cipher NULL -> %d, get is NULL %d\n", r, c2 == NULL);
        {
            const char *nn = SSL_CIPHER_get_name(NULL);
            printf("SSL_CIPHER_get_name(NULL) = %s\n", nn ? nn : "(null pointer)");
        }
        SSL_SESSION_free(s);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }

    printf("== protocol version\n");
    s = SSL_SESSION_new();
    {
        static const int vs[] = { TLS1_2_VERSION, TLS1_3_VERSION, 0, -1, 0x10000, 0x7fffffff,
                                  SSL3_VERSION, DTLS1_2_VERSION };
        for (int i = 0; i < 8; i++) {
            int g;
            r = SSL_SESSION_set_protocol_version(s, vs[i]);
            g = SSL_SESSION_get_protocol_version(s);
            printf("set %#x -> %d, get %#x\n", (unsigned)vs[i], r, (unsigned)g);
        }
    }
    SSL_SESSION_free(s);

    printf("== SSL_SESSION_dup copies fields\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_method());
        SSL *ssl = SSL_new(ctx);
        static const unsigned char suite[2] = { 0xc0, 0x2f };
        s = make_session(0x5a, 123456, 789);
        SSL_SESSION_set1_id_context(s, (const unsigned char *)"context", 7);
        SSL_SESSION_set1_master_key(s, key, 48);
        SSL_SESSION_set1_hostname(s, "dup.example");
        SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, suite));
        show_session("original", s);
        d = SSL_SESSION_dup(s);
        printf("dup is a new object %d\n", d != s);
        show_session("dup", d);
        {
            const char *h1 = SSL_SESSION_get0_hostname(s);
            const char *h2 = SSL_SESSION_get0_hostname(d);
            printf("hostname copied, not shared %d\n", h1 != h2);
        }
        SSL_SESSION_set1_hostname(s, "changed.example");
        SSL_SESSION_set_time(s, 1);
        show_session("dup after changing the original", d);
        SSL_SESSION_free(d);
        SSL_SESSION_free(s);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }

    printf("== SSL_SESSION_dup of a cached session is not cached\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        long num;
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb_time);
        s = make_session(1, 1000, 100);
        add_show(ctx, s);
        d = SSL_SESSION_dup(s);
        num = SSL_CTX_sess_number(ctx);
        printf("number after dup = %ld\n", num);
        r = SSL_SESSION_is_resumable(d);
        printf("dup resumable = %d\n", r);
        SSL_SESSION_set_time(d, 5000);
        printf("set_time on the dup; flush 1101:\n");
        flush_show(ctx, 1101);
        printf("add the dup:\n");
        add_show(ctx, d);
        printf("remove the original (dup is cached under the same id):\n");
        remove_show(ctx, s);
        r = SSL_SESSION_is_resumable(d);
        printf("dup resumable = %d\n", r);
        SSL_SESSION_free(d);
        SSL_SESSION_free(s);
        SSL_CTX_free(ctx);
    }

    printf("== SSL_SESSION_dup of a removed session\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        s = make_session(1, 1000, 100);
        SSL_CTX_add_session(ctx, s);
        SSL_CTX_remove_session(ctx, s);
        r = SSL_SESSION_is_resumable(s);
        printf("original resumable = %d\n", r);
        d = SSL_SESSION_dup(s);
        r = SSL_SESSION_is_resumable(d);
        printf("dup resumable = %d\n", r);
        r = SSL_CTX_add_session(ctx, d);
        printf("add dup -> %d\n", r);
        r = SSL_SESSION_is_resumable(d);
        printf("dup resumable after add = %d\n", r);
        SSL_SESSION_free(d);
        SSL_SESSION_free(s);
        SSL_CTX_free(ctx);
    }

    printf("== SSL_SESSION_dup of an empty session\n");
    s = SSL_SESSION_new();
    SSL_SESSION_set_time(s, 42);
    d = SSL_SESSION_dup(s);
    show_session("dup of new", d);
    SSL_SESSION_free(d);
    SSL_SESSION_free(s);

    printf("== ex_data\n");
    {
        static int v1, v2, v3;
        int i1 = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        int i2 = SSL_SESSION_get_ex_new_index(5, NULL, NULL, NULL, NULL);
        void *p;
        printf("indices: %d %d (increasing by one %d)\n", i1, i2, i2 == i1 + 1);
        s = SSL_SESSION_new();
        p = SSL_SESSION_get_ex_data(s, i1);
        printf("unset get is NULL %d\n", p == NULL);
        r = SSL_SESSION_set_ex_data(s, i1, &v1);
        p = SSL_SESSION_get_ex_data(s, i1);
        printf("set i1 -> %d, get is &v1 %d\n", r, p == &v1);
        p = SSL_SESSION_get_ex_data(s, i2);
        printf("i2 still NULL %d\n", p == NULL);
        r = SSL_SESSION_set_ex_data(s, i2, &v2);
        p = SSL_SESSION_get_ex_data(s, i2);
        printf("set i2 -> %d, get is &v2 %d\n", r, p == &v2);
        r = SSL_SESSION_set_ex_data(s, i1, &v3);
        p = SSL_SESSION_get_ex_data(s, i1);
        printf("overwrite i1 -> %d, get is &v3 %d\n", r, p == &v3);
        r = SSL_SESSION_set_ex_data(s, i1, NULL);
        p = SSL_SESSION_get_ex_data(s, i1);
        printf("set i1 NULL -> %d, get is NULL %d\n", r, p == NULL);
        p = SSL_SESSION_get_ex_data(s, -1);
        printf("get -1 is NULL %d\n", p == NULL);
        r = SSL_SESSION_set_ex_data(s, -1, &v1);
        printf("set -1 -> %d\n", r);
        p = SSL_SESSION_get_ex_data(s, i2 + 50);
        printf("get unallocated index is NULL %d\n", p == NULL);
        r = SSL_SESSION_set_ex_data(s, i2 + 50, &v1);
        p = SSL_SESSION_get_ex_data(s, i2 + 50);
        printf("set unallocated index -> %d, get is &v1 %d\n", r, p == &v1);
        p = SSL_SESSION_get_ex_data(s, 0);
        printf("get index 0 is NULL %d\n", p == NULL);
        r = SSL_SESSION_set_ex_data(s, 0, &v2);
        p = SSL_SESSION_get_ex_data(s, 0);
        printf("set index 0 -> %d, get is &v2 %d\n", r, p == &v2);
        d = SSL_SESSION_dup(s);
        p = SSL_SESSION_get_ex_data(d, i2);
        printf("dup i2 is &v2 %d\n", p == &v2);
        p = SSL_SESSION_get_ex_data(d, 0);
        printf("dup index 0 is &v2 %d\n", p == &v2);
        p = SSL_SESSION_get_ex_data(d, i2 + 50);
        printf("dup unallocated index is &v1 %d\n", p == &v1);
        SSL_SESSION_free(d);
        SSL_SESSION_free(s);
    }

    printf("== up_ref and free\n");
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_sess_set_remove_cb(ctx, log_remove_cb);
        s = make_session(1, 1000, 100);
        r = SSL_SESSION_up_ref(s);
        printf("up_ref -> %d\n", r);
        r = SSL_SESSION_up_ref(s);
        printf("up_ref -> %d\n", r);
        SSL_SESSION_free(s);
        SSL_SESSION_free(s);
        r = SSL_SESSION_is_resumable(s);
        printf("still alive after two frees: resumable %d\n", r);
        add_show(ctx, s);
        SSL_SESSION_free(s);
        printf("cache holds the last reference; flush:\n");
        flush_show(ctx, 0);
        SSL_CTX_free(ctx);
        SSL_SESSION_free(NULL);
        printf("SSL_SESSION_free(NULL) ok\n");
    }
    return 0;
}
