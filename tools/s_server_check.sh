#!/usr/bin/env bash
# Real-server check for preload mode: `openssl s_server -www` on 127.0.0.1, driven by
# `openssl s_client`, prints what its session cache did in a form that is the same from run to
# run, so that a plain run and a run with sesscache preloaded into the server can be diffed:
#
#   tools/s_server_check.sh > plain.txt
#   tools/s_server_check.sh target/release/libsesscache.so > preload.txt
#   diff plain.txt preload.txt
#
# Two servers, one after the other, each on a free loopback port:
#   A  s_server -www             (tickets on: TLS 1.2 session ids when the client sends
#                                 -no_ticket, TLS 1.2 tickets otherwise, TLS 1.3 stateless)
#   B  s_server -www -no_ticket  (TLS 1.2 session ids, TLS 1.3 stateful: the server cache)
# For each: `s_client -reconnect` (one connection and five reconnections) over TLS 1.2 without
# and (A) with tickets, counting the New/Reused lines; a TLS 1.3 resumption (s_client
# -reconnect does not resume TLS 1.3 in OpenSSL 3.0, so -sess_out on a first connection that
# reads its tickets, then -sess_in); then the server's -www status page, of which only the
# session-cache statistics block and the server's New/Reused line are kept.
#
# Stdout holds only that deterministic text. With LIB, the server also writes SESSCACHE_REPORT
# (it exits on its own after -naccept connections, so its atexit handlers run) and the report
# lines go to stderr, as evidence that the preloaded engine was really in use.
#
# usage: tools/s_server_check.sh [LIB]
# exit:  0 when every step ran and the expected resumptions happened, 1 otherwise, 2 on bad use.
set -u
LIB=${1:-}
if [ -n "$LIB" ]; then
    [ -f "$LIB" ] || { echo "s_server_check: no such library: $LIB" >&2; exit 2; }
    case $LIB in /*) ;; *) LIB=$PWD/$LIB ;; esac
fi
command -v openssl >/dev/null || { echo "s_server_check: openssl not found" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/s_server_check.XXXXXX") || exit 2
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    SERVER_PID=
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

FAILED=0
fail() { echo "s_server_check: FAIL: $*" >&2; FAILED=1; }

if ! timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>"$TMP/req.err"; then
    cat "$TMP/req.err" >&2
    echo "s_server_check: certificate generation failed" >&2
    exit 1
fi

# start_server NACCEPT OPTIONS...: starts s_server on a free port in 20000-39999 (a few tries),
# sets PORT and SERVER_PID. The server exits by itself after NACCEPT connections.
start_server() {
    local naccept=$1; shift
    local try
    for try in 1 2 3 4 5 6 7 8; do
        PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
        : >"$TMP/server.out"
        local pre=()
        [ -n "$LIB" ] && pre=(LD_PRELOAD="$LIB" SESSCACHE_REPORT="$TMP/report.json")
        timeout 120 env -u SESSCACHE_DISABLE "${pre[@]}" openssl s_server -www -accept "127.0.0.1:$PORT" \
            -cert "$TMP/cert.pem" -key "$TMP/key.pem" -naccept "$naccept" "$@" \
            </dev/null >"$TMP/server.out" 2>"$TMP/server.err" &
        SERVER_PID=$!
        local i
        for i in $(seq 1 100); do
            grep -q '^ACCEPT' "$TMP/server.out" && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    done
    cat "$TMP/server.err" >&2
    return 1
}

# wait_server: the server should exit by itself (naccept reached); bounded, else it is killed.
wait_server() {
    local i
    for i in $(seq 1 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        fail "server $1 did not exit after its connections; killed (no report from it)"
        kill -TERM "$SERVER_PID" 2>/dev/null
    fi
    wait "$SERVER_PID" 2>/dev/null
    local rc=$?
    SERVER_PID=
    [ $rc -eq 0 ] || fail "server $1 exit status $rc"
}

client() { timeout 20 openssl s_client -connect "127.0.0.1:$PORT" "$@" 2>&1; }

# reconnect NAME OPTIONS...: s_client -reconnect, prints the New/Reused lines with their counts.
reconnect() {
    local name=$1; shift
    client -reconnect "$@" </dev/null >"$TMP/rc.out"
    local rc=$?
    printf '%s: s_client -reconnect %s\n' "$name" "$*"
    grep -E '^(New|Reused),' "$TMP/rc.out" | sort | uniq -c | sed 's/^ */  /'
    local reused
    reused=$(grep -c '^Reused,' "$TMP/rc.out")
    echo "  reused: $reused of $(grep -cE '^(New|Reused),' "$TMP/rc.out")"
    [ $rc -eq 0 ] || fail "$name: s_client -reconnect $* exit status $rc"
    [ "$reused" -eq 5 ] || fail "$name: s_client -reconnect $*: $reused reused connections, 5 expected"
}

