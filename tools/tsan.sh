#!/usr/bin/env bash
# ThreadSanitizer runs of the thread tests, every one of which must end with no report:
#   1. the Rust thread tests (tests/engine_threads.rs, tests/capi_threads.rs), built with
#      -Zsanitizer=thread and the standard library rebuilt with it (-Zbuild-std: a std TSan
#      cannot see into gives false reports);
#   2. tests-c/preload/threads.c (four threads, real TLS through libssl on shared contexts),
#      built with clang -fsanitize=thread and linked with the Rust toolchain's own TSan runtime
#      (clang's is older than the instrumentation rustc emits), run plain and with the TSan
#      build of libsesscache.so preloaded; the two transcripts must be identical.
# Needs the nightly toolchain with its rust-src component, and clang (.ci/run installs them).
# The build is cached in $TSAN_TARGET_DIR (first run about 10 minutes on 2 cores, later runs
# about 1), so later runs only rebuild what changed.
#
# usage: tools/tsan.sh     exit: 0 clean, 2 no nightly toolchain with rust-src or no clang
#                                (nothing run), 1 a report or a failed test
set -uo pipefail
cd "$(dirname "$0")/.."
NAME=tsan
# shellcheck source=../tests-c/lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
TARGET_DIR=${TSAN_TARGET_DIR:-/var/cache/sesscache/tsan-target}
TOOLCHAIN=${TSAN_TOOLCHAIN:-nightly}
OUT=${OUT:-tests-c/out/tsan}
HOST=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustup run "$TOOLCHAIN" rustc --print sysroot 2>/dev/null) || { echo "tsan: no $TOOLCHAIN toolchain" >&2; exit 2; }
[ -d "$sysroot/lib/rustlib/src/rust/library" ] ||
    { echo "tsan: $TOOLCHAIN has no rust-src (rustup component add rust-src --toolchain $TOOLCHAIN)" >&2; exit 2; }
runtime=$(ls "$sysroot/lib/rustlib/$HOST/lib/"librustc-*_rt.tsan.a 2>/dev/null | head -1)
[ -n "$runtime" ] || { echo "tsan: $TOOLCHAIN has no TSan runtime" >&2; exit 2; }
command -v clang >/dev/null || { echo "tsan: no clang" >&2; exit 2; }
mkdir -p "$TARGET_DIR" "$OUT"
export RUSTFLAGS="-Zsanitizer=thread -Cdebuginfo=1"
# The sanitized build needs no cross-crate optimization, and its cache outlives a change of it.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_TARGET_DIR="$TARGET_DIR"
export TSAN_OPTIONS="exitcode=66 halt_on_error=0 second_deadlock_stack=1"
cargo_tsan() { nice -n 10 cargo "+$TOOLCHAIN" "$@" -Zbuild-std --target "$HOST" --release --locked; }

pass=0
fail=0
if cargo_tsan test --no-fail-fast --test engine_threads --test capi_threads; then
    pass=$((pass + 1))
else
    echo "FAIL tsan: Rust thread tests"; fail=$((fail + 1))
fi

lib="$TARGET_DIR/$HOST/release/libsesscache.so"
bin="$OUT/threads"
if ! cargo_tsan build --lib -q; then
    echo "FAIL tsan: libsesscache.so build"; fail=$((fail + 1))
elif ! clang -fsanitize=thread -std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -pthread -Itests-c/lib \
    -c -o "$bin.o" tests-c/preload/threads.c ||
    ! clang -o "$bin" "$bin.o" -Wl,--whole-archive "$runtime" -Wl,--no-whole-archive -rdynamic \
        -lssl -lcrypto -lpthread -ldl -lm -lrt; then
    echo "FAIL tsan: threads.c build"; fail=$((fail + 1))
else
    for run in plain preload; do
        pre=
        [ $run = preload ] && pre=$lib
        if ! timeout 600 env LD_PRELOAD="$pre" "$bin" \
            >"$bin.$run" 2>"$bin.$run.err"; then
            echo "FAIL tsan: threads ($run): $(grep -c 'WARNING: ThreadSanitizer' "$bin.$run.err") reports"
            head -40 "$bin.$run.err"; fail=$((fail + 1))
        elif [ $run = preload ] && ! diff -u "$bin.plain" "$bin.preload" >"$bin.diff"; then
            echo "FAIL tsan: threads transcripts differ (plain vs preloaded)"; head -20 "$bin.diff"
            fail=$((fail + 1))
        else
            echo "ok   tsan: threads ($run), $(grep -c . "$bin.$run") lines, no report"; pass=$((pass + 1))
        fi
    done
fi
echo "tsan: $pass passed, $fail failed"
[ $fail -eq 0 ]
