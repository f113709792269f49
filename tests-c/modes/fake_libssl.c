/*
 * A stand-in for a libssl that is not OpenSSL 3: it defines every function sesscache forwards
 * to, answers OpenSSL 1.1.1's version number, and returns recognisable values, so the test can
 * see that a preloaded sesscache stays out of the way. Generated list: src/preload/real.rs.
 */
#include <stddef.h>

unsigned long OpenSSL_version_num(void) { return 0x1010117fUL; }
void *SSL_CTX_new(const void *method) { (void)method; return (void *)0x5c; }
long SSL_CTX_ctrl(void *ctx, int cmd, long larg, void *parg) { (void)ctx; (void)larg; (void)parg; return 1000 + cmd; }
long CRYPTO_get_ex_new_index(void) { return 0; }
long TLS_method(void) { return 0; }
long TLS_server_method(void) { return 0; }
long TLS_client_method(void) { return 0; }
long SSL_CTX_up_ref(void) { return 0; }
long SSL_CTX_free(void) { return 0; }
long SSL_CTX_set_timeout(void) { return 0; }
long SSL_CTX_get_timeout(void) { return 0; }
long SSL_CTX_set_session_id_context(void) { return 0; }
long SSL_CTX_flush_sessions(void) { return 0; }
long SSL_CTX_add_session(void) { return 0; }
long SSL_CTX_remove_session(void) { return 0; }
long SSL_CTX_set_generate_session_id(void) { return 0; }
long SSL_CTX_sess_set_new_cb(void) { return 0; }
long SSL_CTX_sess_set_remove_cb(void) { return 0; }
long SSL_CTX_sess_set_get_cb(void) { return 0; }
long SSL_CTX_sess_get_new_cb(void) { return 0; }
long SSL_CTX_sess_get_remove_cb(void) { return 0; }
long SSL_CTX_sess_get_get_cb(void) { return 0; }
long SSL_CTX_set_ex_data(void) { return 0; }
long SSL_CTX_get_ex_data(void) { return 0; }
long SSL_SESSION_new(void) { return 0; }
long SSL_SESSION_free(void) { return 0; }
long SSL_SESSION_up_ref(void) { return 0; }
long SSL_SESSION_dup(void) { return 0; }
long SSL_SESSION_get_id(void) { return 0; }
long SSL_SESSION_set1_id(void) { return 0; }
long SSL_SESSION_get0_id_context(void) { return 0; }
long SSL_SESSION_set1_id_context(void) { return 0; }
long SSL_SESSION_get_time(void) { return 0; }
long SSL_SESSION_set_time(void) { return 0; }
long SSL_SESSION_get_timeout(void) { return 0; }
long SSL_SESSION_set_timeout(void) { return 0; }
long SSL_SESSION_get_protocol_version(void) { return 0; }
long SSL_SESSION_set_protocol_version(void) { return 0; }
long SSL_SESSION_set1_master_key(void) { return 0; }
long SSL_SESSION_get_master_key(void) { return 0; }
long SSL_SESSION_get0_hostname(void) { return 0; }
long SSL_SESSION_set1_hostname(void) { return 0; }
long SSL_SESSION_get0_cipher(void) { return 0; }
long SSL_SESSION_set_cipher(void) { return 0; }
long SSL_SESSION_is_resumable(void) { return 0; }
long SSL_SESSION_set_ex_data(void) { return 0; }
long SSL_SESSION_get_ex_data(void) { return 0; }
long i2d_SSL_SESSION(void) { return 0; }
long d2i_SSL_SESSION(void) { return 0; }
long SSL_CIPHER_find(void) { return 0; }
long SSL_CIPHER_get_name(void) { return 0; }
long SSL_CIPHER_get_id(void) { return 0; }
long SSL_new(void) { return 0; }
long SSL_free(void) { return 0; }
long SSL_get_SSL_CTX(void) { return 0; }
long SSL_version(void) { return 0; }
long SSL_is_server(void) { return 0; }
long SSL_get_options(void) { return 0; }
long SSL_get_max_early_data(void) { return 0; }
long SSL_set_session(void) { return 0; }
long SSL_get_session(void) { return 0; }
long SSL_get1_session(void) { return 0; }
long SSL_session_reused(void) { return 0; }
long SSL_set_session_id_context(void) { return 0; }
long SSL_set_connect_state(void) { return 0; }
long SSL_set_accept_state(void) { return 0; }
long SSL_has_matching_session_id(void) { return 0; }
