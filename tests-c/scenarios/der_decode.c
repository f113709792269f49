/*
 * d2i_SSL_SESSION: decoding what i2d wrote and encoding it again, the getters on the result,
 * how *pp advances (and that it does not on failure), trailing bytes, a non-NULL
 * `SSL_SESSION **a` (reused on success, and on failure left partly overwritten, as OpenSSL
 * stores field by field), the defaults d2i applies to fields the DER leaves out, and the
 * checks it makes (version, protocol version, cipher length and suite, id and key lengths).
 */
#include "scenario.h"
#include <stdlib.h>
#include <time.h>

#define T0 1700000000L

static const SSL_CIPHER *find(SSL *ssl, unsigned char hi, unsigned char lo)
{
    unsigned char c[2] = { hi, lo };
    return SSL_CIPHER_find(ssl, c);
}

/* A time the decoder took from the clock shows as "now". */
static void show_time(const char *label, long t)
{
    if (labs(t - (long)time(NULL)) <= 60)
        printf("%s=now", label);
    else
        printf("%s=%ld", label, t);
}

static void show_session(const char *label, const SSL_SESSION *s)
{
    unsigned int idlen = 0, ctxlen = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &idlen);
    const unsigned char *ctx = SSL_SESSION_get0_id_context(s, &ctxlen);
    unsigned char mk[512];
    size_t mklen = SSL_SESSION_get_master_key(s, mk, sizeof mk);
    const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
    const char *host = SSL_SESSION_get0_hostname(s);
    printf("%s: version=%#x cipher=%s", label, SSL_SESSION_get_protocol_version(s),
           c ? SSL_CIPHER_get_name(c) : "(null)");
    if (c)
        printf(" (%08lx)", (unsigned long)SSL_CIPHER_get_id(c));
    show_time(" time", SSL_SESSION_get_time(s));
    printf(" timeout=%ld resumable=%d hostname=%s master_key_len=%zu\n",
           (long)SSL_SESSION_get_timeout(s), SSL_SESSION_is_resumable(s), host ? host : "(null)",
           SSL_SESSION_get_master_key(s, NULL, 0));
    show_hex("  id", id, idlen);
    show_hex("  id_context", ctx, ctxlen);
    show_hex("  master_key", mk, (long)mklen);
}

/* i2d into a fresh buffer; the length, or 0. Clock times are pinned first so the bytes are
 * the same on every run. */
static int encode(SSL_SESSION *s, unsigned char *buf)
{
    if (labs(SSL_SESSION_get_time(s) - (long)time(NULL)) <= 60)
        SSL_SESSION_set_time(s, 1234567);
    unsigned char *p = buf;
    return i2d_SSL_SESSION(s, &p);
}

/* d2i of `len` bytes with a NULL `a`; shows the result, how far *pp went, and the result's
 * re-encoding. */
static void decode(const char *label, const unsigned char *der, long len)
{
    const unsigned char *p = der;
    SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, len);
    printf("%s: d2i(%ld bytes) -> %s, p advanced %ld\n", label, len, s ? "session" : "NULL",
           (long)(p - der));
    if (s == NULL)
        return;
    show_session("  decoded", s);
    unsigned char out[4096];
    int n = encode(s, out);
    show_hex("  re-encoded", out, n);
    SSL_SESSION_free(s);
}

/* Builds a DER from a session template with one byte range replaced. */
static long patched(unsigned char *out, const unsigned char *der, long len, long at,
                    const unsigned char *with, long n)
{
    memcpy(out, der, len);
    memcpy(out + at, with, n);
    return len;
}

/* Writes a DER length. */
static unsigned char *put_len(unsigned char *p, long n)
{
    if (n < 0x80) {
        *p++ = (unsigned char)n;
    } else if (n < 0x100) {
        *p++ = 0x81;
        *p++ = (unsigned char)n;
    } else {
        *p++ = 0x82;
        *p++ = (unsigned char)(n >> 8);
        *p++ = (unsigned char)n;
    }
    return p;
}

static unsigned char *put_octets(unsigned char *p, unsigned char fill, long n)
{
    *p++ = 0x04;
    p = put_len(p, n);
    memset(p, fill, n);
    return p + n;
}

/* A TLS 1.2 session DER with a cipher of `cipher_len` bytes (c0 2f ...), an id, a master key
 * and an id context of the given lengths, time T0 and timeout 7200. */
