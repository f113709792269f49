/*
 * Asks the system libssl about every two-byte cipher suite code and prints, for each one it
 * resolves, "ID NAME" (id in hex, as SSL_CIPHER_get_id returns it). Used by
 * tools/gen_cipher_table.sh to generate src/cipher_table.rs.
 */
#include <openssl/ssl.h>
#include <stdio.h>

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (ssl == NULL) {
        fprintf(stderr, "cipher_probe: cannot make an SSL\n");
        return 1;
    }
    for (unsigned code = 0; code < 0x10000; code++) {
        unsigned char wire[2] = { (unsigned char)(code >> 8), (unsigned char)code };
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, wire);
        if (c != NULL)
            printf("%08lX %s\n", (unsigned long)SSL_CIPHER_get_id(c), SSL_CIPHER_get_name(c));
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
