#!/usr/bin/env bash
# How the library picks its mode: preloaded over libssl 3 (engine, report lines "preload"),
# SESSCACHE_DISABLE=1 (pure pass-through: libssl's transcript, no report), natively linked
# (report lines "native"), and preloaded over a libssl that is not OpenSSL 3 (one line on
# stderr, every call passed through); and the report's rules: one line on stderr when it cannot
# be written, and a forked child's lines count only its own work. Run from the repository root after run-scenarios.sh
# has built the scenario binaries.
set -u
cd "$(dirname "$0")/../.."
NAME=modes
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
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

# A report that cannot be written: one line on stderr, the transcript unchanged.
SESSCACHE_REPORT=$OUT/no-such-dir/r.json LD_PRELOAD=$LIB $bin >"$OUT/unwritable.txt" 2>"$OUT/unwritable.err"
check "preloaded, report unwritable: libssl's transcript" 'cmp -s "$plain" "$OUT/unwritable.txt"'
check "preloaded, report unwritable: exactly one line on stderr" \
    '[ "$(wc -l <"$OUT/unwritable.err")" -eq 1 ] && grep -q "^sesscache: SESSCACHE_REPORT: .* not written to .*no-such-dir" "$OUT/unwritable.err"'

# A process that serves, frees two contexts, forks a child that serves, and serves again:
# each reports only its own work (tests-c/modes/report_fork.c).
cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Itests-c/lib -o "$OUT/report_fork" tests-c/modes/report_fork.c -lssl -lcrypto
SESSCACHE_REPORT=$OUT/fork.json LD_PRELOAD=$LIB "$OUT/report_fork" >"$OUT/fork.txt"
fork_report_ok() {
    python3 - "$OUT/fork.json" $(sed -E 's/parent ([0-9]+) child ([0-9]+)/\1 \2/' "$OUT/fork.txt") <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
parent, child = int(sys.argv[2]), int(sys.argv[3])
got = sorted((l.get('pid') == child, l.get('ctx'), l['accept'], l['connect'], l['stored']) for l in lines)
# contexts 1-2 freed before the fork (1 handshake), 3-4 live (2 + 1 in the parent, 3 in the child)
want = sorted([(False, 1, 1, 0, 1), (False, 2, 0, 1, 0), (False, 3, 3, 0, 3), (False, 4, 0, 3, 0),
               (True, 3, 3, 0, 3), (True, 4, 0, 3, 0)])
ok = got == want and all(l.get('pid') in (parent, child) for l in lines)
if not ok:
    print('report:', *lines, sep='\n  ')
sys.exit(0 if ok else 1)
PY
}
check "fork: the parent's and the child's lines are their own work" fork_report_ok

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
