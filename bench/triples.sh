#!/usr/bin/env bash
# Before/after timing of one cachebench workload where single runs are too noisy to tell 10%
# apart: N alternated triples of processes (libssl plain, preloaded with library A, preloaded
# with library B, back to back), and the median of the per-triple ratios with their quartiles.
# Machine drift between triples cancels out of each ratio.
#
# usage: bench/triples.sh LIB_A LIB_B WORKLOAD ARGS...   e.g.
#        bench/triples.sh /tmp/before.so target/release/libsesscache.so flush 1000
# env:   N (triples, default 31), BENCH_ROUNDS (cachebench's rounds below 100K, default 31)
# needs: bench/out/cachebench-libssl (bench/run.sh --build-only)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
a=$(realpath "$1") b=$(realpath "$2")
shift 2
bin=bench/out/cachebench-libssl
[ -x "$bin" ] || { echo "$bin missing: run bench/run.sh --build-only" >&2; exit 2; }
value() { "$@" | awk '$1 == "RESULT" { print $4 }'; }
for _ in $(seq "${N:-31}"); do
    plain=$(value "$bin" "$@")
    with_a=$(LD_PRELOAD=$a value "$bin" "$@")
    with_b=$(LD_PRELOAD=$b value "$bin" "$@")
    echo "$plain $with_a $with_b"
done | python3 -c '
import statistics as st, sys
rows = [tuple(map(float, line.split())) for line in sys.stdin]
def show(name, v):
    q = st.quantiles(v, n=4) if len(v) > 1 else [v[0], v[0], v[0]]
    print(f"  {name:<12} {st.median(v):.3f}x  [{q[0]:.3f} .. {q[2]:.3f}]")
print(sys.argv[1], f"({len(rows)} triples; medians: libssl {st.median(r[0] for r in rows):g},",
      f"A {st.median(r[1] for r in rows):g}, B {st.median(r[2] for r in rows):g})")
show("libssl / A", [p / x for p, x, _ in rows])
show("libssl / B", [p / y for p, _, y in rows])
show("A / B", [x / y for _, x, y in rows])
print("  (time ratios: above 1 means the second is faster)")
' "$*"
