#!/usr/bin/env bash
# What the fleet's pub/sub fan-out costs each process (issue 11, "Bounded memory"): a private
# redis-server on a loopback port, K subscriber processes and P publisher processes of
# examples/fleet_scale.rs (the library's fleet::Fleet, configured from SESSCACHE_FLEET*), the
# publishers together making RATE sessions a second for DURATION seconds with real TLS 1.2 session DER
# (openssl s_client -sess_out | openssl sess_id -outform DER). Each subscriber then receives
# what one process of a fleet making RATE sessions a second receives. Measured: each process's
# CPU, RSS and fleet counters, Redis's CPU (INFO cpu) and bytes in/out (INFO stats); then a
# getter's bounded GETs (what a process without the subscription pays per resumption). The
# summary (bench/fleet_scale.py) extrapolates to FLEET processes.
#
# usage: bench/fleet_scale.sh          env: K (8) P (1) RATE (10000) DURATION (20 s) DER (both:
#        nocert, cert, both) MEMORY (64M) GETS (20000) GET_RATE (5000)
#        GET_BUDGET_US (100000) PUB_QUEUE (65536) SINKS (64) FLEET (160) OUT
#        SUBSCRIBE (sessions, or removals: every process of the run in pull mode, SINKS ignored)
set -u
cd "$(dirname "$0")/.."
K=${K:-8} P=${P:-1} RATE=${RATE:-10000} DURATION=${DURATION:-20} DER=${DER:-both}
MEMORY=${MEMORY:-64M} GETS=${GETS:-20000} GET_RATE=${GET_RATE:-5000} FLEET=${FLEET:-160}
OUT=${OUT:-bench/out/fleet_scale} SUBSCRIBE=${SUBSCRIBE:-sessions}
[ "$SUBSCRIBE" = removals ] && SINKS=0 # nothing is published to fan out
BIN=target/release/examples/fleet_scale
command -v redis-server >/dev/null || { echo "fleet_scale: no redis-server" >&2; exit 2; }
nice -n 10 cargo build --release --locked --example fleet_scale 2>&1 | tail -1
rm -rf "$OUT"; mkdir -p "$OUT"
TMP=$(mktemp -d)
PIDS=()
REDIS_PORT=
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "$REDIS_PORT" ] && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

# Real session DER: a TLS 1.2 session whose peer is a P-256 certificate (what a server keeps
# for a client that sent one), and the same with the peer certificate removed (no client
# certificate: what most servers keep).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k.pem" -out "$TMP/c.pem" \
    -subj /CN=localhost -days 1 2>/dev/null
TLS_PORT=$((20000 + RANDOM % 20000))
timeout 10 openssl s_server -accept 127.0.0.1:$TLS_PORT -tls1_2 -no_ticket -cert "$TMP/c.pem" -key "$TMP/k.pem" \
    -naccept 1 -quiet </dev/null >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
    echo | timeout 5 openssl s_client -connect 127.0.0.1:$TLS_PORT -tls1_2 -sess_out "$TMP/s.pem" >/dev/null 2>&1 && break
    sleep 0.1
done
openssl sess_id -in "$TMP/s.pem" -outform DER -out "$OUT/cert.der" || { echo "fleet_scale: no session DER" >&2; exit 1; }
python3 bench/fleet_scale.py strip "$OUT/cert.der" "$OUT/nocert.der"
case $DER in
    nocert) DERS=("$OUT/nocert.der") ;; cert) DERS=("$OUT/cert.der") ;; *) DERS=("$OUT/nocert.der" "$OUT/cert.der") ;;
esac

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/fleet.key"; echo >>"$TMP/fleet.key"
chmod 600 "$TMP/fleet.key"

for _ in $(seq 20); do
    REDIS_PORT=$((40000 + RANDOM % 20000))
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --dir "$TMP" >"$OUT/redis.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break 2; sleep 0.1; done
    REDIS_PORT=
