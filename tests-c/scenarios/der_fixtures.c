/*
 * d2i_SSL_SESSION on the sessions libssl itself wrote (the .der files in tests-c/fixtures/, read at run
 * time from the repo root): sessions from the setters and from real TLS 1.2, TLS 1.3 and PSK
 * handshakes, with peer certificates, tickets, ALPN, SNI hostnames, PSK identities, extended
 * master secret flags and max_early_data. Each is decoded, inspected and encoded again; the
 * re-encoding must equal the file (except where d2i supplies a default).
 */
#include "scenario.h"
#include <stdlib.h>
#include <time.h>

static long read_file(const char *path, unsigned char *buf, long cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    long n = (long)fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void show_session(const SSL_SESSION *s)
{
    unsigned int idlen = 0, ctxlen = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &idlen);
    const unsigned char *ctx = SSL_SESSION_get0_id_context(s, &ctxlen);
    const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
    const char *host = SSL_SESSION_get0_hostname(s);
    printf("  version=%#x cipher=%s id_len=%u master_key_len=%zu timeout=%ld resumable=%d "
           "hostname=%s\n",
           SSL_SESSION_get_protocol_version(s), c ? SSL_CIPHER_get_name(c) : "(null)", idlen,
           SSL_SESSION_get_master_key(s, NULL, 0), (long)SSL_SESSION_get_timeout(s),
           SSL_SESSION_is_resumable(s), host ? host : "(null)");
    show_hex("  id", id, idlen);
    show_hex("  id_context", ctx, ctxlen);
}

int main(void)
{
    static const char *names[] = { "setters_minimal", "setters_full", "setters_mk512",
                                   "setters_dtls", "tls12_server", "tls12_client0",
                                   "tls13_server", "tls13_client0", "tls13_client1",
                                   "psk12_server", "psk12_client0" };
    static unsigned char der[8192], out[8192];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "tests-c/fixtures/%s.der", names[i]);
        long len = read_file(path, der, sizeof der);
        if (len <= 0) {
            printf("%s: cannot read %s\n", names[i], path);
            return 1;
        }
        /* Decode from an exact-size heap copy. */
        unsigned char *heap = malloc(len);
        memcpy(heap, der, len);
        const unsigned char *p = heap;
        SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, len);
        printf("%s (%ld bytes): %s, p advanced %ld\n", names[i], len, s ? "session" : "NULL",
               (long)(p - heap));
        free(heap);
        if (s == NULL)
            continue;
        show_session(s);
        unsigned char *q = out;
        int n = i2d_SSL_SESSION(s, &q);
        int same = n == len && memcmp(out, der, len) == 0;
        printf("  re-encoded %d bytes, identical=%d\n", n, same);
        if (!same)
            show_hex("  re-encoded", out, n);

        /* A dup encodes the same as the original. */
        SSL_SESSION *d = SSL_SESSION_dup(s);
        unsigned char *q2 = der;
        int n2 = i2d_SSL_SESSION(d, &q2);
        printf("  dup re-encodes identically=%d\n", n2 == n && memcmp(der, out, n) == 0);
        SSL_SESSION_free(d);

        /* Decoding into the session itself (a == &s) replaces it with the same values. */
        SSL_SESSION *a = s;
        p = out;
        SSL_SESSION *r = d2i_SSL_SESSION(&a, &p, n);
        q2 = der;
        n2 = i2d_SSL_SESSION(s, &q2);
        printf("  decode into itself: returned a=%d, identical=%d\n", r == s,
               n2 == n && memcmp(der, out, n) == 0);
        SSL_SESSION_free(s);
    }
    return 0;
}
