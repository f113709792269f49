#!/usr/bin/env bash
# How the library picks its mode: preloaded over libssl 3 (engine, report lines "preload"),
# SESSCACHE_DISABLE=1 (pure pass-through: libssl's transcript, no report), natively linked
# (report lines "native"), and preloaded over a libssl that is not OpenSSL 3 (one line on
# stderr, every call passed through). Run from the repository root after run-scenarios.sh
# has built the scenario binaries.
set -u
cd "$(dirname "$0")/../.."
LIB=$PWD/target/release/libsesscache.so
OUT=${OUT:-tests-c/out}/modes
mkdir -p "$OUT"
fail=0
passed=0
failed=0
check() { if eval "$2"; then echo "ok   modes: $1"; passed=$((passed + 1)); else echo "FAIL modes: $1"; failed=$((failed + 1)); fail=1; fi; }

bin=tests-c/out/oracle/handshake_tls12
plain=tests-c/out/transcripts/handshake_tls12.oracle
rm -f "$OUT"/*.json
SESSCACHE_REPORT=$OUT/preload.json LD_PRELOAD=$LIB $bin >"$OUT/preload.txt"
check "preloaded: libssl's transcript" 'cmp -s "$plain" "$OUT/preload.txt"'
check "preloaded: one report line per context, all preload" \
    '[ "$(grep -c "\"mode\":\"preload\"" "$OUT/preload.json")" -gt 0 ] && ! grep -qv "\"mode\":\"preload\"" "$OUT/preload.json"'
check "preloaded: the engine stored and served sessions" 'grep -q "\"served\":[1-9]" "$OUT/preload.json"'

SESSCACHE_DISABLE=1 SESSCACHE_REPORT=$OUT/disabled.json LD_PRELOAD=$LIB $bin >"$OUT/disabled.txt"
check "SESSCACHE_DISABLE=1: libssl's transcript" 'cmp -s "$plain" "$OUT/disabled.txt"'
check "SESSCACHE_DISABLE=1: no report (the engine served nothing)" '[ ! -s "$OUT/disabled.json" ]'

SESSCACHE_REPORT=$OUT/native.json tests-c/out/native/handshake_tls12 >"$OUT/native.txt"
check "native: report lines say native" \
    'grep -q "\"mode\":\"native\"" "$OUT/native.json" && ! grep -q preload "$OUT/native.json"'

# A stand-in for a libssl that is not OpenSSL 3: every function sesscache forwards to (the
# list in src/preload/real.rs), answering OpenSSL 1.1.1's version and recognisable values.
{
    echo 'unsigned long OpenSSL_version_num(void) { return 0x1010117fUL; }'
    echo 'void *SSL_CTX_new(const void *m) { (void)m; return (void *)0x5c; }'
    echo 'long SSL_CTX_ctrl(void *c, int cmd, long l, void *p) { (void)c; (void)l; (void)p; return 1000 + cmd; }'
    grep -oE '^    [A-Za-z0-9_]+: fn\(' src/preload/real.rs | sed -E 's/^ +([A-Za-z0-9_]+): fn\(/\1/' |
        grep -vxE 'OpenSSL_version_num|SSL_CTX_new|SSL_CTX_ctrl' | sed -E 's/.*/long &(void) { return 0; }/'
} >"$OUT/fake_libssl.c"
cc -shared -fPIC -o "$OUT/libfakessl.so" "$OUT/fake_libssl.c"
cc -o "$OUT/uses_fake" tests-c/modes/uses_fake.c -L"$OUT" -lfakessl -Wl,-rpath,"$PWD/$OUT"
"$OUT/uses_fake" >"$OUT/fake_plain.txt"
LD_PRELOAD=$LIB "$OUT/uses_fake" >"$OUT/fake_preload.txt" 2>"$OUT/fake_preload.err"
check "another libssl: calls pass through" 'cmp -s "$OUT/fake_plain.txt" "$OUT/fake_preload.txt"'
check "another libssl: one line on stderr" \
    '[ "$(wc -l <"$OUT/fake_preload.err")" -eq 1 ] && grep -q "not OpenSSL 3" "$OUT/fake_preload.err"'
echo "modes: $passed passed, $failed failed"
exit $fail
