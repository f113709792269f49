/*
 * The cipher table: every two-byte code SSL_CIPHER_find resolves on a real SSL, with id and
 * name, the count, SSL_CIPHER_get_name(NULL), and a few codes looked up by hand (known suites,
 * SCSVs, unknown codes).
 */
#include "scenario.h"

static void show_code(SSL *ssl, unsigned char hi, unsigned char lo)
{
    unsigned char wire[2] = { hi, lo };
    const SSL_CIPHER *c = SSL_CIPHER_find(ssl, wire);
    if (c == NULL)
        printf("find %02x%02x -> NULL\n", hi, lo);
    else
        printf("find %02x%02x -> %08lx %s\n", hi, lo, (unsigned long)SSL_CIPHER_get_id(c),
               SSL_CIPHER_get_name(c));
}

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) {
        printf("no SSL\n");
        return 1;
    }
    long count = 0;
    for (unsigned code = 0; code < 0x10000; code++) {
        unsigned char wire[2] = { (unsigned char)(code >> 8), (unsigned char)code };
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, wire);
        if (c == NULL)
            continue;
        count++;
        printf("%04x %08lx %s\n", code, (unsigned long)SSL_CIPHER_get_id(c), SSL_CIPHER_get_name(c));
    }
    SHOW("count", count);
    printf("get_name(NULL) = %s\n", SSL_CIPHER_get_name(NULL));

    show_code(ssl, 0xc0, 0x2f); /* ECDHE-RSA-AES128-GCM-SHA256 */
    show_code(ssl, 0x13, 0x01); /* TLS_AES_128_GCM_SHA256 */
    show_code(ssl, 0x13, 0x03); /* TLS_CHACHA20_POLY1305_SHA256 */
    show_code(ssl, 0x00, 0x2f); /* AES128-SHA */
    show_code(ssl, 0x00, 0xff); /* renegotiation SCSV */
    show_code(ssl, 0x56, 0x00); /* fallback SCSV */
    show_code(ssl, 0x00, 0x00); /* TLS_NULL_WITH_NULL_NULL: not a suite libssl knows */
    show_code(ssl, 0x13, 0x06); /* unassigned */
    show_code(ssl, 0xff, 0xff); /* unassigned */

    /* The same lookup twice gives the same suite. */
    unsigned char wire[2] = { 0xc0, 0x30 };
    const SSL_CIPHER *a = SSL_CIPHER_find(ssl, wire), *b = SSL_CIPHER_find(ssl, wire);
    SHOW("same suite twice", a == b);

    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
