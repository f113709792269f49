/*
 * report_fork: SESSCACHE_REPORT in a process that forks. Real TLS 1.2 handshakes (libssl,
 * memory BIOs): a server and a client context serve one handshake and are freed; a second pair
 * serves 2 handshakes; the process forks; the child serves 3 and exits; the parent then serves
 * 1 more and exits. Each process must report only its own work: the parent its 4 contexts
 * (1, 1, 3, 3 handshakes), the child the 2 live ones with 3 handshakes each, and nothing of the
 * contexts its parent freed. Prints the pids, for tests-c/modes/run.sh to check the report with.
 */
#include "tls_oracle.h"
#include <sys/wait.h>
#include <unistd.h>

static inline void trace_point(SSL *s, int is_server, int done)
{
    (void)s;
    (void)is_server;
    (void)done;
}

static void handshakes(SSL_CTX *c, SSL_CTX *s, int n)
{
    for (int i = 0; i < n; i++) {
        struct conn p;
        conn_new(&p, c, s);
        if (!conn_handshake(&p)) {
            fprintf(stderr, "handshake failed\n");
            exit(1);
        }
        conn_close(&p, 1, 1);
    }
}

int main(void)
{
    drv_init();
    SSL_CTX *s1 = drv_server_ctx(), *c1 = drv_client_ctx();
    handshakes(c1, s1, 1);
    SSL_CTX_free(s1);
    SSL_CTX_free(c1);
    SSL_CTX *s2 = drv_server_ctx(), *c2 = drv_client_ctx();
    handshakes(c2, s2, 2);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        handshakes(c2, s2, 3);
        exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    handshakes(c2, s2, 1);
    printf("parent %d child %d\n", (int)getpid(), (int)child);
    SSL_CTX_free(s2);
    SSL_CTX_free(c2);
    drv_cleanup();
    return 0;
}
