/*
 * handshake_tls12: what TLS 1.2 handshakes (session ids, no tickets) do to the session caches
 * of a server context and a client context. Shared by oracle.c and native.c.
 */

/* Where each counter moves: every callback and both ends of each handshake print the stats. */
static void case_trace(void)
{
    case_begin("0 trace: where each counter moves (client cache on, callbacks on both sides)");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    g_trace = 1;
    printf("-- full handshake\n");
    SSL_SESSION *a = run("full", NULL, 1, 1);
    printf("-- resumed handshake\n");
    SSL_SESSION *b = run("resume", a, 1, 1);
    printf("-- offered session unknown to the server\n");
    SSL_SESSION *srv = NULL;
    {
        struct conn p;
        conn_new(&p, g_cctx, g_sctx);
        SSL_set_session(p.c, a);
        report("resume again", &p, conn_handshake(&p));
        srv = SSL_get1_session(p.s);
        conn_close(&p, 1, 1);
    }
    printf("remove_session(server) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    SSL_SESSION *c = run("miss", a, 1, 1);
    g_trace = 0;
    SSL_SESSION_free(srv);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    case_end();
}

static void case_basic(void)
{
    case_begin("1 full handshake, then resume with the client's session");
    SSL_SESSION *a = run("full", NULL, 1, 1);
    SSL_SESSION *b = run("resume", a, 1, 1);
    SSL_SESSION *c = run("resume again", a, 1, 1);
    printf("same session object back: %d %d\n", a == b, a == c);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    case_end();
}

static void case_removed(void)
{
    case_begin("2 resume after SSL_CTX_remove_session on the server");
    install_cbs(g_sctx, EXT_OFF);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    report("full", &p, conn_handshake(&p));
    SSL_SESSION *a = SSL_get1_session(p.c);
    SSL_SESSION *srv = SSL_get1_session(p.s);
    conn_close(&p, 1, 1);
    printf("remove_session(server, server's copy) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    printf("remove_session(server, again) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    show_resumable("server's copy", srv);
    show_resumable("client's copy", a);
    show_stats("server", g_sctx);
    SSL_SESSION *b = run("resume removed", a, 1, 1);
    SSL_SESSION *c = run("resume the new one", b, 1, 1);
    SSL_SESSION_free(srv);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    case_end();
}

static void case_cache_off(void)
{
    case_begin("3 server cache off (SSL_SESS_CACHE_OFF)");
    install_cbs(g_sctx, EXT_OFF);
    printf("-- a session cached while the mode was SERVER, offered after the switch to OFF\n");
    SSL_SESSION *x = run("full (SERVER)", NULL, 1, 1);
    SSL_SESSION *y = run("full (SERVER)", NULL, 1, 1);
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_OFF);
    SSL_SESSION *x2 = run("resume (OFF)", x, 1, 1);
    SSL_CTX_flush_sessions(g_sctx, 0);
    SSL_SESSION *y2 = run("resume after flush (OFF)", y, 1, 1);
    SSL_SESSION_free(x);
    SSL_SESSION_free(y);
    SSL_SESSION_free(x2);
    SSL_SESSION_free(y2);
    printf("-- sessions made while the mode is OFF\n");
    SSL_SESSION *a = run("full", NULL, 1, 1);
    SSL_SESSION *b = run("resume", a, 1, 1);
    printf("-- mode NO_INTERNAL_LOOKUP only (no SERVER bit)\n");
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_NO_INTERNAL_LOOKUP);
    SSL_SESSION *c = run("resume", a, 1, 1);
    printf("-- mode SERVER|NO_INTERNAL (no get callback)\n");
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_SESSION *d = run("full", NULL, 1, 1);
    SSL_SESSION *e = run("resume", d, 1, 1);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
    SSL_SESSION_free(e);
    case_end();
}

