#!/usr/bin/env bash
# Differential scenarios: every tests-c/scenarios/NAME.c is built against the system libssl
# (the oracle) and against sesscache (native, -I include), and both transcripts must match.
# The oracle binary is also run with LD_PRELOAD=libsesscache.so (preload mode: libssl's
# objects, sesscache's cache), and that transcript must match too.
# Every tests-c/pairs/NAME/ holds oracle.c (libssl) and native.c (sesscache) that must print
# the same transcript: used where the oracle needs real TLS and native mode drives the
# sesscache_ handshake hooks instead. Every tests-c/native/NAME.c covers what libssl cannot
# judge (it crashes, deadlocks or lacks the function there): it is built natively only and
# its transcript must equal tests-c/native/NAME.expected, whose every deliberate difference
# from libssl is in the README's compatibility table. The native builds also run under
# valgrind with zero errors and zero leaks.
#
# Then, with clang (CLANG, default clang; skipped with a note when there is none), the libssl
# build and the native build are made again under AddressSanitizer (LeakSanitizer included):
# the clang libssl build's transcript must be the gcc one's (a scenario must not depend on
# the compiler, e.g. on the order a call's arguments are evaluated in), and the native build,
# the libssl build and the libssl build preloaded must each run with no ASan or LSan report
# and print that transcript.
#
# usage: tests-c/run-scenarios.sh [NAME...]   (default: all)
# env:   VALGRIND=0 skips valgrind; ASAN=0 builds the clang side without AddressSanitizer;
#        CLANG= skips the clang side; CC, OUT (build dir) as usual.
set -u
cd "$(dirname "$0")/.."
NAME=scenarios
# shellcheck source=lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
CC=${CC:-cc}
OUT=${OUT:-tests-c/out}
LIBDIR=$PWD/target/release
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -Itests-c/lib"
ORACLE_LIBS="-lssl -lcrypto"
NATIVE_FLAGS="-Iinclude -L$LIBDIR -Wl,-rpath,$LIBDIR"
NATIVE_LIBS="-lsesscache"
VALGRIND=${VALGRIND:-1}
PRELOAD=$LIBDIR/libsesscache.so
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
[ "$VALGRIND" = 1 ] || VG=
CLANG=${CLANG-clang}
ASAN=${ASAN:-1}
CLANG_CFLAGS="$CFLAGS -fno-omit-frame-pointer"
[ "$ASAN" = 1 ] && CLANG_CFLAGS="$CLANG_CFLAGS -fsanitize=address"
# Any report fails the run (ASan's and LSan's exit code 23 here).
export ASAN_OPTIONS="detect_leaks=1:exitcode=23:abort_on_error=0"
if [ -n "$CLANG" ] && ! command -v "$CLANG" >/dev/null; then
    echo "note: no $CLANG: the clang and AddressSanitizer builds are skipped (.ci/run installs clang)"
    CLANG=
fi
mkdir -p "$OUT/oracle" "$OUT/native" "$OUT/transcripts"

