#!/usr/bin/env bash
# `make fuzz-smoke`: each cargo-fuzz target (fuzz/) for a bounded time, starting from its
# committed corpus; prints "fuzz: N passed, M failed" (one per target). New inputs and any
# crash land in a temporary directory, never in the committed corpus; a failing input is
# printed in hex, to be minimized (`cargo fuzz tmin`) and added to fuzz/corpus/<target>/.
#
# The toolchain is stable Rust: cargo-fuzz works with `--sanitizer none` (coverage-guided
# libFuzzer with Rust's own checks and debug assertions; AddressSanitizer needs -Z flags).
# FUZZ_SECONDS (default 25) is each target's time; nice keeps it off the other builds;
# FUZZ_TARGET_DIR (default /var/cache/sesscache/fuzz-target) holds the build.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-25}
targets=(der_roundtrip der_vs_libssl cache_ops)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked, into ~/.cargo/bin)"
    log=$(mktemp)
    if ! nice -n 10 cargo install cargo-fuzz --locked >"$log" 2>&1; then
        tail -5 "$log"
        echo "fuzz: skipped: cargo-fuzz could not be installed (above); the corpora still replay in cargo test"
        exit 0
    fi
fi

cd fuzz
# The build lives outside the clone, so a fresh clone (CI) rebuilds only what changed.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-/var/cache/sesscache/fuzz-target}
if ! nice -n 10 cargo fuzz build --sanitizer none 2>&1 | tail -3; then
    echo "fuzz: the fuzz targets do not build"
    echo "fuzz: 0 passed, ${#targets[@]} failed"
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t/new" "$work/$t/artifacts"
    # New inputs go to the first corpus directory (the temporary one).
    if nice -n 10 cargo fuzz run --sanitizer none "$t" "$work/$t/new" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$work/$t/artifacts/" >"$work/$t/log" 2>&1; then
        runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/$t/log")
        echo "fuzz: $t ok: ${runs:-?} runs in ${seconds}s, $(ls "$work/$t/new" | wc -l) new inputs (not kept)"
        passed=$((passed + 1))
    else
        echo "fuzz: $t FAILED:"
        # The check's panic message (both sides' results), else the log's end.
        if grep -q 'panicked at' "$work/$t/log"; then
            awk '/panicked at/ {p = 1} /^stack backtrace:/ {p = 0} p' "$work/$t/log" | head -40
        else
            grep -vE '^(#|INFO|WARNING|\s+NEW_FUNC)' "$work/$t/log" | tail -40
        fi
        for a in "$work/$t/artifacts"/*; do
            [ -e "$a" ] && echo "fuzz: $t failing input ($(basename "$a")): $(od -An -v -tx1 "$a" | tr -d ' \n')"
        done
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