static long build(unsigned char *out, int cipher_len, long id, long key, long ctx)
{
    unsigned char body[2048], *p = body;
    static const unsigned char head[] = { 0x02, 0x01, 0x01, 0x02, 0x02, 0x03, 0x03 };
    memcpy(p, head, sizeof head);
    p += sizeof head;
    *p++ = 0x04;
    *p++ = (unsigned char)cipher_len;
    for (int i = 0; i < cipher_len; i++)
        *p++ = (unsigned char)(i == 0 ? 0xc0 : 0x2f);
    p = put_octets(p, 0x1d, id);
    p = put_octets(p, 0x6b, key);
    static const unsigned char times[] = { 0xa1, 0x06, 0x02, 0x04, 0x65, 0x53, 0xf1, 0x00,
                                           0xa2, 0x04, 0x02, 0x02, 0x1c, 0x20 };
    memcpy(p, times, sizeof times);
    p += sizeof times;
    *p++ = 0xa4;
    p = put_len(p, ctx + 2);
    p = put_octets(p, 0xc7, ctx);
    unsigned char *q = out;
    *q++ = 0x30;
    q = put_len(q, p - body);
    memcpy(q, body, p - body);
    return (long)(q - out) + (p - body);
}

/* A session with a value in every field the DER carries that differs from the inputs. */
static SSL_SESSION *make_old(SSL *ssl)
{
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set_cipher(s, find(ssl, 0xc0, 0x30));
    SSL_SESSION_set_protocol_version(s, TLS1_1_VERSION);
    SSL_SESSION_set_time(s, 1000);
    SSL_SESSION_set_timeout(s, 2000);
    SSL_SESSION_set1_id(s, (const unsigned char *)"OLDID", 5);
    SSL_SESSION_set1_id_context(s, (const unsigned char *)"OLDCTX", 6);
    SSL_SESSION_set1_master_key(s, (const unsigned char *)"OLDKEY", 6);
    SSL_SESSION_set1_hostname(s, "old.example");
    return s;
}