static void case_expired(void)
{
    case_begin("4 session expired on the server");
    install_cbs(g_sctx, EXT_OFF);
    SSL_CTX_set_timeout(g_sctx, 100);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    report("full", &p, conn_handshake(&p));
    SSL_SESSION *a = SSL_get1_session(p.c);
    SSL_SESSION *srv = SSL_get_session(p.s);
    printf("server session timeout = %ld, client session timeout = %ld\n", SSL_SESSION_get_timeout(srv),
           SSL_SESSION_get_timeout(a));
    SSL_SESSION_set_time(srv, (long)time(NULL) - 200);
    conn_close(&p, 1, 1);
    show_stats("server", g_sctx);
    g_trace = 1;
    SSL_SESSION *b = run("resume expired", a, 1, 1);
    g_trace = 0;
    show_resumable("client's old copy", a);

    printf("-- the client's copy expired, the server's not\n");
    SSL_SESSION_set_time(b, (long)time(NULL) - 200);
    SSL_SESSION *c = run("resume", b, 1, 1);

    printf("-- expired by timeout 0 set on the cached session\n");
    conn_new(&p, g_cctx, g_sctx);
    report("full", &p, conn_handshake(&p));
    SSL_SESSION *d = SSL_get1_session(p.c);
    SSL_SESSION_set_time(SSL_get_session(p.s), (long)time(NULL) - 10);
    SSL_SESSION_set_timeout(SSL_get_session(p.s), 0);
    conn_close(&p, 1, 1);
    SSL_SESSION *e = run("resume", d, 1, 1);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
    SSL_SESSION_free(e);
    case_end();
}

static void case_sid_ctx(void)
{
    case_begin("5 session id context mismatch");
    install_cbs(g_sctx, EXT_OFF);
    SSL_SESSION *a = run("full", NULL, 1, 1);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    SSL_set_session_id_context(p.s, (const unsigned char *)"other", 5);
    SSL_set_session(p.c, a);
    report("resume, other sid ctx", &p, conn_handshake(&p));
    SSL_SESSION *b = SSL_get1_session(p.c);
    conn_close(&p, 1, 1);
    SSL_SESSION *c = run("resume, original sid ctx", a, 1, 1);
    SSL_SESSION *d = run("resume the other-context session, original sid ctx", b, 1, 1);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    SSL_SESSION_free(d);
    case_end();
}

static void case_full(void)
{
    case_begin("6 server cache overflowing (cache size 2)");
    install_cbs(g_sctx, EXT_OFF);
    SSL_CTX_sess_set_cache_size(g_sctx, 2);
    SSL_SESSION *a = run("client A", NULL, 1, 1);
    g_trace = 1;
    SSL_SESSION *b = run("client B", NULL, 1, 1);
    g_trace = 0;
    SSL_SESSION *c = run("client C", NULL, 1, 1);
    SSL_SESSION *ra = run("resume A", a, 1, 1);
    SSL_SESSION *rc = run("resume C", c, 1, 1);
    SSL_SESSION *rb = run("resume B", b, 1, 1);
    printf("-- cache size 1\n");
    SSL_CTX_sess_set_cache_size(g_sctx, 1);
    SSL_SESSION *d = run("client D", NULL, 1, 1);
    SSL_SESSION *rd = run("resume D", d, 1, 1);
    printf("-- cache size 0 (unlimited)\n");
    SSL_CTX_sess_set_cache_size(g_sctx, 0);
    SSL_SESSION *e = run("client E", NULL, 1, 1);
    SSL_SESSION *rd2 = run("resume D", d, 1, 1);
    SSL_SESSION *list[] = { a, b, c, ra, rc, rb, d, rd, e, rd2 };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        SSL_SESSION_free(list[i]);
    case_end();
}

