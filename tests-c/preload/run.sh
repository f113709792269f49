#!/usr/bin/env bash
# Preload-mode proofs: programs built against the system libssl (-lssl -lcrypto) are run three
# times, plain, with LD_PRELOAD=target/release/libsesscache.so (sesscache is then their session
# cache) and preloaded with SESSCACHE_DISABLE=1 (pure pass-through); the three transcripts must
# be identical, line for line.
#
# Programs: tests-c/preload/*.c (TLS 1.3, tickets, client cache, threads, SNI), and, as oracles that
# already exist, tests-c/pairs/*/oracle.c (real TLS 1.2 handshakes) and tests-c/scenarios/*.c
# built against libssl (the session-cache API called directly).
#
# usage: tests-c/preload/run.sh [NAME...]   NAME: tls13, threads, pairs/NAME, scenarios/NAME;
#                                           default: all of them
# env:   PRELOAD_LIB (default target/release/libsesscache.so; it must exist: run make first)
#        HELGRIND=1  also runs threads under helgrind (the command at the top of threads.c,
#                    about 2-3 min each): plain, preloaded with PRELOAD_LIB, and preloaded with a
#                    copy of sesscache built with tests-c/preload/pthread_locks patched in for
#                    parking_lot (locks helgrind can see; built offline under $OUT)
#        MEMCHECK=1  also runs tests-c/preload/*.c preloaded under memcheck (errors and leaks)
#        LIBSSL_DIR  runs every program (plain too) with LD_LIBRARY_PATH=LIBSSL_DIR, so that the
#                    libssl.so.3 there loads instead of the system's (tests-c/openssl/run.sh
#                    uses it for OpenSSL's own build, which is linked -Bsymbolic)
#        OUT (default tests-c/out/preload), CC
# exit:  0 when every transcript matches and every checker is clean, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
NAME=preload
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
CC=${CC:-cc}
OUT=${OUT:-tests-c/out/preload}
preload_lib
HELGRIND=${HELGRIND:-0}
MEMCHECK=${MEMCHECK:-0}
LIBSSL_DIR=${LIBSSL_DIR:-}
if [ -n "$LIBSSL_DIR" ]; then
    [ -f "$LIBSSL_DIR/libssl.so.3" ] || { echo "no $LIBSSL_DIR/libssl.so.3" >&2; exit 2; }
    export LD_LIBRARY_PATH="$LIBSSL_DIR"
fi
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -pthread -Itests-c/lib"
LIBS="-lssl -lcrypto"
mkdir -p "$OUT"

if [ ! -f "$LIB" ]; then
    echo "no $LIB: run make first" >&2
    exit 2
fi

