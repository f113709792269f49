#!/usr/bin/env bash
# `make bench`'s fleet part: tests-c/fleet/server.c preloaded, one redis-server, and
# tests-c/fleet/client.py (one sequential client, Python's ssl) measuring, per handshake,
# connect + TLS handshake + one line each way:
#   full     full handshakes at A (each session is cached at A and published)
#   local    the same clients back at A: a local resumption
#   fleet    clients whose sessions A made, resuming at B (fleet on, from B's memory)
#   libssl   full and local resumption without the library (the reference)
# each at 0 and 1 ms of delay between the servers and Redis (tests-c/fleet/delay_proxy.py, a userspace
# TCP proxy adding 1 ms each way: this machine's kernel has no sch_netem for tc netem). Handshakes per second, latency p50/p99, and Redis commands per
# handshake (INFO commandstats before and after each phase). Table: bench/out/fleet.md.
#
# usage: bench/fleet.sh            (N, default 500 clients per run; RUNS, default 3)
#        TICKETS=1 bench/fleet.sh  TLS 1.3 stateless tickets instead of cached sessions (issue 12):
#                                  "fleet" is then a ticket from A resumed at B through the fleet's
#                                  ticket key ring; table bench/out/fleet-tickets.md
set -uo pipefail
cd "$(dirname "$0")/.."
NAME=bench-fleet
# shellcheck source=../tests-c/lib/runner.sh
. tests-c/lib/runner.sh
N=${N:-500}
RUNS=${RUNS:-3}
TICKETS=${TICKETS:-0}
SERVER_FLAGS=() CLIENT_FLAGS=() TAG=""
[ "$TICKETS" = 1 ] && SERVER_FLAGS=(-V 13 -T) CLIENT_FLAGS=(--version 13) TAG=-tickets
OUT=bench/out
mkdir -p "$OUT/lib"
cp target/release/libsesscache.so "$OUT/lib/libsesscache-fleet.so" # a snapshot, as bench/run.sh does
LIB=$PWD/$OUT/lib/libsesscache-fleet.so
BIN=$PWD/target/release/sesscache
cc -std=c11 -O2 -g -Wall -Wextra -Werror -o "$OUT/fleet-server" tests-c/fleet/server.c -lssl -lcrypto
TMP=$(mktemp -d /tmp/sesscache-bench-fleet.XXXXXX)
trap 'cleanup_tracked; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=fleet.test" \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
"$BIN" keygen "$TMP/fleet.key" >/dev/null 2>&1

start_server() { # NAME PORT fleet|plain REDIS_PORT -> waits for "ready"
    local env=(env)
    local v
    for v in $(compgen -e | grep '^SESSCACHE_'); do env+=(-u "$v"); done
    env+=(-u LD_PRELOAD)
    [ "$3" = fleet ] && env+=(LD_PRELOAD="$LIB" SESSCACHE_FLEET="redis://127.0.0.1:$4/0"
        SESSCACHE_FLEET_KEY_FILE="$TMP/fleet.key" SESSCACHE_REPORT="$TMP/$1.report")
    "${env[@]}" timeout 900 "$OUT/fleet-server" -p "$2" -C "$TMP/cert.pem" -K "$TMP/key.pem" -l 880 \
        "${SERVER_FLAGS[@]}" >"$TMP/$1.out" 2>"$TMP/$1.err" &
    eval "PID_$1=$!"
    track $!
    local up=0
    for _ in $(seq 100); do grep -q '^ready$' "$TMP/$1.out" 2>/dev/null && { up=1; break; }; sleep 0.1; done
    if [ $up = 0 ]; then
        echo "bench-fleet: server $1 did not start" >&2
        cat "$TMP/$1.err" >&2
        exit 1
    fi
    [ "$3" = fleet ] || return 0
    # Warm, as a serving process is: its fleet starts at its first publish (a full handshake),
    # and it hears the channel once Redis counts its subscription (as tests-c/fleet/run.sh's warm).
    local before
    before=$(subscribers)
    timeout 30 python3 tests-c/fleet/client.py --new "$2" --back "$2" --clients 1 "${CLIENT_FLAGS[@]}" >/dev/null
    # A ticket server publishes no session (its first ticket started its ring thread instead).
    [ "$TICKETS" = 1 ] && return 0
    for _ in $(seq 50); do [ "$(subscribers)" -gt "$before" ] && return 0; sleep 0.1; done
    echo "bench-fleet: server $1's fleet did not subscribe" >&2
    exit 1
}
subscribers() { redis-cli -p "$RPORT" PUBSUB NUMSUB sesscache:sessions | sed -n 2p; }
stop_server() { local pid; eval "pid=\$PID_$1"; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

RPORT=$(free_port)
mkdir -p "$TMP/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis" >"$TMP/redis.log" 2>&1 &
track $!
for _ in $(seq 100); do [ "$(redis-cli -p "$RPORT" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done

RESULTS=$OUT/fleet$TAG.tsv
LAGS=$TMP/lags
{
    echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
    echo "# library: $(git rev-parse --short HEAD) built $(date -r target/release/libsesscache.so '+%F %T'); $(redis-server --version | cut -d' ' -f1-3)"
    echo "# started: $(date '+%F %T'); loadavg: $(cut -d' ' -f1-3 /proc/loadavg); clients per run: $N; runs: $RUNS"
    printf 'delay\tworkload\trun\tper_s\tp50_ms\tp99_ms\tresumed\tredis_ops_per_handshake\n'
} >"$RESULTS"

delay_how="none"
for delay in 0 1; do
    FPORT=$RPORT
    if [ "$delay" = 1 ]; then
        # Between the servers and Redis only (the clients' side stays undelayed).
        FPORT=$(free_port)
        python3 tests-c/fleet/delay_proxy.py "$FPORT" "$RPORT" 1 900 >"$TMP/proxy.out" 2>&1 &
        track $!
        for _ in $(seq 50); do grep -q ready "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
        delay_how="tests-c/fleet/delay_proxy.py, 1 ms each way"
    fi
    for run in $(seq "$RUNS"); do
        A=$(free_port) B=$(free_port) P=$(free_port)
        start_server A "$A" fleet "$FPORT"
        start_server B "$B" fleet "$FPORT"
        start_server P "$P" plain 0
        for w in libssl local fleet; do
            case $w in
            libssl) args=(--new "$P" --back "$P") ;;
            local) args=(--new "$A" --back "$A" --redis-port "$RPORT") ;;
            fleet) args=(--new "$A" --back "$B" --redis-port "$RPORT" --pause-ms 300) ;;
            esac
            got=$(timeout 600 python3 tests-c/fleet/client.py "${args[@]}" "${CLIENT_FLAGS[@]}" --clients "$N" --seed "$run")
            python3 - "$got" "$delay" "$w" "$run" >>"$RESULTS" <<'EOF'
