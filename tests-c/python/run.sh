#!/usr/bin/env bash
# A Python ssl client and server in one process, plain and with libsesscache preloaded: the
# same reuse flags and statistics, and the report shows the engine served the resumptions.
set -u
cd "$(dirname "$0")/../.."
NAME=python
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
OUT=${OUT:-tests-c/out}/python
mkdir -p "$OUT"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null || { echo "FAIL python: no certificate"; exit 1; }
run() { timeout 60 python3 tests-c/python/tls_reuse.py "$OUT/cert.pem" "$OUT/key.pem"; }
run >"$OUT/plain.txt" 2>&1 || { echo "FAIL python: plain run"; cat "$OUT/plain.txt"; exit 1; }
rm -f "$OUT/report.json"
SESSCACHE_REPORT=$OUT/report.json LD_PRELOAD=$PWD/target/release/libsesscache.so run >"$OUT/preload.txt" 2>&1 \
    || { echo "FAIL python: preloaded run"; cat "$OUT/preload.txt"; exit 1; }
if ! diff -u "$OUT/plain.txt" "$OUT/preload.txt"; then echo "FAIL python: transcripts differ"; exit 1; fi
grep -q "reused True" "$OUT/plain.txt" || { echo "FAIL python: no session was reused"; exit 1; }
grep -q '"served":[1-9]' "$OUT/report.json" || { echo "FAIL python: the engine served nothing"; cat "$OUT/report.json"; exit 1; }
echo "ok   python: ssl module, plain and preloaded ($(grep -c 'reused True' "$OUT/plain.txt") resumptions)"
echo "python: 1 passed, 0 failed"
