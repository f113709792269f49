/*
 * d2i_SSL_SESSION on broken input: every prefix of a valid DER (each must fail and leave *pp
 * alone), pseudo-random garbage, and every single-byte change of a valid DER (each one's
 * result, and the re-encoding when it still decodes).
 */
#include "scenario.h"
#include <stdlib.h>
#include <time.h>

static const SSL_CIPHER *find(SSL *ssl, unsigned char hi, unsigned char lo)
{
    unsigned char c[2] = { hi, lo };
    return SSL_CIPHER_find(ssl, c);
}

/* d2i of `len` bytes; "NULL" or the bytes consumed and the re-encoding. A time taken from the
 * clock (the DER had none) is pinned first so the bytes are the same on every run. */
static void try_decode(const char *label, const unsigned char *der, long len, int show)
{
    const unsigned char *p = der;
    SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, len);
    if (s == NULL) {
        if (show || p != der)
            printf("%s: NULL, p advanced %ld\n", label, (long)(p - der));
        return;
    }
    printf("%s: session, p advanced %ld", label, (long)(p - der));
    if (labs(SSL_SESSION_get_time(s) - (long)time(NULL)) <= 60) {
        printf(", time=now");
        SSL_SESSION_set_time(s, 1234567);
    }
    printf("\n");
    unsigned char out[4096], *q = out;
    int n = i2d_SSL_SESSION(s, &q);
    show_hex("  re-encoded", out, n);
    SSL_SESSION_free(s);
}

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = SSL_new(ctx);

    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION_set_cipher(s, find(ssl, 0xc0, 0x2b));
    SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
    SSL_SESSION_set_time(s, 1700000000);
    SSL_SESSION_set_timeout(s, 300);
    unsigned char id[32];
    for (int i = 0; i < 32; i++)
        id[i] = (unsigned char)(3 * i);
    SSL_SESSION_set1_id(s, id, 32);
    SSL_SESSION_set1_id_context(s, (const unsigned char *)"trunc", 5);
    SSL_SESSION_set1_master_key(s, id, 32);
    SSL_SESSION_set1_hostname(s, "t.example");
    unsigned char der[1024], *q = der;
    int len = i2d_SSL_SESSION(s, &q);
    show_hex("der", der, len);

    /* Every prefix, each in an exact-size heap buffer so reading past the end would show. */
    int decoded = 0;
    for (int n = 0; n < len; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, der, n);
        const unsigned char *p = cut;
        SSL_SESSION *t = d2i_SSL_SESSION(NULL, &p, n);
        if (t != NULL || p != cut)
            printf("prefix %d: %s, p advanced %ld\n", n, t ? "session" : "NULL", (long)(p - cut));
        decoded += t != NULL;
        SSL_SESSION_free(t);
        free(cut);
    }
    SHOW("prefixes that decode", decoded);
    try_decode("whole", der, len, 1);

    /* Garbage from a fixed linear congruential generator; some start with a SEQUENCE tag. */
    unsigned int x = 12345;
    decoded = 0;
    for (int i = 0; i < 2000; i++) {
        unsigned char g[96];
        int n = i % 96;
        for (int j = 0; j < n; j++) {
            x = x * 1103515245u + 12345u;
            g[j] = (unsigned char)(x >> 16);
        }
        if (i % 2 && n > 2) {
            g[0] = 0x30;
            g[1] = (unsigned char)(n - 2);
        }
        unsigned char *heap = malloc(n ? n : 1);
        memcpy(heap, g, n);
        const unsigned char *p = heap;
        SSL_SESSION *t = d2i_SSL_SESSION(NULL, &p, n);
        decoded += t != NULL;
        SSL_SESSION_free(t);
        free(heap);
    }
    SHOW("garbage inputs that decode", decoded);

    /* Every byte replaced by a few values: what still decodes, and to what. */
    static const unsigned char values[] = { 0x00, 0x01, 0x04, 0x24, 0x30, 0x7f, 0x80, 0x81, 0xa0, 0xff };
    decoded = 0;
    for (int at = 0; at < len; at++) {
        for (size_t v = 0; v < sizeof values; v++) {
            if (der[at] == values[v])
                continue;
            unsigned char *m = malloc(len);
            memcpy(m, der, len);
            m[at] = values[v];
            char label[64];
            snprintf(label, sizeof label, "byte %d = %02x", at, values[v]);
            const unsigned char *p = m;
            SSL_SESSION *t = d2i_SSL_SESSION(NULL, &p, len);
            if (t != NULL) {
                decoded++;
                SSL_SESSION_free(t);
                try_decode(label, m, len, 0);
            }
            free(m);
        }
    }
    SHOW("single-byte changes that decode", decoded);

    SSL_SESSION_free(s);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
