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

int main(void)
{
    FILE *f = fopen("tests-c/fixtures/der_cases.txt", "r");
    if (f == NULL) {
        printf("cannot read tests-c/fixtures/der_cases.txt\n");
        return 1;
    }
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
    printf("cases = %ld, decoded = %ld\n", cases, decoded);
    return 0;
}
