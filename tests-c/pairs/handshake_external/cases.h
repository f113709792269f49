/*
 * handshake_external: the server's external cache (get / new / remove callbacks holding
 * sessions in a small array), with and without the internal cache. Shared by oracle.c and
 * native.c.
 */

static const char *ext_mode_name(enum ext_mode m)
{
    return m == EXT_COPY1 ? "copy=1, the stored session"
           : m == EXT_COPY0 ? "copy=0, a fresh SSL_SESSION_dup"
                            : "copy=0, the stored session after an up_ref";
}

static void show_ext(void)
{
    printf("external:");
    for (int i = 0; i < EXT_SLOTS; i++)
        if (g_ext[i] != NULL)
            printf(" %s", sname(g_ext[i]));
    printf("\n");
}

/* SSL_SESS_CACHE_NO_INTERNAL: the callbacks are the only cache. */
static void case_no_internal(enum ext_mode m)
{
    char title[128];
    snprintf(title, sizeof title, "7 external only (SERVER|NO_INTERNAL), get returns %s", ext_mode_name(m));
    case_begin(title);
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    install_cbs(g_sctx, m);
    g_trace = 1;
    SSL_SESSION *a = run("full", NULL, 1, 1);
    SSL_SESSION *b = run("resume", a, 1, 1);
    g_trace = 0;
    show_ext();
    SSL_SESSION *c = run("resume again", a, 1, 1);
    printf("-- the external entry dropped behind the library's back\n");
    ext_clear();
    SSL_SESSION *d = run("resume", a, 1, 1);
    show_ext();
    printf("-- the external entry expired\n");
    int i = ext_find(SSL_SESSION_get_id(d, NULL), 32);
    SSL_SESSION_set_time(g_ext[i], (long)time(NULL) - 100000);
    g_trace = 1;
    SSL_SESSION *e = run("resume", d, 1, 1);
    g_trace = 0;
    show_ext();
    printf("-- the external entry removed by SSL_CTX_remove_session but kept by the callback\n");
    g_ext_keep_on_remove = 1;
    printf("remove_session = %d\n", SSL_CTX_remove_session(g_sctx, g_ext[ext_find(SSL_SESSION_get_id(e, NULL), 32)]));
    show_ext();
    SSL_SESSION *f = run("resume", e, 1, 1);
    g_ext_keep_on_remove = 0;
    printf("-- server freed without shutdown\n");
    SSL_SESSION *g = run("resume", f, 1, 0);
    show_ext();
    SSL_SESSION *h = run("resume", f, 1, 1);
    SSL_SESSION *list[] = { a, b, c, d, e, f, g, h };
    for (size_t k = 0; k < sizeof list / sizeof list[0]; k++)
        SSL_SESSION_free(list[k]);
    show_ext();
    case_end();
}

/* Only one of the two NO_INTERNAL bits. */
static void case_half(long half, enum ext_mode m)
{
    char title[160];
    snprintf(title, sizeof title, "7 external + internal, SERVER|%s, get returns %s",
             half == SSL_SESS_CACHE_NO_INTERNAL_STORE ? "NO_INTERNAL_STORE" : "NO_INTERNAL_LOOKUP", ext_mode_name(m));
    case_begin(title);
    SSL_CTX_set_session_cache_mode(g_sctx, SSL_SESS_CACHE_SERVER | half);
    install_cbs(g_sctx, m);
    SSL_SESSION *a = run("full", NULL, 1, 1);
    show_ext();
    g_trace = 1;
    SSL_SESSION *b = run("resume", a, 1, 1);
    g_trace = 0;
    show_ext();
    SSL_SESSION *c = run("resume again", a, 1, 1);
    printf("-- the external entry dropped\n");
    ext_clear();
    SSL_SESSION *d = run("resume", a, 1, 1);
    printf("-- SSL_CTX_remove_session on the server's copy (the callback drops the external entry)\n");
    struct conn p;
    conn_new(&p, g_cctx, g_sctx);
    SSL_set_session(p.c, d);
    report("resume", &p, conn_handshake(&p));
    SSL_SESSION *srv = SSL_get1_session(p.s);
    conn_close(&p, 1, 1);
    printf("remove_session = %d\n", SSL_CTX_remove_session(g_sctx, srv));
    show_ext();
    SSL_SESSION *e = run("resume", d, 1, 1);
    SSL_SESSION *list[] = { a, b, c, d, srv, e };
    for (size_t k = 0; k < sizeof list / sizeof list[0]; k++)
        SSL_SESSION_free(list[k]);
    case_end();
}

/* Internal and external both on: the get callback is asked only on an internal miss. An
 * evicted session is marked not resumable, so the external copy must be another object. */
static void case_both(int store_dup)
{
    case_begin(store_dup ? "7 external + internal both on (SERVER), cache size 2, new stores a dup, get copy=1"
                         : "7 external + internal both on (SERVER), cache size 2, new stores the session, get copy=1");
    install_cbs(g_sctx, EXT_COPY1);
    g_ext_keep_on_remove = 1;
    g_ext_store_dup = store_dup;
    SSL_CTX_sess_set_cache_size(g_sctx, 2);
    SSL_SESSION *a = run("client A", NULL, 1, 1);
    SSL_SESSION *b = run("client B (evicts A internally)", NULL, 1, 1);
    show_ext();
    g_trace = 1;
    SSL_SESSION *c = run("resume A", a, 1, 1);
    g_trace = 0;
    show_ext();
    SSL_SESSION *d = run("resume B", b, 1, 1);
    SSL_SESSION *e = run("resume A", a, 1, 1);
    SSL_SESSION *list[] = { a, b, c, d, e };
    for (size_t k = 0; k < sizeof list / sizeof list[0]; k++)
        SSL_SESSION_free(list[k]);
    case_end();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    drv_init();
    case_no_internal(EXT_COPY1);
    case_no_internal(EXT_COPY0);
    case_no_internal(EXT_SHARED0);
    case_half(SSL_SESS_CACHE_NO_INTERNAL_STORE, EXT_COPY1);
    case_half(SSL_SESS_CACHE_NO_INTERNAL_STORE, EXT_COPY0);
    case_half(SSL_SESS_CACHE_NO_INTERNAL_LOOKUP, EXT_COPY1);
    case_half(SSL_SESS_CACHE_NO_INTERNAL_LOOKUP, EXT_COPY0);
    case_both(0);
    case_both(1);
    drv_cleanup();
    return 0;
}
