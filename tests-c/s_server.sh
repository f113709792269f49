#!/usr/bin/env bash
# openssl s_server -www with s_client -reconnect, plain and with libsesscache preloaded
# (tools/s_server_check.sh does the talking): the same reuse lines and the same statistics on
# the server's status page, and the preloaded server's report shows the engine served lookups.
set -u
cd "$(dirname "$0")/.."
NAME=s_server
# shellcheck source=lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
OUT=${OUT:-tests-c/out}/s_server
mkdir -p "$OUT"
LIB=$PWD/target/release/libsesscache.so
timeout 300 tools/s_server_check.sh >"$OUT/plain.txt" 2>&1 || { echo "FAIL s_server: plain run"; tail -20 "$OUT/plain.txt"; exit 1; }
timeout 300 tools/s_server_check.sh "$LIB" >"$OUT/preload.txt" 2>&1 || { echo "FAIL s_server: preloaded run"; tail -20 "$OUT/preload.txt"; exit 1; }
# The report lines exist only in the preloaded run: compare everything else.
grep -v -e '^s_server_check: SESSCACHE_REPORT' -e '^{"mode"' "$OUT/preload.txt" >"$OUT/preload.compared"
if ! diff -u "$OUT/plain.txt" "$OUT/preload.compared"; then echo "FAIL s_server: plain and preloaded differ"; exit 1; fi
grep -q 'Reused' "$OUT/plain.txt" || { echo "FAIL s_server: nothing was reused"; exit 1; }
if grep '^{"mode"' "$OUT/preload.txt" | grep -qv '"served":[1-9]'; then
    echo "FAIL s_server: a preloaded server's engine served nothing"; exit 1
fi
echo "ok   s_server: s_client -reconnect, plain and preloaded ($(grep -c Reused "$OUT/plain.txt") reuse lines, same stats page)"
echo "s_server: 1 passed, 0 failed"
