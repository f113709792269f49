#!/usr/bin/env bash
# The cost of the fleet's ticket key callback against libssl's built-in keys (issue 12):
# bench/ticketbench.c, TLS 1.3 resumptions from a stateless ticket, run ROUNDS times each way,
# interleaved (plain libssl; preloaded, fleet off; preloaded, fleet on with a redis-server this
# script starts), median us/handshake and the ratio of handshake rates against plain.
#
# usage: bench/tickets.sh [K] [ROUNDS]      (defaults 2000, 5)
set -u
cd "$(dirname "$0")/.."
K=${1:-2000}
ROUNDS=${2:-5}
OUT=${OUT:-target/bench-tickets}
LIB=$PWD/target/release/libsesscache.so
mkdir -p "$OUT"
cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -o "$OUT/ticketbench" bench/ticketbench.c -lssl -lcrypto || exit 1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
redis=$!
trap 'kill $redis 2>/dev/null; wait $redis 2>/dev/null' EXIT
for _ in $(seq 1 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$OUT/fleet.key" && echo >>"$OUT/fleet.key")
clean=(env -u SESSCACHE_FLEET -u SESSCACHE_FLEET_KEY_FILE -u SESSCACHE_DISABLE -u SESSCACHE_REPORT)
declare -A runs
for _ in $(seq 1 "$ROUNDS"); do
    runs[plain]+=" $("${clean[@]}" "$OUT/ticketbench" "$K" | awk '{print $3}')"
    runs[off]+=" $("${clean[@]}" LD_PRELOAD="$LIB" "$OUT/ticketbench" "$K" | awk '{print $3}')"
    runs[fleet]+=" $("${clean[@]}" LD_PRELOAD="$LIB" SESSCACHE_FLEET="redis://127.0.0.1:$port/0" \
        SESSCACHE_FLEET_KEY_FILE="$OUT/fleet.key" "$OUT/ticketbench" "$K" | awk '{print $3}')"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
base=$(echo "${runs[plain]}" | median)
for way in plain off fleet; do
    m=$(echo "${runs[$way]}" | median)
    printf '%-6s median %8.2f us/handshake  rate vs plain %.3fx   runs:%s\n' "$way" "$m" "$(awk -v b="$base" -v m="$m" 'BEGIN { print b / m }')" "${runs[$way]}"
done