import json, sys
d, delay, w, run = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
n = d["clients"]
rows = []
if w != "fleet":  # the full handshakes of the fleet run are the same as local's
    rows.append((("libssl-full" if w == "libssl" else "full"), d["new_per_s"], d["new_ms"],
                 d["new_ok"], d.get("redis_ops_new")))
# Every returning handshake, resumed or not (a miss at B is a full handshake).
rows.append(((w if w != "libssl" else "libssl-local"), d["back_per_s"], d["back_ms"], d["resumed"], d.get("redis_ops_back")))
for name, rate, ms, resumed, ops in rows:
    per = "" if ops is None else f"{ops / n:.2f}"
    print(f"{delay}\t{name}\t{run}\t{rate}\t{ms[0]}\t{ms[1]}\t{resumed}/{n}\t{per}")
EOF
            echo "bench-fleet: delay $delay ms, $w, run $run: $got" >&2
        done
        stop_server A
        stop_server B
        stop_server P
        cp "$TMP/B.report" "$OUT/fleet$TAG-B-report-$delay-$run.json" 2>/dev/null || true
    done
    [ "$TICKETS" = 1 ] && continue # no session travels on the channel: no replication lag
    # Replication lag: a subscriber behind the same delay as the servers hears A's sessions.
    A=$(free_port)
    start_server A "$A" fleet "$FPORT"
    lag=$(timeout 120 python3 bench/fleet_lag.py "$A" "$FPORT" 200)
    stop_server A
    echo "bench-fleet: delay $delay ms, replication lag: $lag" >&2
    echo "# lag at $delay ms: $lag" >>"$LAGS"
done
[ -f "$LAGS" ] && cat "$LAGS" >>"$RESULTS"
# Memory per replicated session: B's mirror after the last run, from its report (if it says).
python3 - "$OUT"/fleet$TAG-B-report-1-"$RUNS".json >>"$RESULTS" <<'EOF'
import json, sys
try:
    lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
except (OSError, ValueError):
    lines = []
def get(l, k):
    f = l.get("fleet") if isinstance(l.get("fleet"), dict) else {}
    return l.get(k, l.get("fleet_" + k, f.get(k)))
for l in lines:
    b, n = get(l, "mirror_bytes"), get(l, "mirror_entries")
    if isinstance(b, int) and isinstance(n, int) and n:
        print(f"# B's mirror: {n} sessions, {b} bytes: {b / n:.0f} B a replicated session (DER + per-entry overhead)")
        break
else:
    print("# B's mirror: not in its report")
EOF
echo "# finished: $(date '+%F %T'); loadavg: $(cut -d' ' -f1-3 /proc/loadavg); delay: $delay_how" >>"$RESULTS"
python3 - "$RESULTS" <<'EOF' | tee "$OUT/fleet$TAG.md"
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if not l.startswith(("#", "delay"))]
notes = [l.strip() for l in open(sys.argv[1]) if l.startswith("#")]
print("| delay | workload | handshakes/s | p50 ms | p99 ms | resumed | Redis cmds/handshake |")
print("|---|---|---|---|---|---|---|")
order = ["libssl-full", "full", "libssl-local", "local", "fleet"]
for delay in sorted({r[0] for r in rows}):
    for w in order:
        rs = [r for r in rows if r[0] == delay and r[1] == w]
        if not rs:
            continue
        med = lambda i: statistics.median(float(r[i]) for r in rs)
        ops = [r[7] for r in rs if r[7]]
        print(f"| {delay} ms | {w} | {med(3):.0f} | {med(4):.2f} | {med(5):.2f} | {', '.join(r[6] for r in rs)} | "
              f"{statistics.median(float(o) for o in ops):.2f} |" if ops else
              f"| {delay} ms | {w} | {med(3):.0f} | {med(4):.2f} | {med(5):.2f} | {', '.join(r[6] for r in rs)} | |")
print()
for n in notes:
    print(n.lstrip("# "))
EOF
