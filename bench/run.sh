#!/usr/bin/env bash
# `make bench`: builds the C benchmarks, runs every workload each way (libssl, preloaded,
# native), RUNS times each with the ways interleaved, and prints one table (medians, spread,
# ratio to libssl). Raw results: bench/out/results.tsv; table: bench/out/table.md; chart of add
# cost against cache size: bench/add-cost.svg (bench/chart.py).
#
# usage: bench/run.sh            the full run (about 15 minutes on 2 cores)
#        bench/run.sh --smoke    every benchmark once at a tiny size, all ways; checks only that
#                                each prints its result (for `make test`; a few seconds)
#        bench/run.sh --build-only
# env:   RUNS (default 5), STIME_SECONDS (default 5), ONLY (a regex on job names: a partial
#        run, table only), RESULTS (where the raw results go, default bench/out/results.tsv),
#        CC, BENCH_BUDGET_MS (see cachebench.c)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=bench/out
PRELOAD=$ROOT/target/release/libsesscache.so
CC=${CC:-cc}
RUNS=${RUNS:-5}
STIME_SECONDS=${STIME_SECONDS:-5}
ONLY=${ONLY:-.}
MODE=full
case "${1:-}" in
--smoke) MODE=smoke; RUNS=1; STIME_SECONDS=1 ;;
--build-only) MODE=build ;;
"") ;;
*) echo "usage: $0 [--smoke|--build-only]" >&2; exit 2 ;;
esac

[ -f "$PRELOAD" ] || { echo "bench: $PRELOAD missing: run make first" >&2; exit 2; }
mkdir -p "$OUT/lib"
# Every run uses one snapshot of the library: others may rebuild target/release meanwhile.
cp "$PRELOAD" "$OUT/lib/libsesscache.so"
# The native builds need what the soname names (libsesscache.so.0).
ln -sfn libsesscache.so "$OUT/lib/libsesscache.so.0"
LIB_BUILT=$(date -r "$PRELOAD" '+%F %T')
LIB=$ROOT/$OUT/lib
PRELOAD=$LIB/libsesscache.so
CFLAGS="-std=c11 -O2 -g -Wall -Wextra -Werror"
$CC $CFLAGS -o $OUT/cachebench-libssl bench/cachebench.c -lssl -lcrypto -lpthread
$CC $CFLAGS -DBENCH_NATIVE -I include -o $OUT/cachebench-native bench/cachebench.c \
    -L "$LIB" -lsesscache -Wl,-rpath,"$LIB" -lpthread
$CC $CFLAGS -o $OUT/tlsbench-libssl bench/tlsbench.c -lssl -lcrypto -lpthread
[ "$MODE" = build ] && exit 0

# ---- the jobs: name | program | arguments | ways ----
# Sizes: add workloads at 1K, 10K, 100K and 1M cached sessions (no eviction: cache size
# above N+K); K is an upper bound, each run stops after BENCH_BUDGET_MS of timed adds.
jobs=()
if [ "$MODE" = smoke ]; then
    for w in add-equal add-mixed add-old; do jobs+=("$w/100|cachebench|$w 100 50|all"); done
    jobs+=("remove/100|cachebench|remove 100 50|all" "flush/1000|cachebench|flush 1000|all")
    jobs+=("threads/t2|cachebench|threads 100 50 2|all" "spin/t2|cachebench|spin 100 50 2|one")
    jobs+=("threads-private/t2|cachebench|threads-private 100 50 2|all" "memspin/t2|cachebench|memspin 100 50 2|one")
    jobs+=("scaling-threads/x|cachebench|scaling 100 50 3 threads|all")
    jobs+=("memory/100|cachebench|memory 100|all" "objects/100|cachebench|objects 100|all")
    jobs+=("tls-resume/10|tlsbench|resume 10 5|tls" "tls-full/10|tlsbench|full 10 2|tls")
    jobs+=("tls-threads/t2|tlsbench|threads 10 5 2|tls" "s_time|stime||tls")
