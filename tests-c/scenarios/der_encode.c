/*
 * i2d_SSL_SESSION: what a fresh session, a cipher-only session and sessions completed with the
 * setters encode to (hex), the length-only call (NULL out pointer), how the out pointer
 * advances, and the field values at their edges (zero/negative times and timeouts, the
 * longest ids and master key, DTLS versions, a dup).
 */
#include "scenario.h"

static const SSL_CIPHER *find(SSL *ssl, unsigned char hi, unsigned char lo)
{
    unsigned char c[2] = { hi, lo };
    return SSL_CIPHER_find(ssl, c);
}

/* i2d twice: once for the length, once into a buffer; shows both and how far *pp moved. */
static void encode(const char *label, SSL_SESSION *s)
{
    int n = i2d_SSL_SESSION(s, NULL);
    printf("%s: i2d(NULL) = %d\n", label, n);
    if (n <= 0)
        return;
    unsigned char buf[4096];
    unsigned char *p = buf;
    int m = i2d_SSL_SESSION(s, &p);
    printf("  i2d(&p) = %d, p advanced %ld\n", m, (long)(p - buf));
    show_hex("  der", buf, m);
}

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = SSL_new(ctx);
    unsigned char bytes[600];

    /* A fresh session has no cipher: i2d gives 0 and leaves *pp alone. */
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set_time(s, 1700000000);
    encode("fresh", s);
    unsigned char buf[16], *p = buf;
    SHOW("fresh i2d(&p)", i2d_SSL_SESSION(s, &p));
    SHOW("fresh p advanced", p - buf);
    SHOW("i2d(NULL session)", i2d_SSL_SESSION(NULL, NULL));

    /* Only a cipher: version 0, empty id and key, default timeout and verify result. */
    SSL_SESSION_set_cipher(s, find(ssl, 0xc0, 0x2f));
    encode("cipher only", s);

    /* Everything the setters reach. */
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SSL_SESSION_set_timeout(s, 7200);
    for (int i = 0; i < 32; i++)
        bytes[i] = (unsigned char)(i + 1);
    SSL_SESSION_set1_id(s, bytes, 32);
    SSL_SESSION_set1_id_context(s, (const unsigned char *)"scenario", 8);
    for (int i = 0; i < 48; i++)
        bytes[i] = (unsigned char)(0xff - i);
    SSL_SESSION_set1_master_key(s, bytes, 48);
    SSL_SESSION_set1_hostname(s, "der.example");
    encode("complete", s);

    /* A dup encodes the same. */
    SSL_SESSION *d = SSL_SESSION_dup(s);
    encode("dup", d);
    SSL_SESSION_free(d);

    /* Field edges. */
    SSL_SESSION_set_timeout(s, 0);
    encode("timeout 0 (left out)", s);
    SHOW("set_timeout(-1)", SSL_SESSION_set_timeout(s, -1));
    SHOW("get_timeout", SSL_SESSION_get_timeout(s));
    encode("after set_timeout(-1)", s);
    SSL_SESSION_set_timeout(s, 0x7fffffffL);
    SSL_SESSION_set_time(s, 0);
    encode("time 0 (left out)", s);
    SSL_SESSION_set_time(s, -86400);
    encode("negative time", s);
    SSL_SESSION_set_time(s, 0x7fffffffL);
    encode("time 2^31-1", s);
    SSL_SESSION_set1_hostname(s, NULL);
    SSL_SESSION_set1_id(s, bytes, 0);
    SSL_SESSION_set1_id_context(s, bytes, 0);
    encode("no hostname, empty id and context", s);
    memset(bytes, 0x42, sizeof bytes);
    SHOW("set1_master_key 512", SSL_SESSION_set1_master_key(s, bytes, 512));
    SHOW("set1_master_key 513", SSL_SESSION_set1_master_key(s, bytes, 513));
    SHOW("set1_id 33", SSL_SESSION_set1_id(s, bytes, 33));
    SHOW("set1_id_context 33", SSL_SESSION_set1_id_context(s, bytes, 33));
    SSL_SESSION_set1_id(s, bytes, 1);
    SSL_SESSION_set1_id_context(s, bytes, 32);
    encode("512-byte master key, 1-byte id, 32-byte context", s);
    SSL_SESSION_set1_master_key(s, bytes, 0);
    encode("empty master key", s);

    /* Versions and suites. */
    static const int versions[] = { TLS1_VERSION, TLS1_1_VERSION, TLS1_3_VERSION, DTLS1_VERSION,
                                    DTLS1_2_VERSION, 0x0100, 0x0200, -1 };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        char label[64];
        SSL_SESSION_set_protocol_version(s, versions[i]);
        snprintf(label, sizeof label, "version %#x", versions[i]);
        encode(label, s);
    }
    SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
    static const unsigned char suites[][2] = { { 0x13, 0x01 }, { 0x13, 0x03 }, { 0x00, 0x2f },
                                               { 0x00, 0xff }, { 0xcc, 0xa8 } };
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        const SSL_CIPHER *c = find(ssl, suites[i][0], suites[i][1]);
        char label[96];
        SHOW("set_cipher", SSL_SESSION_set_cipher(s, c));
        snprintf(label, sizeof label, "suite %s", c ? SSL_CIPHER_get_name(c) : "(none)");
        encode(label, s);
    }

    /* An extra reference does not change anything. */
    SSL_SESSION_up_ref(s);
    encode("after up_ref", s);
    SSL_SESSION_free(s);
    SSL_SESSION_free(s);

    /* SSL_SESSION_set_cipher changes the cipher alone; i2d writes the cipher's id, else the
     * id d2i stored (none on a fresh session: i2d gives 0 again once the cipher is cleared). */
    s = SSL_SESSION_new();
    SSL_SESSION_set_time(s, 1700000000);
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SHOW("set_cipher c02f", SSL_SESSION_set_cipher(s, find(ssl, 0xc0, 0x2f)));
    encode("fresh, cipher c02f", s);
    SHOW("set_cipher NULL", SSL_SESSION_set_cipher(s, NULL));
    encode("fresh, cipher cleared", s);
    {
        unsigned char der[4096], *w = der;
        const unsigned char *r = der;
        SSL_SESSION_set_cipher(s, find(ssl, 0xc0, 0x2f));
        long n = i2d_SSL_SESSION(s, &w);
        SSL_SESSION *d = d2i_SSL_SESSION(NULL, &r, n);
        printf("decoded: %d\n", d != NULL);
        SHOW("set_cipher 1302", SSL_SESSION_set_cipher(d, find(ssl, 0x13, 0x02)));
        encode("decoded, cipher 1302", d);
        SHOW("set_cipher NULL", SSL_SESSION_set_cipher(d, NULL));
        encode("decoded, cipher cleared: the id d2i stored", d);
        SHOW("set_cipher 009c", SSL_SESSION_set_cipher(d, find(ssl, 0x00, 0x9c)));
        encode("decoded, cipher 009c", d);
        SSL_SESSION_free(d);
    }
    SSL_SESSION_free(s);

    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
