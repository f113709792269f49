#!/usr/bin/env bash
# Two processes, one fleet: `openssl s_server -www` A and B on loopback ports, the same fleet
# configuration (a redis-server this script starts on a free port, one key file). A client
# gets a ticket from A (`s_client -sess_out`, TLS 1.3 and TLS 1.2; a Python `ssl` client too)
# and offers it to B (`-sess_in`): plain libssl resumes 0 of N, the fleet N of N. With the
# fleet, the first cross resumption may wait for the two rings to settle (a second, at most 5).
#
# Then, with the fleet: Redis paused (SIGSTOP), then killed: every handshake still completes
# and a ticket from A still resumes at B (the ring is in memory). `rotation`: the fleet with a
# 3 s rotation: a ticket from A resumes at B after one rotation, and not after two, and the
# stats sockets (`sesscache stat --json`) count it: opened with the previous key, refused as aged out.
#
# usage: tests-c/tickets/ab.sh plain|fleet|rotation [N]   env: PRELOAD_LIB, OUT
# prints one line per check ("ok ..." / "FAIL ..."); exit 0 when all passed.
set -u
cd "$(dirname "$0")/../.."
NAME=ab
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
MODE=${1:?plain or fleet}
N=${2:-5}
OUT=${OUT:-tests-c/out/tickets}/ab-$MODE
preload_lib
mkdir -p "$OUT"
rm -f "$OUT"/*.pem "$OUT"/*.out

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP


failed=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1"; failed=1; fi; }

command -v redis-server >/dev/null || { echo "FAIL ab: redis-server is not installed (.ci/run installs it)"; exit 1; }
timeout 60 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 \
    -keyout "$OUT/key.pem" -out "$OUT/cert.pem" >/dev/null 2>&1 || { echo "FAIL ab: certificate"; exit 1; }

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG || { echo "FAIL ab: redis-server did not start"; exit 1; }
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$OUT/fleet.key" && echo >>"$OUT/fleet.key")

env_for_mode=(env)
ROTATE=3
RUN_DIR=$OUT/run
if [ "$MODE" = rotation ]; then
    rm -rf "$RUN_DIR"
    env_for_mode+=(SESSCACHE_FLEET_TICKET_ROTATE=$ROTATE SESSCACHE_RUN_DIR="$RUN_DIR")
fi
if [ "$MODE" != plain ]; then
    env_for_mode+=(LD_PRELOAD="$LIB" SESSCACHE_FLEET="redis://127.0.0.1:$REDIS_PORT/0" SESSCACHE_FLEET_KEY_FILE="$OUT/fleet.key")
else
    env_for_mode+=(-u LD_PRELOAD)
fi

# start NAME: s_server -www on a free port; sets PORT_<NAME>.
start() {
    local port
    port=$(free_port)
    timeout 300 "${env_for_mode[@]}" openssl s_server -www -accept "127.0.0.1:$port" -cert "$OUT/cert.pem" \
        -key "$OUT/key.pem" </dev/null >"$OUT/server-$1.out" 2>"$OUT/server-$1.err" &
    PIDS+=($!)
    for _ in $(seq 1 100); do grep -q '^ACCEPT' "$OUT/server-$1.out" && break; sleep 0.05; done
    grep -q '^ACCEPT' "$OUT/server-$1.out" || { echo "FAIL ab: server $1 did not start"; cat "$OUT/server-$1.err"; exit 1; }
    printf -v "PORT_$1" %s "$port"
}
start A
start B

client() { timeout 20 openssl s_client -connect "127.0.0.1:$1" "${@:2}" 2>&1; }

# cross VERSION [PORT]: a ticket from A offered to B (or PORT); 0 when it resumed.
cross() {
    local v=$1 to=${2:-$PORT_B} f="$OUT/sess.pem"
    rm -f "$f"
    # A request, so that the client reads the server's TLS 1.3 tickets before it closes.
    printf 'GET / HTTP/1.0\r\n\r\n' | client "$PORT_A" "$v" -ign_eof -sess_out "$f" >"$OUT/a.out" || return 2
    [ -s "$f" ] || return 2
    client "$to" "$v" -sess_in "$f" </dev/null >"$OUT/b.out" || return 2
    grep -q '^Reused,' "$OUT/b.out"
}

if [ "$MODE" != plain ]; then
    for _ in $(seq 1 25); do cross -tls1_3 && break; sleep 0.2; done
fi

if [ "$MODE" = rotation ]; then
    # The start of a period (periods are aligned on the epoch), then a ticket, kept aside.
    start=$(date +%s)
    for _ in $(seq 1 $((ROTATE * 25 + 25))); do [ $(($(date +%s) % ROTATE)) = 0 ] && [ "$(date +%s)" != "$start" ] && break; sleep 0.04; done
    b=$(date +%s)
    printf 'GET / HTTP/1.0\r\n\r\n' | client "$PORT_A" -tls1_3 -ign_eof -sess_out "$OUT/t0.pem" >"$OUT/t0.out"
    until_t() { for _ in $(seq 1 $((ROTATE * 50 + 50))); do [ "$(date +%s)" -ge "$1" ] && return; sleep 0.02; done; }
    offer() { client "$PORT_B" -tls1_3 -sess_in "$OUT/t0.pem" </dev/null | grep -c '^Reused,'; }
    until_t $((b + ROTATE))
    sleep 0.3
    one=$(offer)
    until_t $((b + 2 * ROTATE))
    sleep 0.3
    two=$(offer)
    late=$([ "$(date +%s)" -lt $((b + 3 * ROTATE)) ] && echo 0 || echo 1)
    [ "$one" = 1 ] && [ "$two" = 0 ] && [ "$late" = 0 ]
    check "rotation every ${ROTATE} s: a ticket from A resumes at B after one rotation ($one), not after two ($two)" $?
    # The same two handshakes in the ring's counts, read from both processes' stats sockets.
    timeout 10 target/release/sesscache stat --json --run-dir "$RUN_DIR" >"$OUT/stat.json" 2>"$OUT/stat.err"
    python3 - "$OUT/stat.json" <<'PY' >"$OUT/stat.check" 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
rings = [p["tickets"] for p in doc["processes"] if p.get("tickets")]
t = doc["totals"]["tickets"]
assert len(rings) == 2 and t["processes"] == 2, (len(rings), t)
assert t["refused_aged_out"] == 1, t
assert t["opened_previous"] >= 1, t
# B (the one that refused the ticket) rotated twice to refuse it; A's thread may lag a second.
assert [r["rotations"] >= 2 for r in rings if r["refused_aged_out"] == 1] == [True], rings
assert t["ring_version"] == max(r["ring_version"] for r in rings) > 0, t
assert t["issued"] == sum(r["issued"] for r in rings) > 0, t
print("opened_previous %d, refused_aged_out %d, rotations %s" % (t["opened_previous"], t["refused_aged_out"], [r["rotations"] for r in rings]))
PY
    rc=$?
    check "rotation: the stats sockets count it: opened with the previous key, 1 refused as aged out, 2+ rotations at B ($(tr -d '\n' <"$OUT/stat.check"))" $rc
    exit $failed
fi
for v in -tls1_3 -tls1_2; do
    # The control: back at A, a ticket resumes either way.
    reused=0
    for _ in $(seq 1 "$N"); do cross "$v" "$PORT_A" && reused=$((reused + 1)); done
    [ "$reused" = "$N" ]
    check "$MODE: s_client $v ticket from A resumed at A: $reused of $N (want $N)" $?
    reused=0
    for _ in $(seq 1 "$N"); do cross "$v" && reused=$((reused + 1)); done
    want=0
    [ "$MODE" = fleet ] && want=$N
    [ "$reused" = "$want" ]
    check "$MODE: s_client $v ticket from A resumed at B: $reused of $N (want $want)" $?
done

# Python's ssl client: one connection to A (reading the reply, so that TLS 1.3 tickets arrive),
# its session offered to B.
reused=$(timeout 60 python3 - "$PORT_A" "$PORT_B" "$N" <<'EOF'
import socket, ssl, sys
a, b, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def connect(port, session=None):
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, session=session) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            while s.recv(65536):
                pass
            return s.session, s.session_reused
count = 0
for _ in range(n):
    session, _ = connect(a)
    _, reused = connect(b, session)
    count += reused
print(count)
EOF
)
want=0
[ "$MODE" = fleet ] && want=$N
[ "$reused" = "$want" ]
check "$MODE: Python ssl (TLS 1.3) session from A resumed at B: ${reused:-error} of $N (want $want)" $?

if [ "$MODE" = fleet ]; then
    # A client alone (TLS_client_method) gets no ring: its report has no tickets line.
    rm -f "$OUT/client.report"
    "${env_for_mode[@]}" SESSCACHE_REPORT="$OUT/client.report" timeout 20 openssl s_client -connect "127.0.0.1:$PORT_A" \
        -tls1_3 </dev/null >/dev/null 2>&1
    grep -q '"mode":"preload"' "$OUT/client.report" 2>/dev/null && ! grep -q '"tickets"' "$OUT/client.report"
    check "fleet: a client's process (s_client preloaded, the fleet configured) has no ticket key ring" $?
    redis_pid=${PIDS[0]}
    # Redis paused, then gone: the ring is in memory; no handshake fails.
    for fault in paused killed; do
        if [ $fault = paused ]; then kill -STOP "$redis_pid"; else kill -CONT "$redis_pid"; kill -KILL "$redis_pid"; { wait "$redis_pid"; } 2>/dev/null; fi
        reused=0
        for _ in $(seq 1 "$N"); do cross -tls1_3 && reused=$((reused + 1)); done
        [ "$reused" = "$N" ]
        check "fleet, Redis $fault: a ticket from A resumed at B: $reused of $N (want $N)" $?
    done
fi
exit $failed
