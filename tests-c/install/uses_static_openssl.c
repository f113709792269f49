/* OpenSSL linked in statically (libssl.a, libcrypto.a): `sesscache check` must say that a
 * preload cannot replace its cache. */
#include <openssl/ssl.h>

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_free(ctx);
    return 0;
}