# The clang builds of one scenario ($osrc, $nsrc into $o.clang, $n.clang; transcripts beside
# $t): the libssl build's transcript must equal the gcc one's in $t.oracle, and every run must
# be free of sanitizer reports. Returns 1 on the first failure, with its reason printed.
clang_side() {
    local what=clang
    [ "$ASAN" = 1 ] && what=ASan
    if [ -n "$osrc" ]; then
        if ! $CLANG $CLANG_CFLAGS -o "$o.clang" "$osrc" $ORACLE_LIBS 2>"$t.clang.oracle.build"; then
            echo "FAIL $name: clang oracle build"; cat "$t.clang.oracle.build"; return 1
        fi
        if ! timeout 300 "$o.clang" >"$t.clang.oracle" 2>"$t.clang.oracle.err"; then
            echo "FAIL $name: clang libssl build failed ($what)"; head -40 "$t.clang.oracle.err"; return 1
        fi
        if ! diff -u "$t.oracle" "$t.clang.oracle" >"$t.clang.diff"; then
            echo "FAIL $name: transcripts differ (libssl build: gcc vs clang)"; head -40 "$t.clang.diff"; return 1
        fi
        if ! LD_PRELOAD="$PRELOAD" timeout 300 "$o.clang" >"$t.clang.preload" 2>"$t.clang.preload.err"; then
            echo "FAIL $name: clang libssl build preloaded failed ($what)"; head -40 "$t.clang.preload.err"; return 1
        fi
        if ! cmp -s "$t.oracle" "$t.clang.preload"; then
            echo "FAIL $name: transcripts differ (oracle vs clang build preloaded)"; return 1
        fi
    fi
    if ! $CLANG $CLANG_CFLAGS $NATIVE_FLAGS -o "$n.clang" "$nsrc" $NATIVE_LIBS 2>"$t.clang.native.build"; then
        echo "FAIL $name: clang native build"; cat "$t.clang.native.build"; return 1
    fi
    if ! timeout 300 "$n.clang" >"$t.clang.native" 2>"$t.clang.native.err"; then
        echo "FAIL $name: clang native build failed ($what)"; head -40 "$t.clang.native.err"; return 1
    fi
    if ! cmp -s "$t.oracle" "$t.clang.native"; then
        echo "FAIL $name: transcripts differ (oracle vs clang native build)"; return 1
    fi
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in tests-c/scenarios/*.c; do [ -e "$f" ] && names+=("$(basename "$f" .c)"); done
    for d in tests-c/pairs/*/; do [ -d "$d" ] && names+=("$(basename "$d")"); done
    for f in tests-c/native/*.c; do [ -e "$f" ] && names+=("$(basename "$f" .c)"); done
fi

pass=0
fail=0
failed=()
for name in "${names[@]}"; do
    if [ -f "tests-c/scenarios/$name.c" ]; then
        osrc="tests-c/scenarios/$name.c"; nsrc="$osrc"
    elif [ -f "tests-c/native/$name.c" ]; then
        osrc=""; nsrc="tests-c/native/$name.c"
    else
        osrc="tests-c/pairs/$name/oracle.c"; nsrc="tests-c/pairs/$name/native.c"
    fi
    o="$OUT/oracle/$name"; n="$OUT/native/$name"; t="$OUT/transcripts/$name"
    ok=1
    if [ -z "$osrc" ]; then
        # Native only: the committed expectation stands in for the oracle's transcript.
        cp "tests-c/native/$name.expected" "$t.oracle" 2>/dev/null || { echo "FAIL $name: no .expected"; : >"$t.oracle"; }
        printf '#!/bin/sh\ncat "%s"\n' "$PWD/tests-c/native/$name.expected" >"$o"; chmod +x "$o"
    fi
    if [ -n "$osrc" ] && ! $CC $CFLAGS -o "$o" "$osrc" $ORACLE_LIBS 2>"$t.oracle.build"; then
        echo "FAIL $name: oracle build"; cat "$t.oracle.build"; ok=0
    elif ! $CC $CFLAGS $NATIVE_FLAGS -o "$n" "$nsrc" $NATIVE_LIBS 2>"$t.native.build"; then
        echo "FAIL $name: native build"; cat "$t.native.build"; ok=0
    else
        timeout 120 "$o" >"$t.oracle" 2>"$t.oracle.err"; orc=$?
        timeout 120 "$n" >"$t.native" 2>"$t.native.err"; nrc=$?
        if [ $orc -ne 0 ] || [ $nrc -ne 0 ]; then
            echo "FAIL $name: exit codes oracle=$orc native=$nrc"; head -5 "$t.oracle.err" "$t.native.err"; ok=0
        elif ! diff -u "$t.oracle" "$t.native" >"$t.diff"; then
            echo "FAIL $name: transcripts differ (oracle vs native)"; head -40 "$t.diff"; ok=0
        elif [ ! -s "$t.oracle" ]; then
            echo "FAIL $name: empty transcript"; ok=0
        elif [ -n "$VG" ] && ! timeout 600 $VG "$n" >"$t.valgrind.out" 2>"$t.valgrind"; then
            echo "FAIL $name: valgrind"; head -40 "$t.valgrind"; ok=0
        elif [ -n "$VG" ] && ! cmp -s "$t.oracle" "$t.valgrind.out"; then
            echo "FAIL $name: transcript under valgrind differs"; ok=0
        elif [ -n "$osrc" ]; then
            # Preloaded into the oracle binary (under valgrind too, unless VALGRIND=0), marking
            # sessions not resumable by the store the probe must find (src/preload/mark.rs),
            # then by libssl's removal.
            if ! SESSCACHE_MARK=store LD_PRELOAD="$PRELOAD" timeout 600 $VG "$o" >"$t.preload" 2>"$t.preload.err"; then
                echo "FAIL $name: preloaded run failed"; head -40 "$t.preload.err"; ok=0
            elif grep -q 'SESSCACHE_MARK' "$t.preload.err"; then
                echo "FAIL $name: preloaded run fell back from the store:"; grep 'SESSCACHE_MARK' "$t.preload.err"; ok=0
            elif ! diff -u "$t.oracle" "$t.preload" >"$t.preload.diff"; then
                echo "FAIL $name: transcripts differ (oracle vs preloaded)"; head -40 "$t.preload.diff"; ok=0
            elif ! SESSCACHE_MARK=call LD_PRELOAD="$PRELOAD" timeout 300 "$o" >"$t.preload-call" 2>"$t.preload-call.err"; then
                echo "FAIL $name: preloaded run with SESSCACHE_MARK=call failed"; head -40 "$t.preload-call.err"; ok=0
            elif ! diff -u "$t.oracle" "$t.preload-call" >"$t.preload-call.diff"; then
                echo "FAIL $name: transcripts differ (oracle vs preloaded, SESSCACHE_MARK=call)"; head -40 "$t.preload-call.diff"; ok=0
            fi
        fi
    fi
    if [ $ok = 1 ] && [ -n "$CLANG" ]; then
        clang_side || ok=0
    fi
    if [ $ok = 1 ]; then
        echo "ok   $name ($(wc -l <"$t.oracle") lines)"; pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed+=("$name")
    fi
done
echo "scenarios: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
