/*
 * tickets: where a stateless session ticket (TLS 1.3, and TLS 1.2 RFC 5077) resumes, inside one
 * process, with real libssl handshakes over memory BIO pairs (tests-c/lib/tls_oracle.h).
 *
 *   tickets contexts     one line per case: which server context issued a ticket and which
 *                        one it resumed at. Contexts A and B choose nothing (plain libssl: a
 *                        ticket opens only at its own context; with the fleet's ticket keys, at
 *                        either); C and D share keys the application set
 *                        (SSL_CTX_set_tlsext_ticket_keys); E has its own evp ticket callback, F
 *                        the older HMAC_CTX one; G has SSL_OP_NO_TICKET that each of its
 *                        connections clears; H has SSL_OP_NO_TICKET (stateful). Everything the
 *                        application chose behaves as with plain libssl, fleet or not.
 *   tickets rotation P   the fleet's rotation, P seconds (SESSCACHE_FLEET_TICKET_ROTATE=P):
 *                        at a period's start a ticket T0; after one rotation T0 resumes and
 *                        T1 is issued; after the second, T0 does not resume (aged out: a full
 *                        handshake, not an error) and T1 does. Plain libssl never rotates.
 *                        Sleeps about 2P seconds, polling the clock; every loop is bounded.
 *
 * tests-c/tickets/run.sh says what each run must print.
 *
 *   cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Itests-c/lib \
 *      -o tickets tests-c/tickets/tickets.c -lssl -lcrypto
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* F's SSL_CTX_set_tlsext_ticket_key_cb, an HMAC_CTX one */
#include "tls_oracle.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <string.h>
#include <time.h>

static inline void trace_point(SSL *s, int is_server, int done)
{
    (void)s;
    (void)is_server;
    (void)done;
}

static int g_version;

static SSL_CTX *server_ctx(void)
{
    SSL_CTX *ctx = drv_server_ctx();
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    drv_set_version(ctx, g_version);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = drv_client_ctx();
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    drv_set_version(ctx, g_version);
    return ctx;
}

/* Contexts whose connections clear SSL_OP_NO_TICKET on the server side (G). */
static SSL_CTX *g_clears_no_ticket;

/* A handshake offering `offer` (NULL: a full one). Returns the client's session afterwards
 * (holding its newest ticket) or NULL; *reused tells whether the server resumed. */
static SSL_SESSION *handshake(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *offer, int *reused)
{
    struct conn p;
    conn_new(&p, cctx, sctx);
    if (sctx == g_clears_no_ticket)
        SSL_clear_options(p.s, SSL_OP_NO_TICKET);
    if (offer != NULL && !SSL_set_session(p.c, offer))
        drv_die("SSL_set_session");
    SSL_SESSION *got = NULL;
    *reused = -1;
    if (conn_handshake(&p)) {
        *reused = SSL_session_reused(p.s);
        if (g_version == TLS1_3_VERSION && conn_read_tickets(&p) < 0)
            drv_die("reading tickets");
        got = SSL_get1_session(p.c);
    }
    conn_close(&p, 1, 1);
    return got;
}

/* A ticket (a session to offer) from a full handshake at `sctx`. */
static SSL_SESSION *ticket_from(SSL_CTX *cctx, SSL_CTX *sctx)
{
    int reused;
    SSL_SESSION *s = handshake(cctx, sctx, NULL, &reused);
    if (s == NULL || reused != 0)
        drv_die("full handshake");
    return s;
}

static int resumes(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *offer)
{
    int reused;
    SSL_SESSION *s = handshake(cctx, sctx, offer, &reused);
    SSL_SESSION_free(s);
    return reused;
}

/* ---- the application's own ticket handling ---- */

static const unsigned char app_name[16] = "app ticket key ";
static const unsigned char app_aes[32] = "the application's AES-256 key..";
static const unsigned char app_hmac[32] = "the application's HMAC key.....";
static int g_evp_calls, g_legacy_calls;

static int app_evp_cb(SSL *s, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    (void)s;
    g_evp_calls++;
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)app_hmac, sizeof app_hmac);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "sha256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (enc) {
        memcpy(name, app_name, 16);
        memset(iv, 7, EVP_MAX_IV_LENGTH);
        return EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, app_aes, iv) && EVP_MAC_CTX_set_params(hctx, params) ? 1 : -1;
    }
    if (memcmp(name, app_name, 16) != 0)
        return 0;
    return EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, app_aes, iv) && EVP_MAC_CTX_set_params(hctx, params) ? 1 : -1;
}

