/* A stand-in libssl.so.3 for `sesscache check`: it defines SSL_CTX_flush_sessions and calls it
 * from another of its functions, as libssl's automatic flush does. Linked with -Bsymbolic, with
 * -Bsymbolic-functions or plainly, it shows whether check tells the three apart. */
void SSL_CTX_flush_sessions(void *ctx, long t)
{
    (void)ctx;
    (void)t;
}

void fake_ssl_handshake_done(void *ctx)
{
    SSL_CTX_flush_sessions(ctx, 0);
}