done
[ -n "$REDIS_PORT" ] || { echo "fleet_scale: redis-server did not start" >&2; exit 1; }
export SESSCACHE_FLEET=redis://127.0.0.1:$REDIS_PORT SESSCACHE_FLEET_KEY_FILE=$TMP/fleet.key SESSCACHE_FLEET_MEMORY=$MEMORY \
    SESSCACHE_FLEET_SUBSCRIBE=$SUBSCRIBE
info() { redis-cli -p "$REDIS_PORT" info "$1" | tr -d '\r' >"$OUT/$2"; }

# Subscribers first, listening long enough to hear every publisher out.
SUB_PIDS=()
for i in $(seq "$K"); do
    timeout $((DURATION + 60)) "$BIN" sub $((DURATION + 8)) >"$OUT/sub$i.json" 2>"$OUT/sub$i.err" &
    SUB_PIDS+=($!)
    PIDS+=($!)
done
for _ in $(seq 100); do
    n=$(redis-cli -p "$REDIS_PORT" pubsub numsub sesscache:removals | tail -1)
    [ "$n" = "$K" ] && break
    sleep 0.1
done
[ "$n" = "$K" ] || echo "fleet_scale: only $n of $K subscribers subscribed" >&2
info all before.info
PUB_PIDS=()
for i in $(seq "$P"); do
    # A deep queue: on a shared 2-core box the publisher thread can be off the CPU for longer
    # than 4096 sessions last at this rate (a process of the fleet publishes RATE/FLEET a second).
    SESSCACHE_FLEET_QUEUE=${PUB_QUEUE:-65536} timeout $((DURATION + 30)) "$BIN" pub "$i" "$(python3 -c "print($RATE / $P)")" "$DURATION" "${DERS[@]}" \
        >"$OUT/pub$i.json" 2>"$OUT/pub$i.err" &
    PUB_PIDS+=($!)
    PIDS+=($!)
done
wait "${PUB_PIDS[@]}"
sleep 1
info all after.info
redis-cli -p "$REDIS_PORT" dbsize >"$OUT/dbsize"
wait "${SUB_PIDS[@]}"

# The bounded GET: a process that did not hear the sessions finds some of publisher 1's.
info all before-get.info
# A generous budget here: this measures what the GET itself costs, not the 1 ms deadline.
SESSCACHE_FLEET_BUDGET_US=${GET_BUDGET_US:-100000} timeout 120 "$BIN" get 1 "$GETS" "$GET_RATE" >"$OUT/get.json" 2>"$OUT/get.err"
info all after-get.info

# Redis alone fanning out to SINKS subscriptions that only count bytes (one Python process):
# what the fan-out costs Redis at a larger fleet than this machine can run processes for.
if [ "${SINKS:-64}" -gt 0 ]; then
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    timeout $((DURATION + 30)) python3 bench/fleet_scale.py sink "$REDIS_PORT" "${SINKS:-64}" $((DURATION + 25)) "$OUT/sink.json" &
    SINK_PID=$!
    PIDS+=($SINK_PID)
    for _ in $(seq 100); do
        n=$(redis-cli -p "$REDIS_PORT" pubsub numsub sesscache:sessions | tail -1)
        [ "$n" = "${SINKS:-64}" ] && break
        sleep 0.1
    done
    info all before-sink.info
    SESSCACHE_FLEET_QUEUE=${PUB_QUEUE:-65536} timeout $((DURATION + 30)) "$BIN" pub 99 "$RATE" "$DURATION" "${DERS[@]}" \
        >"$OUT/sinkpub.json" 2>"$OUT/sinkpub.err"
    wait $SINK_PID
    info all after-sink.info
fi

python3 bench/fleet_scale.py summary "$OUT" "$K" "$P" "$RATE" "$DURATION" "$FLEET" "$MEMORY" "$SUBSCRIBE" | tee "$OUT/summary.txt"
