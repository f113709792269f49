/*
 * handshake_flush: the automatic flush of expired sessions every 256th good handshake
 * (ssl_update_cache tests the good counter, read before this handshake counts, against 0xff),
 * and SSL_SESS_CACHE_NO_AUTO_CLEAR. Every 3rd new session gets its time moved far back in the
 * new-session callback (it is already cached then), so some sessions are expired by the flush;
 * nothing sleeps. Shared by oracle.c and native.c.
 */

static void flush_run(const char *title, long server_mode, long client_mode, int n)
{
    case_begin(title);
    SSL_CTX_set_session_cache_mode(g_sctx, server_mode);
    SSL_CTX_set_session_cache_mode(g_cctx, client_mode);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    g_quiet_cb = 1;
    g_expire_every = 3;
    for (int i = 1; i <= n; i++) {
        struct conn p;
        conn_new(&p, g_cctx, g_sctx);
        int ok = conn_handshake(&p);
        conn_close(&p, 1, 1);
        if (!ok)
            printf("handshake %d FAILED\n", i);
        if (i <= 2 || (i >= 254 && i <= 258) || i == n || i == 511 || i == 512) {
            printf("after handshake %d: new=%ld expired=%ld removed=%ld\n", i, g_n_new, g_expire_count, g_n_remove);
            show_both("  ");
        }
    }
    printf("-- SSL_CTX_flush_sessions(now)\n");
    SSL_CTX_flush_sessions(g_sctx, (long)time(NULL));
    SSL_CTX_flush_sessions(g_cctx, (long)time(NULL));
    printf("removed=%ld\n", g_n_remove);
    show_both("  ");
    case_end();
    printf("removed after SSL_CTX_free=%ld\n", g_n_remove);
}

/* The 256th good handshake is a resumption: the flush runs inside the finish of both sides,
 * so the remove callback shows whether the client's hit was already counted. */
static void case_flush_on_resume(void)
{
    case_begin("10 the flush on a resumed 256th handshake (server SERVER, client CLIENT)");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    g_quiet_cb = 1;
    SSL_SESSION *keep = NULL;
    for (int i = 1; i <= 255; i++) {
        struct conn p;
        conn_new(&p, g_cctx, g_sctx);
        if (!conn_handshake(&p))
            printf("handshake %d FAILED\n", i);
        if (i == 1)
            keep = SSL_get1_session(p.c);
        if (i == 2) {
            /* one expired session on each side */
            SSL_SESSION_set_time(SSL_get_session(p.c), (long)time(NULL) - 100000);
            SSL_SESSION_set_time(SSL_get_session(p.s), (long)time(NULL) - 100000);
        }
        conn_close(&p, 1, 1);
    }
    show_both("  ");
    g_quiet_cb = 0;
    g_trace = 1;
    SSL_SESSION *r = run("resume (256th)", keep, 1, 1);
    g_trace = 0;
    SSL_SESSION_free(keep);
    SSL_SESSION_free(r);
    g_quiet_cb = 1;
    case_end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    drv_init();
    flush_run("10 auto flush on the server (SERVER)", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER, 260);
    flush_run("10 auto flush off (SERVER|NO_AUTO_CLEAR)", SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR,
              SSL_SESS_CACHE_SERVER, 260);
    flush_run("10 auto flush on both sides (server SERVER, client CLIENT)", SSL_SESS_CACHE_SERVER,
              SSL_SESS_CACHE_CLIENT, 260);
    flush_run("10 auto flush with both bits on each context (BOTH)", SSL_SESS_CACHE_BOTH, SSL_SESS_CACHE_BOTH, 260);
    flush_run("10 auto flush, second round (512 handshakes)", SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_OFF, 512);
    case_flush_on_resume();
    drv_cleanup();
    return 0;
}