# A copy of sesscache's sources (under $OUT, never the tree itself) built offline with
# tests-c/preload/pthread_locks standing in for parking_lot; prints the library's path.
build_pthread_locks() {
    local src="$OUT/pthread_locks_src" tgt="$PWD/$OUT/pthread_locks_target"
    rm -rf "$src" && mkdir -p "$src" || return 1
    tar -C . --exclude=./target --exclude=./tests-c/out --exclude=./.git -cf - . | tar -C "$src" -xf - || return 1
    printf '\n[patch.crates-io]\nparking_lot = { path = "%s" }\n' "$PWD/tests-c/preload/pthread_locks" >>"$src/Cargo.toml"
    (cd "$src" && CARGO_TARGET_DIR="$tgt" timeout 900 cargo update -p parking_lot --offline -q &&
        CARGO_TARGET_DIR="$tgt" timeout 900 cargo build --release --offline -q) >"$OUT/pthread_locks.build" 2>&1 ||
        { cat "$OUT/pthread_locks.build" >&2; return 1; }
    grep -q 'name = "parking_lot"' "$src/Cargo.lock" && grep -A1 'name = "parking_lot"' "$src/Cargo.lock" | grep -q 0.12.99 ||
        { echo "pthread_locks was not patched in" >&2; return 1; }
    echo "$tgt/release/libsesscache.so"
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in tests-c/preload/*.c; do [ -e "$f" ] && names+=("$(basename "$f" .c)"); done
    for d in tests-c/pairs/*/; do [ -f "$d/oracle.c" ] && names+=("pairs/$(basename "$d")"); done
    for f in tests-c/scenarios/*.c; do [ -e "$f" ] && names+=("scenarios/$(basename "$f" .c)"); done
fi

pass=0
fail=0
failed=()
for name in "${names[@]}"; do
    case $name in
    pairs/*) src="tests-c/$name/oracle.c" ;;
    scenarios/*) src="tests-c/$name.c" ;;
    *) src="tests-c/preload/$name.c" ;;
    esac
    flat=${name//\//_}
    b="$OUT/$flat"
    ok=1
    if [ ! -f "$src" ]; then
        echo "FAIL $name: no $src"; ok=0
    elif ! $CC $CFLAGS -o "$b" "$src" $LIBS 2>"$b.build"; then
        echo "FAIL $name: build"; cat "$b.build"; ok=0
    elif [ -n "$LIBSSL_DIR" ] && [ "$(ldd "$b" | awk '$1 == "libssl.so.3" { print $3 }' | xargs -r readlink -f)" != "$(readlink -f "$LIBSSL_DIR/libssl.so.3")" ]; then
        echo "FAIL $name: does not load $LIBSSL_DIR/libssl.so.3"; ok=0
    else
        # plain, preloaded, preloaded but disabled; never a report file from these runs
        timeout 300 "$b" >"$b.plain" 2>"$b.plain.err"; prc=$?
        timeout 300 env LD_PRELOAD="$LIB" "$b" >"$b.preload" 2>"$b.preload.err"; lrc=$?
        timeout 300 env SESSCACHE_DISABLE=1 LD_PRELOAD="$LIB" "$b" >"$b.disabled" 2>"$b.disabled.err"; drc=$?
        if [ $prc -ne 0 ] || [ $lrc -ne 0 ] || [ $drc -ne 0 ]; then
            echo "FAIL $name: exit codes plain=$prc preload=$lrc disabled=$drc"
            head -5 "$b.plain.err" "$b.preload.err" "$b.disabled.err"; ok=0
        fi
        if [ ! -s "$b.plain" ]; then
            echo "FAIL $name: empty plain transcript"; ok=0
        fi
        if ! diff -u --label "$name plain" --label "$name preload" "$b.plain" "$b.preload" >"$b.diff"; then
            echo "FAIL $name: transcripts differ (plain vs LD_PRELOAD), $(grep -c '^[-+][^-+]' "$b.diff") lines; $b.diff:"
            head -40 "$b.diff"; ok=0
        fi
        if ! diff -u --label "$name plain" --label "$name disabled" "$b.plain" "$b.disabled" >"$b.disabled.diff"; then
            echo "FAIL $name: transcripts differ (plain vs LD_PRELOAD with SESSCACHE_DISABLE=1); $b.disabled.diff:"
            head -20 "$b.disabled.diff"; ok=0
        fi
        if [ "$MEMCHECK" = 1 ] && [ "$src" = "tests-c/preload/$name.c" ] && [ "$name" != threads ]; then
            if ! timeout 900 env LD_PRELOAD="$LIB" valgrind -q --error-exitcode=99 \
                    --leak-check=full --show-leak-kinds=definite,indirect,possible \
                    --errors-for-leak-kinds=definite,indirect,possible \
                    "$b" >"$b.memcheck.out" 2>"$b.memcheck"; then
                echo "FAIL $name: memcheck (preloaded); $b.memcheck:"; head -40 "$b.memcheck"; ok=0
            elif ! cmp -s "$b.plain" "$b.memcheck.out"; then
                echo "FAIL $name: transcript under memcheck (preloaded) differs"; ok=0
            fi
        fi
        if [ "$HELGRIND" = 1 ] && [ "$name" = threads ]; then
            # The command documented at the top of threads.c: plain, preloaded, and preloaded
            # with the build whose locks helgrind can see.
            for mode in plain preload pthread-locks; do
                pre=()
                case $mode in
                preload) pre=(LD_PRELOAD="$LIB") ;;
                pthread-locks)
                    if ! hglib=$(build_pthread_locks); then
                        echo "FAIL $name: could not build the pthread-locks variant"; ok=0; continue
                    fi
                    pre=(LD_PRELOAD="$hglib") ;;
                esac
                if ! timeout 1200 env "${pre[@]}" valgrind --tool=helgrind -q --error-exitcode=99 \
                        --suppressions=tests-c/preload/helgrind.supp "$b" >"$b.helgrind.$mode.out" 2>"$b.helgrind.$mode"; then
                    echo "FAIL $name: helgrind ($mode): $(grep -c 'Possible data race' "$b.helgrind.$mode") possible data races; $b.helgrind.$mode"
                    [ $mode = preload ] && echo "     (if the pthread-locks run is clean, these are sesscache's parking_lot locks, which helgrind cannot see)"
                    ok=0
                elif ! cmp -s "$b.plain" "$b.helgrind.$mode.out"; then
                    echo "FAIL $name: transcript under helgrind ($mode) differs"; ok=0
                else
                    echo "     helgrind ($mode): clean"
                fi
            done
        fi
    fi
    if [ $ok = 1 ]; then
        echo "ok   $name ($(wc -l <"$b.plain") lines)"; pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed+=("$name")
    fi
done
echo "preload: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