# resume13 NAME: a TLS 1.3 connection that sends a request, so that it reads the server's
# tickets before closing and saves its session; then a connection offering that session.
resume13() {
    local name=$1
    rm -f "$TMP/sess.pem"
    printf 'GET / HTTP/1.0\r\n\r\n' | client -tls1_3 -ign_eof -sess_out "$TMP/sess.pem" >"$TMP/r1.out"
    local rc1=$?
    local first second
    first=$(grep -E '^(New|Reused),' "$TMP/r1.out" | head -1)
    client -tls1_3 -sess_in "$TMP/sess.pem" </dev/null >"$TMP/r2.out"
    local rc2=$?
    second=$(grep -E '^(New|Reused),' "$TMP/r2.out" | head -1)
    echo "$name: TLS 1.3, -sess_out then -sess_in"
    echo "  first:  ${first:-none}"
    echo "  second: ${second:-none}"
    [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] || fail "$name: TLS 1.3 s_client exit status $rc1 $rc2"
    case $second in Reused,*) ;; *) fail "$name: TLS 1.3 session not resumed" ;; esac
}

# stats NAME: the -www page; keeps the server's New/Reused line and the cache statistics.
stats() {
    local name=$1
    printf 'GET / HTTP/1.0\r\n\r\n' | client -quiet -tls1_2 -no_ticket >"$TMP/page.out"
    local rc=$?
    echo "$name: the server's status page (fetched over a new TLS 1.2 connection)"
    grep -E '^(New|Reused),' "$TMP/page.out" | sed 's/^/  /'
    grep -E '^ *[0-9]+ (items in the session cache|client connects|client renegotiates|server accepts|server renegotiates|session cache (hits|misses|timeouts)|callback cache hits|cache full overflows)' \
        "$TMP/page.out" >"$TMP/stats.out"
    sed 's/^/  /' "$TMP/stats.out"
    [ $rc -eq 0 ] || fail "$name: status page fetch exit status $rc"
    [ "$(wc -l <"$TMP/stats.out")" -eq 12 ] || fail "$name: $(wc -l <"$TMP/stats.out") statistics lines, 12 expected"
}

report_lines() {
    [ -n "$LIB" ] || return 0
    if [ -s "$TMP/report.json" ]; then
        echo "s_server_check: SESSCACHE_REPORT of server $1:" >&2
        cat "$TMP/report.json" >&2
    else
        echo "s_server_check: server $1 wrote no SESSCACHE_REPORT line (preload not active?)" >&2
    fi
    rm -f "$TMP/report.json"
}

echo "s_server_check: $(openssl version | cut -d' ' -f1-2)"

# Server A: 6 + 6 (reconnects) + 2 (TLS 1.3) + 1 (status page) connections.
if start_server 15; then
    echo "== server A: s_server -www"
    reconnect A -tls1_2 -no_ticket
    reconnect A -tls1_2
    resume13 A
    stats A
    wait_server A
    report_lines A
else
    fail "server A did not start"
fi

# Server B: 6 (reconnects) + 2 (TLS 1.3) + 1 (status page) connections.
if start_server 9 -no_ticket; then
    echo "== server B: s_server -www -no_ticket"
    reconnect B -tls1_2
    resume13 B
    stats B
    wait_server B
    report_lines B
else
    fail "server B did not start"
fi

[ $FAILED -eq 0 ] || exit 1
exit 0
