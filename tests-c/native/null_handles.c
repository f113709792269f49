/*
 * Every function with NULL handles and other bad input, natively. libssl crashes on many of
 * these (a NULL SSL_CTX, SSL or SSL_SESSION); sesscache returns the value OpenSSL uses for
 * failure in that function instead (0, NULL, or -1 where the function signals errors so).
 * Also the pre-1.0 names SSL_add_session / SSL_remove_session, which libssl 3 no longer has,
 * and the handshake hooks' error paths.
 */
#include "scenario.h"

#define P(expr) do { long v_ = (long)(expr); printf("%s = %ld\n", #expr, v_); } while (0)
#define PP(expr) do { const void *p_ = (const void *)(expr); printf("%s is NULL = %d\n", #expr, p_ == NULL); } while (0)

static unsigned char id[33];

static int gen_zero(SSL *s, unsigned char *buf, unsigned int *len)
{
    (void)s; (void)buf;
    *len = 0;
    return 1;
}
static int gen_long(SSL *s, unsigned char *buf, unsigned int *len)
{
    (void)s; (void)buf;
    *len = 33;
    return 1;
}
static int gen_fail(SSL *s, unsigned char *buf, unsigned int *len)
{
    (void)s; (void)buf; (void)len;
    return 0;
}
static int gen_fixed(SSL *s, unsigned char *buf, unsigned int *len)
{
    (void)s;
    memset(buf, 0x42, 16);
    *len = 16;
    return 1;
}

