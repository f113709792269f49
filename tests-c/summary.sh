#!/usr/bin/env bash
# The closing line of `make test`: the checks counted in each step's log under tests-c/out/logs
# (cargo's "test result" lines, and each runner's "NAME: N passed, M failed" line), added up.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
for log in tests-c/out/logs/*.log; do
    [ -e "$log" ] || continue
    if grep -q '^test result:' "$log"; then
        counts=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
    else
        counts=$(grep -E '^[a-z_-]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 | sed -E 's/^[a-z_-]+: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/')
    fi
    while read -r p f; do
        [ -n "${p:-}" ] || continue
        passed=$((passed + p))
        failed=$((failed + f))
    done <<<"$counts"
done
echo "make test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