/* d2i into an existing session; shows the result and what the session holds after. */
static void into_existing(SSL *ssl, const unsigned char *der, long len)
{
    SSL_SESSION *old = make_old(ssl);
    SSL_SESSION *a = old;
    const unsigned char *p = der;
    SSL_SESSION *r = d2i_SSL_SESSION(&a, &p, len);
    printf("  into existing: %s, returned a=%d, a unchanged=%d, p advanced %ld\n",
           r ? "session" : "NULL", r == old, a == old, (long)(p - der));
    show_session("  existing after", old);
    unsigned char out[4096];
    int n = encode(old, out);
    show_hex("  existing re-encoded", out, n);
    SSL_SESSION_free(old);
}

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = SSL_new(ctx);
    unsigned char bytes[512] = {0};

    /* A complete session, and its DER. */
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set_cipher(s, find(ssl, 0x13, 0x02));
    SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
    SSL_SESSION_set_time(s, T0);
    SSL_SESSION_set_timeout(s, 86400);
    for (int i = 0; i < 32; i++)
        bytes[i] = (unsigned char)(0x80 + i);
    SSL_SESSION_set1_id(s, bytes, 32);
    SSL_SESSION_set1_id_context(s, (const unsigned char *)"decode", 6);
    SSL_SESSION_set1_master_key(s, bytes, 48);
    SSL_SESSION_set1_hostname(s, "decode.example");
    show_session("original", s);
    unsigned char der[4096];
    int len = encode(s, der);
    show_hex("original der", der, len);

    /* Round trip, exact length and with trailing bytes. */
    decode("exact", der, len);
    unsigned char longer[4200];
    memcpy(longer, der, len);
    memset(longer + len, 0xee, 50);
    decode("50 trailing bytes", longer, len + 50);
    decode("length 0", der, 0);
    decode("one byte short", der, len - 1);

    /* Two sessions back to back: *pp walks from one to the next. */
    unsigned char two[8192];
    memcpy(two, der, len);
    memcpy(two + len, der, len);
    const unsigned char *p = two;
    for (int i = 0; i < 3; i++) {
        const unsigned char *before = p;
        SSL_SESSION *t = d2i_SSL_SESSION(NULL, &p, (long)(two + 2 * len - p));
        printf("back-to-back %d: %s, p advanced %ld, offset %ld\n", i, t ? "session" : "NULL",
               (long)(p - before), (long)(p - two));
        SSL_SESSION_free(t);
    }

    /* A non-NULL *a is decoded into and returned. */
    SSL_SESSION *target = SSL_SESSION_new();
    SSL_SESSION_set_cipher(target, find(ssl, 0xc0, 0x30));
    SSL_SESSION_set_protocol_version(target, TLS1_2_VERSION);
    SSL_SESSION_set_time(target, 1000);
    SSL_SESSION_set_timeout(target, 2000);
    SSL_SESSION_set1_id(target, (const unsigned char *)"OLDID", 5);
    SSL_SESSION_set1_id_context(target, (const unsigned char *)"OLDCTX", 6);
    SSL_SESSION_set1_master_key(target, (const unsigned char *)"OLDKEY", 6);
    SSL_SESSION_set1_hostname(target, "old.example");
    SSL_SESSION_up_ref(target);
    SSL_SESSION *a = target;
    p = der;
    SSL_SESSION *r = d2i_SSL_SESSION(&a, &p, len);
    printf("d2i(&a): returned a=%d, a unchanged=%d, p advanced %ld\n", r == target, a == target,
           (long)(p - der));
    show_session("  target", target);

    /* With a == &NULL, *a gets the new session. */
    SSL_SESSION *fresh = NULL;
    p = der;
    r = d2i_SSL_SESSION(&fresh, &p, len);
    printf("d2i(&NULL): *a set=%d\n", r != NULL && fresh == r);
    SSL_SESSION_free(fresh);

    /* Failing inputs, each also decoded into an existing session: OpenSSL checks and stores
     * field by field, so what was stored before the failing check stays. The session DER is
     * 30 81 len | 02 01 01 | 02 02 03 04 | 04 02 13 02 | 04 20 id... */
    struct {
        const char *what;
        long at;
        unsigned char with[4];
        long n;
    } bad[] = {
        { "ASN.1 version 2", 5, { 0x02 }, 1 },
        { "protocol version 0x0204", 8, { 0x02 }, 1 },
        { "protocol version fe04 (negative as an INTEGER)", 8, { 0xfe }, 1 },
        { "protocol version 0x0104", 8, { 0x01 }, 1 },
        { "cipher 0x1306 (unknown)", 13, { 0x06 }, 1 },
        { "cipher 0x0000 (unknown)", 12, { 0x00, 0x00 }, 2 },
        { "cipher 0x00ff (SCSV)", 12, { 0x00, 0xff }, 2 },
        { "cipher 0xc02f", 12, { 0xc0, 0x2f }, 2 },
        { "id tag 0x05", 14, { 0x05 }, 1 },
        { "not a SEQUENCE", 0, { 0x31 }, 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char buf[4096];
        long n = patched(buf, der, len, bad[i].at, bad[i].with, bad[i].n);
        decode(bad[i].what, buf, n);
        into_existing(ssl, buf, n);
    }

    /* Built inputs: each field's limit, and one past it. */
    struct {
        const char *what;
        int cipher_len, id, key, ctx;
    } built[] = {
        { "cipher 3 bytes", 3, 1, 1, 1 },  { "id 32", 2, 32, 1, 1 },
        { "id 33", 2, 33, 1, 1 },          { "key 512", 2, 1, 512, 1 },
        { "key 513", 2, 1, 513, 1 },       { "context 32", 2, 1, 1, 32 },
        { "context 33", 2, 1, 1, 33 },     { "all empty", 2, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof built / sizeof built[0]; i++) {
        unsigned char buf[4096];
        long n = build(buf, built[i].cipher_len, built[i].id, built[i].key, built[i].ctx);
        decode(built[i].what, buf, n);
        into_existing(ssl, buf, n);
    }

    /* Decoder defaults: a session with time 0 and timeout 0 (left out of the DER). */
    SSL_SESSION_set_time(s, 0);
    SSL_SESSION_set_timeout(s, 0);
    unsigned char *q = der;
    len = i2d_SSL_SESSION(s, &q);
    show_hex("no time, no timeout", der, len);
    p = der;
    SSL_SESSION *dflt = d2i_SSL_SESSION(NULL, &p, len);
    show_session("  decoded", dflt);
    SSL_SESSION_free(dflt);

    /* Ids, contexts and keys at their length limits, via the setters. */
    SSL_SESSION_set_time(s, T0);
    memset(bytes, 0x33, sizeof bytes);
    SSL_SESSION_set1_master_key(s, bytes, 512);
    SSL_SESSION_set1_id_context(s, bytes, 32);
    SSL_SESSION_set1_id(s, bytes, 0);
    SSL_SESSION_set1_hostname(s, "");
    len = encode(s, der);
    decode("512-byte key, 32-byte context, empty id and hostname", der, len);

    /* A fresh session given only a cipher: version 0 is written but refused when read. */
    SSL_SESSION *v0 = SSL_SESSION_new();
    SSL_SESSION_set_time(v0, T0);
    SSL_SESSION_set_cipher(v0, find(ssl, 0xc0, 0x2f));
    len = encode(v0, der);
    decode("version 0", der, len);
    SSL_SESSION_set_protocol_version(v0, DTLS1_2_VERSION);
    len = encode(v0, der);
    decode("DTLS 1.2", der, len);
    SSL_SESSION_set_protocol_version(v0, 0x0100);
    len = encode(v0, der);
    decode("DTLS1_BAD_VER", der, len);
    SSL_SESSION_free(v0);

    SSL_SESSION_free(target);
    SSL_SESSION_free(target);
    SSL_SESSION_free(s);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
