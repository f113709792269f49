/*
 * A small TLS server for the fleet proof (tests-c/fleet/run.sh), built against the system's
 * libssl and run plain or with libsesscache preloaded. Like nginx, it creates its SSL_CTX
 * (libssl's builtin server cache) and only then forks its workers, which share one listening
 * socket on 127.0.0.1 (or -a ADDR inside a test's network namespace).
 *
 * Protocol: after the handshake the client sends one line and the server answers one line,
 *   "pid=<worker pid> reused=<0|1> version=<TLSv1.2|TLSv1.3> removed=<0|1>\n"
 * then closes. A line "REMOVE" makes the worker call SSL_CTX_remove_session on the
 * connection's session first (an explicit removal, which the fleet must apply everywhere).
 *
 * usage: server -p PORT -C CERT -K KEY [-a ADDR] [-V 12|13] [-s SID_CTX] [-t TIMEOUT]
 *               [-w WORKERS] [-l LIFETIME] [-T]
 *   -V 12   TLS 1.2 only (session ids);  -V 13  TLS 1.3 only, stateful (SSL_OP_NO_TICKET)
 *   -T      stateless tickets instead (no SSL_OP_NO_TICKET): the ticket key ring's benchmark
 *   -s      the session id context (default "sesscache-fleet")
 *   -t      SSL_CTX_set_timeout in seconds (default libssl's 300)
 *   -w      worker processes (default 1)
 *   -l      a hang guard: every process stops by itself after this many seconds (default 120)
 * It prints "ready" on stdout once listening. SIGTERM (or the lifetime) stops the workers
 * cleanly (each frees its context and exits, so exit handlers such as SESSCACHE_REPORT's run);
 * each worker then prints "worker PID: accepted=N failed=M reused=R" on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64

static volatile sig_atomic_t stop;

static void on_stop(int sig) {
    (void)sig;
    stop = 1;
}

static void usage(void) {
    fprintf(stderr, "usage: server -p PORT -C CERT -K KEY [-a ADDR] [-V 12|13] [-s SID_CTX] [-t TIMEOUT] "
                    "[-w WORKERS] [-l LIFETIME] [-T]\n");
    exit(2);
}

/* SIGTERM and SIGALRM set `stop`; without SA_RESTART, so a blocking call returns EINTR. */
static void catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static SSL_CTX *make_ctx(const char *cert, const char *key, int version, const char *sid_ctx, long timeout,
                         int tickets) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) return NULL;
    int v = version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v) ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        !SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_ctx, (unsigned)strlen(sid_ctx))) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* TLS 1.2: session ids only; TLS 1.3: stateful sessions, which the server cache stores. */
    if (!tickets) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (timeout > 0) SSL_CTX_set_timeout(ctx, timeout);
    return ctx;
}

static int listen_on(const char *addr, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fd, 128) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One connection: handshake, one line in, one line out. Returns -1 on a failed handshake,
 * else whether the session was resumed. A stuck client costs at most the socket timeouts. */
static int serve(SSL_CTX *ctx, int fd) {
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1; /* as nginx's tcp_nodelay: small TLS records are not held back by Nagle */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return -1;
    SSL_set_fd(ssl, fd);
    int result = -1;
    if (SSL_accept(ssl) == 1) {
        result = SSL_session_reused(ssl);
        char line[128];
        int n = SSL_read(ssl, line, (int)sizeof line - 1);
        line[n > 0 ? n : 0] = 0;
        int removed = 0;
        if (strncmp(line, "REMOVE", 6) == 0) {
            SSL_SESSION *sess = SSL_get_session(ssl);
            removed = sess != NULL && SSL_CTX_remove_session(ctx, sess) == 1;
        }
        char reply[160];
        int len = snprintf(reply, sizeof reply, "pid=%d reused=%d version=%s removed=%d\n", (int)getpid(), result,
                           SSL_get_version(ssl), removed);
        SSL_write(ssl, reply, len);
        SSL_shutdown(ssl);
    } else {
        ERR_print_errors_fp(stderr);
    }
    ERR_clear_error();
    SSL_free(ssl);
    return result;
}

