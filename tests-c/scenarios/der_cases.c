/*
 * Replays tests-c/fixtures/der_cases.txt (read at run time from the repo root): thousands of
 * hand-built and mutated session DERs probing every check and quirk of the decoder (BER
 * lengths and strings, integer ranges, field limits, peer certificates). For each: whether
 * d2i_SSL_SESSION decodes it, how far *pp moves, and the re-encoding.
 */
#include "scenario.h"
#include <stdlib.h>
#include <time.h>

static int unhex(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1)
            return 0;
        out[i / 2] = (unsigned char)v;
    }
    return 1;
}

static SSL *g_ssl;

/* A failing input decoded into an existing session: d2i stores field by field, so what it
 * stored before the failing check stays. Shows the existing session's encoding after. */
static void into_existing(const unsigned char *in, long len)
{
    static const unsigned char c02f[2] = { 0xc0, 0x2f };
    unsigned char id[32], key[48];
    memset(id, 0xee, sizeof id);
    memset(key, 0x4b, sizeof key);
    SSL_SESSION *e = SSL_SESSION_new();
    SSL_SESSION_set1_id(e, id, sizeof id);
    SSL_SESSION_set1_master_key(e, key, sizeof key);
    SSL_SESSION_set1_id_context(e, (const unsigned char *)"existing", 8);
    SSL_SESSION_set1_hostname(e, "existing.example");
    SSL_SESSION_set_protocol_version(e, TLS1_2_VERSION);
    SSL_SESSION_set_cipher(e, SSL_CIPHER_find(g_ssl, c02f));
    SSL_SESSION_set_time(e, 1234567);
    SSL_SESSION_set_timeout(e, 99);
    SSL_SESSION *a = e;
    const unsigned char *p = in;
    SSL_SESSION *r = d2i_SSL_SESSION(&a, &p, len);
    static unsigned char out[1 << 14];
    unsigned char *q = out;
    long t = SSL_SESSION_get_time(e);
    if (t != 1234567)
        SSL_SESSION_set_time(e, 1111111111); /* a clock time d2i stored */
    int n = i2d_SSL_SESSION(e, &q);
    printf("  into existing: %s, p advanced %ld, time %s, existing now ", r ? "decoded" : "NULL",
           (long)(p - in), t == 1234567 ? "kept" : "changed");
    for (int i = 0; i < n; i++)
        printf("%02x", out[i]);
    printf("\n");
    SSL_SESSION_free(e);
}

int main(void)
{
    FILE *f = fopen("tests-c/fixtures/der_cases.txt", "r");
    if (f == NULL) {
        printf("cannot read tests-c/fixtures/der_cases.txt\n");
        return 1;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    g_ssl = SSL_new(ctx);
    static char line[1 << 16];
    static unsigned char out[1 << 14];
    long cases = 0, decoded = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *name = line, *hex = strchr(line, '\t');
        if (hex == NULL)
            continue;
        *hex++ = 0;
        char *end = strchr(hex, '\t');
        if (end == NULL)
            continue;
        size_t hexlen = (size_t)(end - hex);
        long len = (long)hexlen / 2;
        unsigned char *in = malloc(len ? len : 1); /* exact size: overreads would show */
        if (!unhex(hex, hexlen, in)) {
            printf("%s: bad hex\n", name);
            return 1;
        }
        cases++;
        const unsigned char *p = in;
        time_t before = time(NULL);
        SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, len);
        if (s == NULL) {
            printf("%s: NULL, p advanced %ld\n", name, (long)(p - in));
            if (strncmp(name, "mutation_", 9) != 0)
                into_existing(in, len); /* the hand-built ones */
        } else {
            decoded++;
            long t = SSL_SESSION_get_time(s);
            int now = t >= before - 1 && t <= (long)time(NULL) + 1;
            if (now)
                SSL_SESSION_set_time(s, 1111111111); /* pin a clock time */
            unsigned char *q = out;
            int n = i2d_SSL_SESSION(s, &q);
            printf("%s: %ld%s ", name, (long)(p - in), now ? " now" : "");
            for (int i = 0; i < n; i++)
                printf("%02x", out[i]);
            printf("\n");
            SSL_SESSION_free(s);
        }
        free(in);
    }
    fclose(f);
    SSL_free(g_ssl);
    SSL_CTX_free(ctx);
    printf("cases = %ld, decoded = %ld\n", cases, decoded);
    return 0;
}