static int app_legacy_cb(SSL *s, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cctx, HMAC_CTX *hctx, int enc)
{
    (void)s;
    g_legacy_calls++;
    if (enc) {
        memcpy(name, app_name, 16);
        memset(iv, 9, EVP_MAX_IV_LENGTH);
    } else if (memcmp(name, app_name, 16) != 0) {
        return 0;
    }
    if (!HMAC_Init_ex(hctx, app_hmac, sizeof app_hmac, EVP_sha256(), NULL))
        return -1;
    if (enc)
        return EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, app_aes, iv) ? 1 : -1;
    return EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, app_aes, iv) ? 1 : -1;
}

static void set_app_keys(SSL_CTX *ctx)
{
    unsigned char keys[80];
    memcpy(keys, app_name, 16);
    memcpy(keys + 16, app_hmac, 32);
    memcpy(keys + 48, app_aes, 32);
    if (SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof keys) != 1)
        drv_die("SSL_CTX_set_tlsext_ticket_keys");
}

static void contexts(int version)
{
    g_version = version;
    const char *v = version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
    SSL_CTX *cctx = client_ctx();
    SSL_CTX *a = server_ctx(), *b = server_ctx(), *c = server_ctx(), *d = server_ctx(), *e = server_ctx(),
            *f = server_ctx(), *g = server_ctx(), *h = server_ctx();
    set_app_keys(c);
    set_app_keys(d);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(e, app_evp_cb);
    SSL_CTX_set_tlsext_ticket_key_cb(f, app_legacy_cb);
    SSL_CTX_set_options(g, SSL_OP_NO_TICKET);
    g_clears_no_ticket = g;
    SSL_CTX_set_options(h, SSL_OP_NO_TICKET);
    struct {
        const char *name;
        SSL_CTX *ctx;
    } all[] = { { "A", a }, { "B", b }, { "C", c }, { "D", d }, { "E", e }, { "F", f }, { "G", g }, { "H", h } };
    int n = (int)(sizeof all / sizeof all[0]);
    g_evp_calls = g_legacy_calls = 0;
    for (int i = 0; i < n; i++) {
        SSL_SESSION *t = ticket_from(cctx, all[i].ctx);
        printf("%s %s ticket:", v, all[i].name);
        for (int j = 0; j < n; j++)
            printf(" %s=%d", all[j].name, resumes(cctx, all[j].ctx, t));
        printf("\n");
        SSL_SESSION_free(t);
    }
    printf("%s application callbacks called: evp %s, legacy %s\n", v, g_evp_calls > 0 ? "yes" : "no",
           g_legacy_calls > 0 ? "yes" : "no");
    for (int i = 0; i < n; i++)
        SSL_CTX_free(all[i].ctx);
    SSL_CTX_free(cctx);
    g_clears_no_ticket = NULL;
}

/* ---- rotation ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Waits until time(NULL) reaches `t` (at most t - now + 1 seconds, in 20 ms steps). */
static void wait_until(time_t t)
{
    for (int i = 0; i < 50 * 120 && time(NULL) < t; i++)
        sleep_ms(20);
    if (time(NULL) < t)
        drv_die("the clock did not reach the time waited for");
}

static void rotation(int version, long period)
{
    g_version = version;
    const char *v = version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
    SSL_CTX *cctx = client_ctx(), *sctx = server_ctx();
    /* The start of a period: the ring's periods are aligned on the epoch. */
    time_t start = time(NULL);
    wait_until(start - start % period + period);
    time_t b = time(NULL);
    SSL_SESSION *t0 = ticket_from(cctx, sctx);
    wait_until(b + period);
    int t0_after_one = resumes(cctx, sctx, t0);
    SSL_SESSION *t1 = ticket_from(cctx, sctx);
    wait_until(b + 2 * period);
    int t0_after_two = resumes(cctx, sctx, t0);
    int t1_after_two = resumes(cctx, sctx, t1);
    /* The rotations must not have outrun the test: one more would age T1 out too. */
    int in_time = time(NULL) < b + 3 * period;
    printf("%s rotation: T0 after one: %d, T0 after two: %d, T1 after two: %d%s\n", v, t0_after_one, t0_after_two,
           t1_after_two, in_time ? "" : " (too slow: a third period began)");
    FREE_ALL(t0, t1);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

int main(int argc, char **argv)
{
    drv_init();
    if (argc == 2 && strcmp(argv[1], "contexts") == 0) {
        contexts(TLS1_3_VERSION);
        contexts(TLS1_2_VERSION);
    } else if (argc == 3 && strcmp(argv[1], "rotation") == 0 && atol(argv[2]) > 0) {
        rotation(TLS1_3_VERSION, atol(argv[2]));
        rotation(TLS1_2_VERSION, atol(argv[2]));
    } else {
        fprintf(stderr, "usage: tickets contexts | tickets rotation SECONDS\n");
        return 2;
    }
    drv_cleanup();
    return 0;
}
