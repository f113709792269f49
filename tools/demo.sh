#!/usr/bin/env bash
# `make demo`: sesscache preloaded into an unmodified `openssl s_server`.
#
# Builds nothing (the Makefile builds target/release/libsesscache.so first). In a temporary
# directory: a throwaway self-signed certificate; `openssl s_server -www` on a free 127.0.0.1
# port with LD_PRELOAD=libsesscache.so and SESSCACHE_REPORT=<tmpfile>; `openssl s_client
# -reconnect` (TLS 1.2 session ids: one full handshake, five resumptions served from
# sesscache's engine); a TLS 1.3 resumption; the server's -www status page (its session-cache
# statistics block, read through the ordinary SSL_CTX_sess_* calls); then the server's exit and
# the SESSCACHE_REPORT line(s) it wrote.
#
# How the server stops: s_server has no SIGTERM handler, so SIGTERM kills it without running
# atexit handlers and no report would be written; in -www mode it does not read commands ("Q")
# from stdin either. It is started with -naccept N, the number of connections this script
# makes, so it leaves its accept loop, frees its SSL_CTX and exits normally after the last one.
# SIGTERM (then SIGKILL) is only the fallback of a failed run.
#
# usage: tools/demo.sh            env: SESSCACHE_LIB (default target/release/libsesscache.so)
# Bounded in time (a timeout on every command); cleans up (server, temp dir) even on failure.
set -u
cd "$(dirname "$0")/.."
LIB=${SESSCACHE_LIB:-$PWD/target/release/libsesscache.so}
case $LIB in /*) ;; *) LIB=$PWD/$LIB ;; esac
[ -f "$LIB" ] || { echo "demo: $LIB not found: run make first" >&2; exit 2; }
command -v openssl >/dev/null || { echo "demo: openssl not found" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sesscache_demo.XXXXXX") || exit 2
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
die() { echo "demo: FAILED: $*" >&2; exit 1; }

NACCEPT=9 # 6 (s_client -reconnect) + 2 (TLS 1.3) + 1 (status page)
REPORT=$TMP/report.json

echo "== sesscache demo: $(openssl version | cut -d' ' -f1-2) s_server with LD_PRELOAD=${LIB#$PWD/}"
timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>"$TMP/req.err" || { cat "$TMP/req.err" >&2; die "certificate"; }

# A free port in 20000-39999: s_server exits at once when the port is taken; a few tries.
PORT=
for try in 1 2 3 4 5 6 7 8; do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
    : >"$TMP/server.out"
    timeout 120 env -u SESSCACHE_DISABLE LD_PRELOAD="$LIB" SESSCACHE_REPORT="$REPORT" \
        openssl s_server -www -accept "127.0.0.1:$p" -cert "$TMP/cert.pem" -key "$TMP/key.pem" \
        -naccept "$NACCEPT" </dev/null >"$TMP/server.out" 2>"$TMP/server.err" &
    SERVER_PID=$!
    for i in $(seq 1 100); do
        grep -q '^ACCEPT' "$TMP/server.out" && { PORT=$p; break 2; }
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
done
[ -n "$PORT" ] || { cat "$TMP/server.err" >&2; die "s_server did not start"; }
echo "server: openssl s_server -www -accept 127.0.0.1:$PORT -naccept $NACCEPT (pid $SERVER_PID)"

client() { timeout 20 openssl s_client -connect "127.0.0.1:$PORT" "$@" 2>&1; }

echo
echo "== s_client -reconnect -tls1_2 -no_ticket: a full handshake, then five resumptions"
client -reconnect -tls1_2 -no_ticket </dev/null >"$TMP/reconnect.out" || die "s_client -reconnect"
grep -E '^(New|Reused),' "$TMP/reconnect.out"
REUSED=$(grep -c '^Reused,' "$TMP/reconnect.out")
echo "reused: $REUSED of $(grep -cE '^(New|Reused),' "$TMP/reconnect.out")"

echo
echo "== TLS 1.3: a connection that saves its ticket (-sess_out), then one that offers it (-sess_in)"
printf 'GET / HTTP/1.0\r\n\r\n' | client -tls1_3 -ign_eof -sess_out "$TMP/sess.pem" >"$TMP/t1.out" || die "s_client -sess_out"
grep -E '^(New|Reused),' "$TMP/t1.out" | head -1
client -tls1_3 -sess_in "$TMP/sess.pem" </dev/null >"$TMP/t2.out" || die "s_client -sess_in"
grep -E '^(New|Reused),' "$TMP/t2.out" | head -1

echo
echo "== the server's status page: its session-cache statistics"
printf 'GET / HTTP/1.0\r\n\r\n' | client -quiet -tls1_2 -no_ticket >"$TMP/page.out" || die "status page"
grep -E '^ *[0-9]+ (items in the session cache|client connects|client renegotiates|server accepts|server renegotiates|session cache (hits|misses|timeouts)|callback cache hits|cache full overflows)' \
    "$TMP/page.out" || die "no statistics on the status page"

echo
echo "== server exit (after its $NACCEPT connections)"
for i in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
    die "s_server did not exit after $NACCEPT connections (stopped with SIGTERM: no report)"
fi
wait "$SERVER_PID"
RC=$?
SERVER_PID=
echo "s_server exit status: $RC"

echo
echo "== SESSCACHE_REPORT ($(basename "$REPORT"))"
if [ -s "$REPORT" ]; then
    cat "$REPORT"
else
    die "no SESSCACHE_REPORT written (is preload mode in this build of libsesscache.so?)"
fi
[ "$REUSED" -eq 5 ] || die "$REUSED of 5 reconnections resumed"
[ $RC -eq 0 ] || die "s_server exit status $RC"
echo
echo "demo: ok"