static void case_client_cache(void)
{
    case_begin("8 client-side cache (client context SSL_SESS_CACHE_CLIENT)");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_SESSION *a = run("full", NULL, 1, 1);
    SSL_SESSION *b = run("resume", a, 1, 1);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    SSL_set_session(p.c, a);
    report("resume again", &p, conn_handshake(&p));
    SSL_SESSION *srv = SSL_get1_session(p.s);
    conn_close(&p, 1, 1);
    printf("remove_session(server) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    SSL_SESSION *c = run("resume, server forgot", a, 1, 1);
    printf("-- client context with SERVER mode only (the default) counts hits too\n");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_SERVER);
    SSL_SESSION *d = run("resume", c, 1, 1);
    printf("-- client context mode OFF\n");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_OFF);
    SSL_SESSION *e = run("resume", c, 1, 1);
    printf("remove_session(client, c) = %d\n", SSL_CTX_remove_session(g_cctx, c));
    SSL_SESSION *f = run("resume removed on the client", c, 1, 1);
    SSL_SESSION *list[] = { srv, a, b, c, d, e, f };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        SSL_SESSION_free(list[i]);
    case_end();
}

static void case_free(void)
{
    case_begin("11 SSL_free without SSL_shutdown");
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    printf("-- both sides shut down\n");
    SSL_SESSION *a = run("full", NULL, 1, 1);
    show_resumable("client's copy", a);
    printf("-- client shut down, server freed without\n");
    SSL_SESSION *b = run("resume", a, 1, 0);
    show_resumable("client's copy", a);
    SSL_SESSION *c = run("resume", a, 1, 1);
    printf("-- server shut down, client freed without\n");
    SSL_SESSION *d = run("resume", c, 0, 1);
    show_resumable("client's copy", c);
    SSL_SESSION *e = run("resume the non-resumable session", c, 1, 1);
    printf("-- neither shut down\n");
    SSL_SESSION *f = run("resume", e, 0, 0);
    show_resumable("client's copy", e);
    printf("-- freed in the middle of a handshake\n");
    {
        struct conn p;
        conn_new(&p, g_cctx, g_sctx);
        SSL_set_session(p.c, f);
        conn_close(&p, 0, 0);
        show_resumable("client's copy", f);
    }
    printf("-- SSL_set_session on a finished connection\n");
    SSL_SESSION *g = run("full", NULL, 1, 1);
    {
        struct conn p;
        conn_new(&p, g_cctx, g_sctx);
        report("full", &p, conn_handshake(&p));
        SSL_SESSION *h = SSL_get1_session(p.c);
        SSL_set_session(p.c, g);
        show_resumable("finished connection's session", h);
        show_resumable("set session", g);
        show_both("  ");
        conn_close(&p, 1, 1);
        SSL_SESSION_free(h);
    }
    SSL_SESSION *list[] = { a, b, c, d, e, f, g };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        SSL_SESSION_free(list[i]);
    case_end();
}

static void case_verify(void)
{
    case_begin("12 SSL_VERIFY_PEER on a server with no session id context");
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_set_session_id_context(g_sctx, (const unsigned char *)"", 0);
    SSL_SESSION *a = run("full, no verify", NULL, 1, 1);
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    conn_set_verify_peer(p.s, 1);
    SSL_set_session(p.c, a);
    report("resume under VERIFY_PEER", &p, conn_handshake(&p));
    conn_close(&p, 0, 0);
    show_resumable("client's copy", a);
    conn_new(&p, g_cctx, g_sctx);
    conn_set_verify_peer(p.s, 1);
    report("full under VERIFY_PEER", &p, conn_handshake(&p));
    SSL_SESSION *b = SSL_get1_session(p.c);
    conn_close(&p, 1, 1);
    printf("-- with a session id context on the SSL\n");
    conn_new(&p, g_cctx, g_sctx);
    conn_set_verify_peer(p.s, 1);
    SSL_set_session_id_context(p.s, (const unsigned char *)"v", 1);
    report("full under VERIFY_PEER", &p, conn_handshake(&p));
    SSL_SESSION *c = SSL_get1_session(p.c);
    conn_close(&p, 1, 1);
    conn_new(&p, g_cctx, g_sctx);
    conn_set_verify_peer(p.s, 1);
    SSL_set_session_id_context(p.s, (const unsigned char *)"v", 1);
    SSL_set_session(p.c, c);
    report("resume under VERIFY_PEER", &p, conn_handshake(&p));
    conn_close(&p, 1, 1);
    SSL_SESSION_free(a);
    SSL_SESSION_free(b);
    SSL_SESSION_free(c);
    case_end();
}

