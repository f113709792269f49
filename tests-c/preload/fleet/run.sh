#!/usr/bin/env bash
# The fronts' fleet path (issue 11) with the test-only in-process remote (SESSCACHE_FLEET=memory:):
# memory.c built against libssl and natively. Fleet off, plain libssl, preloaded and native
# print one transcript; fleet on, preloaded and native print another, fleet.expected (what a
# shared cache must do: resume at B, not at another id context, forget an explicit removal,
# keep a flushed session). Every run but plain is also checked under memcheck.
#
# usage: tests-c/preload/fleet/run.sh     env: PRELOAD_LIB, OUT (default tests-c/out/fleet-memory), CC
set -u
cd "$(dirname "$0")/../../.."
NAME=fleet-memory
# shellcheck source=../../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
CC=${CC:-cc}
OUT=${OUT:-tests-c/out/fleet-memory}
preload_lib
[ -f "$LIB" ] || { echo "no $LIB: run make first" >&2; exit 2; }
LIBDIR=$(dirname "$LIB")
SRC=tests-c/preload/fleet/memory.c
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -Itests-c/lib"
mkdir -p "$OUT"
fail=0
die() { echo "FAIL fleet-memory: $*"; fail=1; }

$CC $CFLAGS -o "$OUT/oracle" "$SRC" -lssl -lcrypto 2>"$OUT/oracle.build" || { cat "$OUT/oracle.build"; exit 1; }
$CC $CFLAGS -DNATIVE_DRIVER -Iinclude -o "$OUT/native" "$SRC" -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lsesscache \
    2>"$OUT/native.build" || { cat "$OUT/native.build"; exit 1; }

run() { # name, env... -- program
    local name=$1; shift
    timeout 120 env "$@" >"$OUT/$name" 2>"$OUT/$name.err" ||
        die "$name exited $? ($(head -3 "$OUT/$name.err"))"
}
run plain "$OUT/oracle"
run preload-off LD_PRELOAD="$LIB" "$OUT/oracle"
run native-off "$OUT/native"
run preload-on SESSCACHE_FLEET=memory: LD_PRELOAD="$LIB" "$OUT/oracle"
run native-on SESSCACHE_FLEET=memory: "$OUT/native"
for t in preload-off native-off; do
    diff -u "$OUT/plain" "$OUT/$t" >"$OUT/$t.diff" || { die "fleet off: $t differs from plain libssl"; head -30 "$OUT/$t.diff"; }
done
for t in preload-on native-on; do
    diff -u tests-c/preload/fleet/fleet.expected "$OUT/$t" >"$OUT/$t.diff" ||
        { die "fleet on: $t differs from fleet.expected"; head -30 "$OUT/$t.diff"; }
    # The hook is not a Redis URL: nothing (the ticket ring's setup included) may complain.
    [ -s "$OUT/$t.err" ] && { die "fleet on: $t wrote to stderr"; head -5 "$OUT/$t.err"; }
done
if command -v valgrind >/dev/null; then
    # The in-process remote keeps its sessions until exit: "possibly lost", not an error.
    for f in off on; do
        fl=(); [ $f = on ] && fl=(SESSCACHE_FLEET=memory:)
        for way in preload native; do
            pre=() prog=$OUT/native
            [ $way = preload ] && pre=(LD_PRELOAD="$LIB") prog=$OUT/oracle
            timeout 600 env "${fl[@]}" "${pre[@]}" valgrind -q --error-exitcode=99 \
                --leak-check=full --errors-for-leak-kinds=definite,indirect "$prog" >"$OUT/memcheck-$way-$f" \
                2>"$OUT/memcheck-$way-$f.err" || { die "memcheck ($way, fleet $f)"; head -30 "$OUT/memcheck-$way-$f.err"; }
        done
    done
else
    echo "note: no valgrind: the memcheck runs are skipped"
fi
[ $fail = 0 ] && echo "fleet-memory: ok (off = plain libssl, on = fleet.expected, preloaded and native)"
exit $fail