else
    for n in 1000 10000 100000 1000000; do
        for w in add-equal add-mixed add-old; do jobs+=("$w/$n|cachebench|$w $n 300000|all"); done
    done
    # Runs at 1K take 0.05 s but one run's ratio swings 0.5-2x (BENCHMARKS.md): those jobs run
    # 40 times as often (the optional fifth field), so that the median of the paired ratios
    # is good to about 2%.
    jobs+=("remove/1000|cachebench|remove 1000 1000|all|40" "remove/10000|cachebench|remove 10000 10000|all")
    jobs+=("remove/100000|cachebench|remove 100000 50000|all" "remove/1000000|cachebench|remove 1000000 100000|all")
    jobs+=("flush/1000|cachebench|flush 1000|all|40" "flush/10000|cachebench|flush 10000|all")
    jobs+=("flush/100000|cachebench|flush 100000|all" "flush/1000000|cachebench|flush 1000000|all")
    # spin: the same threads doing private arithmetic, no SSL call: what parallelism the
    # machine offers at that moment (other work may hold a core), the ceiling for threads.
    # memspin: random reads over 256 MB, the ceiling for work that waits on memory.
    # threads-private: the threads workload with one SSL_CTX per thread, nothing shared.
    for t in 1 2 4; do
        jobs+=("spin/t$t|cachebench|spin 1000 150000 $t|one" "memspin/t$t|cachebench|memspin 1000 150000 $t|one")
        jobs+=("threads/t$t|cachebench|threads 100000 100000 $t|all")
        [ "$t" = 1 ] || jobs+=("threads-private/t$t|cachebench|threads-private 100000 100000 $t|all")
    done
    # scaling: 2 threads ÷ 1 measured back to back in one process, 7 rounds, median ratio.
    jobs+=("scaling-spin/x|cachebench|scaling 1000 150000 7 spin|one" "scaling-memspin/x|cachebench|scaling 1000 150000 7 memspin|one")
    jobs+=("scaling-threads/x|cachebench|scaling 100000 40000 7 threads|all")
    jobs+=("memory/1000000|cachebench|memory 1000000|all" "objects/1000000|cachebench|objects 1000000|all")
    jobs+=("tls-resume/100000|tlsbench|resume 100000 3000|tls" "tls-full/1000|tlsbench|full 1000 300|tls")
    for t in 1 2 4; do jobs+=("tls-threads/t$t|tlsbench|threads 10000 1500 $t|tls"); done
    jobs+=("s_time|stime||tls")
fi

# ---- s_time: openssl s_server -www, plain or preloaded, and s_time -reuse against it ----
TMP=$(mktemp -d /tmp/sesscache-bench.XXXXXX)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stime_once() { # way -> prints "RESULT s_time 0 <conn/s> conn/s <count>"
    local way=$1 port
    [ -f "$TMP/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 -subj /CN=sesscache-bench 2>/dev/null
    local env=() up=0
    [ "$way" = preload ] && env=(LD_PRELOAD="$PRELOAD")
    for _attempt in 1 2 3; do # a random port may be taken: try another
        port=$((20000 + RANDOM % 20000))
        env "${env[@]}" openssl s_server -www -accept "127.0.0.1:$port" -cert "$TMP/cert.pem" -key "$TMP/key.pem" \
            -no_ticket -quiet >"$TMP/server.log" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            if openssl s_client -connect "127.0.0.1:$port" -tls1_2 </dev/null >/dev/null 2>&1; then up=1; break; fi
            sleep 0.1
        done
        [ $up = 1 ] && break
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    done
    [ $up = 1 ] || { echo "bench: s_server did not start" >&2; cat "$TMP/server.log" >&2; return 1; }
    local t0 t1 n
    t0=$(date +%s%N)
    timeout $((STIME_SECONDS + 30)) openssl s_time -connect "127.0.0.1:$port" -reuse -tls1_2 \
        -time "$STIME_SECONDS" >"$TMP/stime.log" 2>&1 </dev/null
    t1=$(date +%s%N)
    # The server's CPU time (user + system, in clock ticks): per connection it is robust to
    # other work on the machine, which the rate is not.
    local ticks
    ticks=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat")
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    n=$(sed -n 's/^\([0-9]*\) connections in [0-9]* real seconds.*/\1/p' "$TMP/stime.log" | tail -1)
    [ -n "$n" ] || { echo "bench: no s_time result" >&2; tail -3 "$TMP/stime.log" >&2; return 1; }
    awk -v n="$n" -v t0="$t0" -v t1="$t1" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        printf "RESULT s_time 0 %.1f conn/s %d\n", n / ((t1 - t0) / 1e9), n
        printf "RESULT s_server-cpu 0 %.2f us/conn %d\n", ticks / hz * 1e6 / n, n
    }'
}