static int g_gen_calls;
static int g_gen_mode; /* 0: counter id of 16 bytes, 1: repeat the last id, 2: fail, 3: length 0 */
static unsigned char g_gen_last[32];

static int gen_id(SSL *ssl, unsigned char *id, unsigned int *len)
{
    (void)ssl;
    g_gen_calls++;
    printf("  [generate] call %d, offered length %u\n", g_gen_calls, *len);
    switch (g_gen_mode) {
    case 0:
        memset(id, 0, *len);
        memset(id, 0x40 + g_gen_calls, 16);
        *len = 16;
        memcpy(g_gen_last, id, 16);
        return 1;
    case 1:
        memcpy(id, g_gen_last, 16);
        *len = 16;
        return 1;
    case 2:
        return 0;
    default:
        *len = 0;
        return 1;
    }
}

static void show_id(const char *label, const SSL_SESSION *s)
{
    unsigned int len = 0;
    const unsigned char *id = s ? SSL_SESSION_get_id(s, &len) : NULL;
    printf("%s: id length %u first byte %d\n", label, len, len ? id[0] : -1);
}

static void case_genid(void)
{
    case_begin("13 SSL_CTX_set_generate_session_id");
    install_cbs(g_sctx, EXT_OFF);
    install_cbs(g_cctx, EXT_OFF);
    SSL_CTX_set_session_cache_mode(g_cctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_set_generate_session_id(g_sctx, gen_id);
    g_gen_calls = 0;
    g_gen_mode = 0;
    SSL_SESSION *a = run("full", NULL, 1, 1);
    show_id("session", a);
    SSL_SESSION *b = run("resume", a, 1, 1);
    printf("-- the generator repeats a cached id\n");
    g_gen_mode = 1;
    SSL_SESSION *c = run("full", NULL, 1, 1);
    show_id("client's session", c);
    printf("-- the generator repeats a cached id; the client offered a session the server lost\n");
    g_gen_mode = 0;
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    report("full", &p, conn_handshake(&p));
    SSL_SESSION *d = SSL_get1_session(p.c);
    SSL_SESSION *srv = SSL_get1_session(p.s);
    conn_close(&p, 1, 1);
    SSL_SESSION *e = run("full", NULL, 1, 1);
    printf("remove_session(server) = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    g_gen_mode = 1;
    SSL_SESSION *f = run("resume lost session", d, 1, 1);
    show_resumable("offered session", d);
    printf("-- the generator fails\n");
    g_gen_mode = 2;
    SSL_SESSION *g = run("full", NULL, 1, 1);
    printf("-- the generator gives length 0\n");
    g_gen_mode = 3;
    SSL_SESSION *h = run("full", NULL, 1, 1);
    printf("-- server cache off: the generator still runs\n");
    g_gen_mode = 0;
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_OFF);
    SSL_SESSION *k = run("full", NULL, 1, 1);
    show_id("client's session", k);
    SSL_SESSION *list[] = { a, b, c, d, srv, e, f, g, h, k };
    for (size_t n = 0; n < sizeof list / sizeof list[0]; n++)
        SSL_SESSION_free(list[n]);
    case_end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    drv_init();
    case_trace();
    case_basic();
    case_removed();
    case_cache_off();
    case_expired();
    case_sid_ctx();
    case_full();
    case_client_cache();
    case_free();
    case_verify();
    case_genid();
    drv_cleanup();
    return 0;
}
