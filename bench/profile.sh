#!/usr/bin/env bash
# Profiles one benchmark's timed region only (setup and teardown are not sampled).
#
# usage: bench/profile.sh perf     MODE PROGRAM WORKLOAD ARGS...
#        bench/profile.sh callgrind MODE PROGRAM WORKLOAD ARGS...
#   MODE:    libssl | preload | native   (native only for PROGRAM=cachebench)
#   PROGRAM: cachebench | tlsbench       (built by bench/run.sh into bench/out/)
# perf: samples with call graphs (-g) while the program has its timed region enabled through
# perf's control FIFO; prints a flat and a caller report. callgrind: collects inside the
# timed_* functions only; prints callgrind_annotate's inclusive view.
# Output goes to bench/out/profile/<mode>-<workload>.{perf.data,txt,callgrind}.
set -eu
cd "$(dirname "$0")/.."
tool=$1 mode=$2 prog=$3
shift 3
out=bench/out/profile
mkdir -p "$out"
name="$mode-$prog-$(echo "$*" | tr ' ' '_')"
bin=bench/out/$prog-libssl
env=()
case $mode in
native) bin=bench/out/$prog-native ;;
preload) env=(LD_PRELOAD="$PWD/target/release/libsesscache.so") ;;
libssl) ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
[ -x "$bin" ] || { echo "$bin missing: run bench/run.sh --build-only first" >&2; exit 2; }

case $tool in
perf)
    ctl=$(mktemp -u /tmp/benchctl.XXXXXX) ack=$(mktemp -u /tmp/benchack.XXXXXX)
    mkfifo "$ctl" "$ack"
    trap 'rm -f "$ctl" "$ack"' EXIT
    env "${env[@]}" BENCH_PERF_CTL="$ctl" BENCH_PERF_ACK="$ack" \
        perf record -q -g --all-user -F 4999 -D -1 --control "fifo:$ctl,$ack" -o "$out/$name.perf.data" "$bin" "$@"
    {
        perf report -i "$out/$name.perf.data" --no-children --percent-limit 0.7 --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$'
        echo '---- inclusive (children) ----'
        perf report -i "$out/$name.perf.data" --children --percent-limit 3 --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$'
    } | tee "$out/$name.txt"
    ;;
callgrind)
    env "${env[@]}" valgrind --tool=callgrind --collect-atstart=no --toggle-collect='timed_*' \
        --callgrind-out-file="$out/$name.callgrind" "$bin" "$@"
    callgrind_annotate --inclusive=yes "$out/$name.callgrind" 2>/dev/null | head -60 | tee "$out/$name.txt"
    ;;
*) echo "unknown tool $tool" >&2; exit 2 ;;
esac
