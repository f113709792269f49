/*
 * ex_data callbacks that call into the connection whose session they are made or freed for:
 * a session made by a handshake hook (new callback), a connection's session replaced by a new
 * one or by a resumed one (free callback of the last reference), and SSL_free dropping it.
 * No connection lock may be held while they run; one that was deadlocked these (alarm()
 * turns a hang into a failure). Native only: the hooks are sesscache's own, and in libssl
 * the connection still points at the session being freed while its free callback runs.
 */
#include "scenario.h"
#include <time.h>
#include <unistd.h>

static SSL *g_ssl; /* the connection the callbacks call into, when set */

static void on_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    unsigned int idlen = 0;
    if (g_ssl != NULL) {
        SSL_SESSION_get_id(parent, &idlen); /* a server's new id is random: only its length */
        printf("  new cb idlen=%u: SSL_version=%#x reused=%d\n", idlen, SSL_version(g_ssl),
               SSL_session_reused(g_ssl));
    }
}

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    if (g_ssl != NULL) {
        SSL_SESSION *now = SSL_get_session(g_ssl);
        unsigned int idlen = 0;
        if (now != NULL)
            SSL_SESSION_get_id(now, &idlen);
        printf("  free cb tag=%d: SSL_version=%#x connection's session: %s idlen=%u\n", session_tag(parent),
               SSL_version(g_ssl), now == NULL ? "none" : now == parent ? "this one" : "another", idlen);
    }
}

/* Gives the connection a session it alone holds. */
static void hand_over(SSL *ssl, unsigned char tag)
{
    SSL_SESSION *s = make_session(tag, 1000, 300);
    SSL_set_session(ssl, s);
    SSL_SESSION_free(s);
}

int main(void)
{
    alarm(60); /* a deadlock fails the run instead of hanging it */
    printf("index > 0: %d\n", SSL_SESSION_get_ex_new_index(0, NULL, on_new, NULL, on_free) > 0);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"x", 1);
    unsigned char id[32];
    memset(id, 9, sizeof id);

    printf("== client: handshake_start makes a fresh session\n");
    SSL *c = SSL_new(cctx);
    g_ssl = c;
    SHOW("start", sesscache_handshake_start(c, TLS1_2_VERSION));
    printf("== client: the ServerHello's id replaces it\n");
    SHOW("client_resume", sesscache_client_resume(c, id, sizeof id));
    printf("== client: an offered session alone held, replaced by the ServerHello's id\n");
    hand_over(c, 3);
    SHOW("client_resume", sesscache_client_resume(c, id, 5));
    printf("== client: SSL_free drops its session\n");
    hand_over(c, 4);
    SSL_free(c);
    g_ssl = NULL;

    printf("== server: a cached session resumed over one the connection alone holds\n");
    SSL_SESSION *cached = make_session(9, 0, 0);
    SSL_SESSION_set_time(cached, (long)time(NULL));
    SSL_SESSION_set_timeout(cached, 300);
    SSL_SESSION_set1_id_context(cached, (const unsigned char *)"x", 1);
    SHOW("add", SSL_CTX_add_session(sctx, cached));
    SSL_SESSION_free(cached);
    SSL *s = SSL_new(sctx);
    hand_over(s, 5);
    g_ssl = s;
    SHOW("start", sesscache_handshake_start(s, TLS1_2_VERSION));
    SHOW("server_resume", sesscache_server_resume(s, id, sizeof id));
    printf("== server: a full handshake's new session over one the connection alone holds\n");
    g_ssl = NULL;
    hand_over(s, 6);
    SHOW("start", sesscache_handshake_start(s, TLS1_2_VERSION));
    g_ssl = s;
    SHOW("new_session", sesscache_server_new_session(s));
    g_ssl = NULL;
    SSL_free(s);
    show_stats("server", sctx);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return 0;
}
