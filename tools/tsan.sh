#!/usr/bin/env bash
# ThreadSanitizer run of the Rust thread tests (tests/engine_threads.rs, tests/capi_threads.rs):
# both built with -Zsanitizer=thread and the standard library rebuilt with it (-Zbuild-std; a
# std TSan cannot see into would give false reports). Needs the nightly toolchain with its
# rust-src component; the build is cached in $TSAN_TARGET_DIR, so later runs only rebuild what
# changed. Any report fails the run (TSan's exit code 66).
#
# usage: tools/tsan.sh          exit: 0 clean, 2 no nightly toolchain with rust-src, else failed
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR=${TSAN_TARGET_DIR:-/var/cache/sesscache/tsan-target}
TOOLCHAIN=${TSAN_TOOLCHAIN:-nightly}
HOST=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustup run "$TOOLCHAIN" rustc --print sysroot 2>/dev/null) || { echo "tsan: no $TOOLCHAIN toolchain" >&2; exit 2; }
[ -d "$sysroot/lib/rustlib/src/rust/library" ] || { echo "tsan: $TOOLCHAIN has no rust-src (rustup component add rust-src --toolchain $TOOLCHAIN)" >&2; exit 2; }
mkdir -p "$TARGET_DIR"
export RUSTFLAGS="-Zsanitizer=thread -Cdebuginfo=1"
export CARGO_TARGET_DIR="$TARGET_DIR"
export TSAN_OPTIONS="exitcode=66 halt_on_error=0 second_deadlock_stack=1"
nice -n 10 cargo "+$TOOLCHAIN" test -Zbuild-std --target "$HOST" --release --locked \
    --no-fail-fast --test engine_threads --test capi_threads "$@"