int main(void)
{
    unsigned int len = 99;
    unsigned char buf[8];
    const unsigned char *cp = buf;
    unsigned char *p = NULL;

    printf("== contexts\n");
    PP(SSL_CTX_new(NULL));
    P(SSL_CTX_up_ref(NULL));
    SSL_CTX_free(NULL);
    P(SSL_CTX_ctrl(NULL, SSL_CTRL_SESS_NUMBER, 0, NULL));
    P(SSL_CTX_sess_number(NULL));
    P(SSL_CTX_sess_hits(NULL));
    P(SSL_CTX_sess_cache_full(NULL));
    P(SSL_CTX_set_session_cache_mode(NULL, SSL_SESS_CACHE_BOTH));
    P(SSL_CTX_get_session_cache_mode(NULL));
    P(SSL_CTX_sess_set_cache_size(NULL, 5));
    P(SSL_CTX_sess_get_cache_size(NULL));
    P(SSL_CTX_set_timeout(NULL, 5));
    P(SSL_CTX_get_timeout(NULL));
    P(SSL_CTX_set_session_id_context(NULL, id, 4));
    SSL_CTX_flush_sessions(NULL, 0);
    P(SSL_CTX_add_session(NULL, NULL));
    P(SSL_CTX_remove_session(NULL, NULL));
    SSL_CTX_sess_set_new_cb(NULL, NULL);
    SSL_CTX_sess_set_remove_cb(NULL, NULL);
    SSL_CTX_sess_set_get_cb(NULL, NULL);
    PP(SSL_CTX_sess_get_new_cb(NULL));
    PP(SSL_CTX_sess_get_remove_cb(NULL));
    PP(SSL_CTX_sess_get_get_cb(NULL));
    P(SSL_CTX_set_generate_session_id(NULL, NULL));

    printf("== sessions\n");
    SSL_SESSION_free(NULL);
    P(SSL_SESSION_up_ref(NULL));
    PP(SSL_SESSION_dup(NULL));
    PP(SSL_SESSION_get_id(NULL, &len));
    P(SSL_SESSION_set1_id(NULL, id, 4));
    PP(SSL_SESSION_get0_id_context(NULL, &len));
    P(SSL_SESSION_set1_id_context(NULL, id, 4));
    P(SSL_SESSION_get_time(NULL));
    P(SSL_SESSION_set_time(NULL, 5));
    P(SSL_SESSION_get_timeout(NULL));
    P(SSL_SESSION_set_timeout(NULL, 5));
    P(SSL_SESSION_get_protocol_version(NULL));
    P(SSL_SESSION_set_protocol_version(NULL, TLS1_2_VERSION));
    P(SSL_SESSION_set1_master_key(NULL, id, 4));
    P(SSL_SESSION_get_master_key(NULL, buf, sizeof buf));
    PP(SSL_SESSION_get0_hostname(NULL));
    P(SSL_SESSION_set1_hostname(NULL, "x"));
    PP(SSL_SESSION_get0_cipher(NULL));
    P(SSL_SESSION_set_cipher(NULL, NULL));
    P(SSL_SESSION_is_resumable(NULL));
    P(SSL_SESSION_set_ex_data(NULL, 1, NULL));
    PP(SSL_SESSION_get_ex_data(NULL, 1));
    P(i2d_SSL_SESSION(NULL, &p));
    PP(d2i_SSL_SESSION(NULL, NULL, 8));
    PP(d2i_SSL_SESSION(NULL, &cp, -1));
    PP(d2i_SSL_SESSION(NULL, &cp, 0));

    printf("== connections and ciphers\n");
    PP(SSL_new(NULL));
    SSL_free(NULL);
    PP(SSL_get_SSL_CTX(NULL));
    P(SSL_version(NULL));
    P(SSL_set_session(NULL, NULL));
    PP(SSL_get_session(NULL));
    PP(SSL_get0_session(NULL));
    PP(SSL_get1_session(NULL));
    P(SSL_session_reused(NULL));
    P(SSL_set_session_id_context(NULL, id, 4));
    SSL_set_connect_state(NULL);
    SSL_set_accept_state(NULL);
    P(SSL_has_matching_session_id(NULL, id, 4));
    PP(SSL_CIPHER_find(NULL, id));
    printf("SSL_CIPHER_get_name(NULL) = %s\n", SSL_CIPHER_get_name(NULL));
    P(SSL_CIPHER_get_id(NULL));

    printf("== hooks\n");
    P(sesscache_handshake_start(NULL, TLS1_2_VERSION));
    P(sesscache_server_resume(NULL, id, 4));
    P(sesscache_server_new_session(NULL));
    P(sesscache_client_resume(NULL, id, 4));
    P(sesscache_handshake_finish(NULL));
    P(sesscache_set_verify_peer(NULL, 1));
    P(sesscache_shutdown(NULL));
    P(sesscache_fatal_alert(NULL));

    printf("== live handles, bad arguments\n");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_SESSION *s = SSL_SESSION_new();
    SSL *ssl = SSL_new(ctx);
    P(SSL_SESSION_set1_id(s, NULL, 4));
    P(SSL_SESSION_set1_id(s, id, 33));
    P(SSL_SESSION_set1_id_context(s, id, 33));
    P(SSL_SESSION_set1_master_key(s, NULL, 4));
    P(SSL_SESSION_set1_master_key(s, id, 513));
    P(SSL_SESSION_get_master_key(s, NULL, 0));
    P(SSL_CTX_set_session_id_context(ctx, id, 33));
    P(SSL_set_session_id_context(ssl, id, 33));
    P(SSL_has_matching_session_id(ssl, id, 33));
    P(SSL_has_matching_session_id(ssl, NULL, 4));
    P(SSL_CTX_add_session(ctx, NULL));
    P(SSL_CTX_remove_session(ctx, NULL));
    P(SSL_CTX_ctrl(ctx, 9999, 1, NULL));
    P(SSL_CTX_ctrl(ctx, -1, 1, NULL));
    P(SSL_SESSION_set_ex_data(s, -1, NULL));
    PP(SSL_SESSION_get_ex_data(s, -1));
    PP(SSL_SESSION_get_ex_data(s, 1000));

    printf("== the pre-1.0 names\n");
    SSL_SESSION *t = make_session(7, 1000, 100);
    P(SSL_add_session(ctx, t));
    P(SSL_add_session(ctx, t));
    P(SSL_CTX_sess_number(ctx));
    P(SSL_remove_session(ctx, t));
    P(SSL_remove_session(ctx, t));
    P(SSL_CTX_sess_number(ctx));

    printf("== hook error paths\n");
    P(sesscache_handshake_finish(ssl));          /* no session yet */
    P(sesscache_server_resume(ssl, NULL, 4));
    P(sesscache_server_resume(ssl, id, 33));
    P(sesscache_client_resume(ssl, id, 33));
    P(SSL_CTX_set_generate_session_id(ctx, gen_fail));
    P(sesscache_server_new_session(ssl));
    P(SSL_CTX_set_generate_session_id(ctx, gen_zero));
    P(sesscache_server_new_session(ssl));
    P(SSL_CTX_set_generate_session_id(ctx, gen_long));
    P(sesscache_server_new_session(ssl));
    P(SSL_CTX_set_generate_session_id(ctx, gen_fixed));
    P(sesscache_handshake_start(ssl, TLS1_2_VERSION));
    P(sesscache_server_new_session(ssl));
    SSL_SESSION_get_id(SSL_get_session(ssl), &len);
    printf("generated id length = %u\n", len);
    P(sesscache_handshake_finish(ssl));
    P(SSL_CTX_sess_number(ctx));
    P(sesscache_server_new_session(ssl));        /* the same id is cached now: refused */
    P(sesscache_shutdown(ssl));

    SSL_free(ssl);
    SSL_SESSION_free(t);
    SSL_SESSION_free(s);
    SSL_CTX_free(ctx);
    return 0;
}
