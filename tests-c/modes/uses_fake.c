/* Calls the cache API of whatever libssl it is linked with (here the stand-in). */
#include <stdio.h>
void *TLS_method(void);
void *SSL_CTX_new(const void *method);
long SSL_CTX_ctrl(void *ctx, int cmd, long larg, void *parg);

int main(void)
{
    void *ctx = SSL_CTX_new(TLS_method());
    printf("ctx=%p number=%ld mode=%ld\n", ctx, SSL_CTX_ctrl(ctx, 20, 0, NULL), SSL_CTX_ctrl(ctx, 45, 0, NULL));
    return 0;
}