run_one() { # program args way -> RESULT line
    local prog=$1 args=$2 way=$3
    case $prog in
    stime) stime_once "$way" ;;
    *)
        case $way in
        libssl) "$OUT/$prog-libssl" $args ;;
        preload) LD_PRELOAD="$PRELOAD" "$OUT/$prog-libssl" $args ;;
        native) "$OUT/$prog-native" $args ;;
        esac
        ;;
    esac
}

RESULTS=${RESULTS:-$OUT/results.tsv}
[ "$MODE" = smoke ] && RESULTS=$OUT/smoke.tsv
{
    echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "# kernel: $(uname -r); libssl: $(openssl version); $(cc --version | head -1)"
    echo "# library: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- src 2>/dev/null || echo '+uncommitted src') built $LIB_BUILT"
    echo "# started: $(date '+%F %T'); loadavg: $(cut -d' ' -f1-3 /proc/loadavg); runs: $RUNS"
    printf 'job\tway\trun\tvalue\tunit\tcount\tloadavg\n'
} >"$RESULTS"

fail=0
for job in "${jobs[@]}"; do
    IFS='|' read -r name prog args ways repeat <<<"$job"
    [[ $name =~ $ONLY ]] || continue
    case $ways in all) wl="libssl preload native" ;; tls) wl="libssl preload" ;; one) wl=libssl ;; esac
    for run in $(seq $((RUNS * ${repeat:-1}))); do
        for way in $wl; do
            if ! line=$(run_one "$prog" "$args" "$way" 2>"$TMP/err"); then
                echo "bench: $name ($way) failed" >&2; cat "$TMP/err" >&2; fail=1; continue
            fi
            # The first RESULT line is the job's; a program may add more (named by workload).
            first=1 seen=0
            while read -r tag w _n value unit count; do
                [ "$tag" = RESULT ] || continue
                job_name=$name
                [ $first = 1 ] || job_name=$w
                first=0 seen=1
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$job_name" "$way" "$run" "$value" "$unit" "$count" \
                    "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
                [ "$MODE" = smoke ] || printf '%-22s %-8s run %s: %s %s\n' "$job_name" "$way" "$run" "$value" "$unit" >&2
            done <<<"$line"
            [ $seen = 1 ] || { echo "bench: $name ($way) printed no result" >&2; fail=1; continue; }
        done
    done
done
echo "# finished: $(date '+%F %T'); loadavg: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS"

if [ "$MODE" = smoke ]; then
    n=$(grep -vc '^#' "$RESULTS")
    expected=0
    for job in "${jobs[@]}"; do case ${job##*|} in all) expected=$((expected + 3)) ;; tls) expected=$((expected + 2)) ;; one) expected=$((expected + 1)) ;; esac; done
    expected=$((expected + 2)) # s_time's second line, s_server-cpu, each way
    expected=$((expected + 1)) # header line
    # The table is made from the smoke's results too, so report.py cannot rot unnoticed.
    python3 bench/report.py "$RESULTS" >"$OUT/smoke-table.md" || { echo "bench-smoke: report.py failed" >&2; fail=1; }
    if [ $fail = 0 ] && [ "$n" = "$expected" ]; then
        echo "bench-smoke: $((n - 1)) passed, 0 failed"
        exit 0
    fi
    echo "bench-smoke: $((n - 1)) passed, $((expected - n + fail)) failed"
    exit 1
fi
if [ "$ONLY" != . ]; then # a partial run: its table only
    python3 bench/report.py "$RESULTS"
    exit $fail
fi
python3 bench/report.py "$RESULTS" | tee $OUT/table.md
python3 bench/chart.py "$RESULTS" bench/add-cost.svg
echo "chart: bench/add-cost.svg"
exit $fail
