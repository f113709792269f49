/* A program linked against tests-c/install/fake_libssl.c's libssl.so.3 (found by its RUNPATH). */
void fake_ssl_handshake_done(void *ctx);

int main(void)
{
    fake_ssl_handshake_done(0);
    return 0;
}
