/*
 * handshake_reneg: client-initiated renegotiation on a finished TLS 1.2 connection, full
 * (SSL_renegotiate: the client offers no session id) and abbreviated
 * (SSL_renegotiate_abbreviated: the client offers its current session). Shared by oracle.c
 * and native.c.
 */

static void reneg_report(const char *label, struct conn *p, int ok)
{
    report(label, p, ok);
}

static void case_reneg(int client_cache)
{
    case_begin(client_cache ? "9 renegotiation, client cache on (SSL_SESS_CACHE_CLIENT)"
                            : "9 renegotiation, client cache off (default mode)");
    if (client_cache)
        SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    report("full", &p, conn_handshake(&p));
    SSL_SESSION *first = SSL_get1_session(p.c);
    g_trace = 1;
    reneg_report("renegotiate (full)", &p, conn_renegotiate(&p, 0));
    g_trace = 0;
    SSL_SESSION *second = SSL_get1_session(p.c);
    g_trace = 1;
    reneg_report("renegotiate (abbreviated)", &p, conn_renegotiate(&p, 1));
    g_trace = 0;
    reneg_report("renegotiate (full) again", &p, conn_renegotiate(&p, 0));
    conn_close(&p, 1, 1);
    show_resumable("first session", first);
    show_resumable("second session", second);

    printf("-- resume the first session, then renegotiate abbreviated\n");
    conn_new(&p, g_cctx, g_sctx);
    SSL_set_session(p.c, first);
    report("resume", &p, conn_handshake(&p));
    reneg_report("renegotiate (abbreviated)", &p, conn_renegotiate(&p, 1));
    printf("-- the server forgets the session, then the client renegotiates abbreviated\n");
    SSL_CTX_remove_session(g_sctx, SSL_get_session(p.s));
    reneg_report("renegotiate (abbreviated)", &p, conn_renegotiate(&p, 1));
    conn_close(&p, 1, 1);

    printf("-- renegotiated connection freed without shutdown\n");
    conn_new(&p, g_cctx, g_sctx);
    SSL_set_session(p.c, second);
    report("resume", &p, conn_handshake(&p));
    reneg_report("renegotiate (full)", &p, conn_renegotiate(&p, 0));
    SSL_SESSION *third = SSL_get1_session(p.c);
    conn_close(&p, 0, 0);
    show_resumable("second session", second);
    show_resumable("third session", third);
    SSL_SESSION_free(first);
    SSL_SESSION_free(second);
    SSL_SESSION_free(third);
    case_end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    drv_init();
    case_reneg(0);
    case_reneg(1);
    drv_cleanup();
    return 0;
}