static void worker(SSL_CTX *ctx, int lfd) {
    unsigned long accepted = 0, failed = 0, reused = 0;
    while (!stop) {
        /* Blocking accept: the kernel wakes one waiting worker at a time, in turn, so the
         * connections spread over the workers as they would over nginx's. A stop signal
         * interrupts it (EINTR); the parent repeats SIGTERM until every worker is gone. */
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        int got = serve(ctx, fd);
        close(fd);
        accepted++;
        if (got < 0) failed++;
        if (got > 0) reused++;
    }
    fprintf(stderr, "worker %d: accepted=%lu failed=%lu reused=%lu\n", (int)getpid(), accepted, failed, reused);
}

static void forget(pid_t *kids, int n, pid_t gone) {
    for (int i = 0; i < n; i++)
        if (kids[i] == gone) kids[i] = 0;
}

int main(int argc, char **argv) {
    const char *cert = NULL, *key = NULL, *addr = "127.0.0.1", *sid_ctx = "sesscache-fleet";
    int port = 0, version = 12, workers = 1, lifetime = 120, tickets = 0;
    long timeout = 0;
    int opt;
    while ((opt = getopt(argc, argv, "p:C:K:a:V:s:t:w:l:T")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'C': cert = optarg; break;
        case 'K': key = optarg; break;
        case 'a': addr = optarg; break;
        case 'V': version = atoi(optarg); break;
        case 's': sid_ctx = optarg; break;
        case 't': timeout = atol(optarg); break;
        case 'w': workers = atoi(optarg); break;
        case 'l': lifetime = atoi(optarg); break;
        case 'T': tickets = 1; break;
        default: usage();
        }
    }
    if (port <= 0 || port > 65535 || cert == NULL || key == NULL || (version != 12 && version != 13) || workers < 1 ||
        workers > MAX_WORKERS || lifetime < 1 || optind != argc)
        usage();
    catch_stop_signals();
    alarm((unsigned)lifetime);

    SSL_CTX *ctx = make_ctx(cert, key, version, sid_ctx, timeout, tickets);
    if (ctx == NULL) {
        fprintf(stderr, "server: cannot set up the context\n");
        ERR_print_errors_fp(stderr);
        return 1;
    }
    int lfd = listen_on(addr, port);
    if (lfd < 0) {
        fprintf(stderr, "server: cannot listen on %s:%d: %s\n", addr, port, strerror(errno));
        SSL_CTX_free(ctx);
        return 1;
    }

    /* Fork after SSL_CTX_new, as nginx and Apache do: the fleet must start lazily in each child. */
    pid_t kids[MAX_WORKERS];
    int started = 0;
    for (; started < workers; started++) {
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) {
            alarm((unsigned)lifetime); /* a child does not inherit the parent's alarm */
            worker(ctx, lfd);
            close(lfd);
            SSL_CTX_free(ctx);
            return 0;
        }
        kids[started] = pid;
    }
    if (started == workers) {
        printf("ready\n");
        fflush(stdout);
    }
    /* The parent waits for a stop signal, or for a worker that dies on its own. */
    int status = 0, bad = started != workers, live = started;
    while (!stop && !bad) {
        pid_t w = waitpid(-1, &status, 0);
        if (w <= 0) continue;
        live--;
        forget(kids, started, w);
        /* `timeout` signals the whole process group: a worker may stop just before us. */
        if (!stop) fprintf(stderr, "server: worker %d ended early (status %d)\n", (int)w, status);
        if (!stop || !WIFEXITED(status) || WEXITSTATUS(status) != 0) bad = 1;
    }
    /* SIGTERM every 100 ms until each worker has gone (one may have been between its stop
     * check and accept when the first arrived); after 5 s, SIGKILL. */
    for (int round = 0; live > 0; round++) {
        for (int i = 0; i < started; i++)
            if (kids[i] > 0) kill(kids[i], round < 50 ? SIGTERM : SIGKILL);
        struct timespec tick = {0, 100 * 1000 * 1000};
        nanosleep(&tick, NULL);
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
            live--;
            forget(kids, started, w);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad = 1;
        }
        if (w < 0) break;
    }
    close(lfd);
    SSL_CTX_free(ctx);
    return bad;
}
