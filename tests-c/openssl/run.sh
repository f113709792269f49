#!/usr/bin/env bash
# OpenSSL's own TLS tests as the oracle for preload mode: test/sslapitest and test/ssl_test of an
# OpenSSL 3.0 source build (tests-c/openssl/build.sh; cached outside the clone), run with their
# recipes' arguments (test/recipes/90-test_sslapi.t, 80-test_ssl_new.t), each plain and with
# LD_PRELOAD=libsesscache.so, against two libssl builds:
#   source: the source build's libssl (upstream's link flags: -Bsymbolic, so libssl's calls to
#           its own functions never reach our exports), chosen with LD_LIBRARY_PATH;
#   system: the system's libssl (Debian's, linked without -Bsymbolic).
# A test passes when its preloaded result is its plain result. Tests that read libssl's private
# structures are listed in tests-c/openssl/private-structures.txt with the reason, and are not
# counted; tests-c/preload/session_owner.c checks what they check through the public API.
#
# usage: tests-c/openssl/run.sh [source|system ...]       default: both
# env:   PRELOAD_LIB (default target/release/libsesscache.so), OUT (default tests-c/out/openssl)
# exit:  0 when no test differs, 1 otherwise; last line `openssl-suite: N passed, M failed`.
set -u
cd "$(dirname "$0")/../.."
NAME=openssl-suite
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env SESSCACHE_CACHE # build.sh's cache directory
OUT=${OUT:-tests-c/out/openssl}
preload_lib
EXCLUDED_FILE=tests-c/openssl/private-structures.txt
# One whole-program run, and one run of a single test (after a crash).
# in_out DIR CMD...: runs CMD in DIR under an inner shell, so that a crash is reported in the log
# and as the exit status (128+signal), not by this script's shell.
in_out() { bash -c 'cd "$1" && shift && "$@"; exit $?' _ "$@"; }
PROGRAM_TIMEOUT=600
TEST_TIMEOUT=120
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) # the programs run inside it, and get paths under it
[ -f "$LIB" ] || { echo "no $LIB: run make first" >&2; exit 2; }

dir=$(tests-c/openssl/build.sh | tail -n 1)
[ -n "$dir" ] && [ -x "$dir/tree/test/sslapitest" ] || { echo "openssl-suite: build failed" >&2; exit 2; }
T=$dir/tree
excluded=$(sed -e 's/#.*//' "$EXCLUDED_FILE" | awk 'NF { print $1 }')
is_excluded() { grep -qx "$1" <<<"$excluded"; }

libssl_builds=("$@")
[ ${#libssl_builds[@]} -gt 0 ] || libssl_builds=(source system)

# The environment of one run: test/run_tests.pl's variables, the libssl build, the preload.
# OPENSSL_MODULES and OPENSSL_ENGINES (test_pipelining's dasync engine) only for the source
# build: its modules are linked to its own libcrypto.
run_env() { # build mode
    local e=(env -u LD_PRELOAD -u LD_LIBRARY_PATH
        OPENSSL_CONF="$T/apps/openssl.cnf" CTLOG_FILE="$T/test/ct/log_list.cnf"
        TEST_CERTS_DIR="$T/test/certs")
    [ "$1" = source ] && e+=(LD_LIBRARY_PATH="$T" OPENSSL_MODULES="$T/providers" OPENSSL_ENGINES="$T/engines")
    [ "$2" = preload ] && e+=(LD_PRELOAD="$LIB")
    printf '%s\n' "${e[@]}"
}

sslapitest_args=("$T/test/certs" "$T/test/recipes/90-test_sslapi_data/passwd.txt" "$OUT/sslapitest.tmp"
    default "$T/test/default.cnf" "$T/test/recipes/90-test_sslapi_data/dhparams.pem")

# sslapitest NAME RESULTS_FILE: the whole program once; every test it did not report (the
# process died first) again on its own. Writes "name ok|fail|crash" lines.
sslapitest() { # build mode results
    local build=$1 mode=$2 results=$3 log="$OUT/$1.$2.sslapitest.log" envv
    mapfile -t envv < <(run_env "$build" "$mode")
    in_out "$OUT" timeout "$PROGRAM_TIMEOUT" "${envv[@]}" "$T/test/sslapitest" "${sslapitest_args[@]}" >"$log" 2>&1
    sed -nE 's/^ok [0-9]+ - ([A-Za-z0-9_]+).*/\1 ok/p; s/^not ok [0-9]+ - ([A-Za-z0-9_]+).*/\1 fail/p' "$log" >"$results"
    local name rc
    for name in $all_sslapitests; do
        grep -q "^$name " "$results" && continue
        in_out "$OUT" timeout "$TEST_TIMEOUT" "${envv[@]}" "$T/test/sslapitest" -test "$name" "${sslapitest_args[@]}" \
            >"$log.$name" 2>&1
        rc=$?
        if grep -qE "^ok [0-9]+ - $name\$" "$log.$name"; then echo "$name ok"
        elif grep -qE "^not ok [0-9]+ - $name\$" "$log.$name"; then echo "$name fail"
        else echo "$name crash(rc=$rc)"; fi >>"$results"
    done
}

# ssl_test: every configuration, with the providers the recipe runs it with ("none" and
# "default"; no fips module here). One line per configuration and provider.
ssl_test() { # build mode results
    local build=$1 mode=$2 results=$3 log="$OUT/$1.$2.ssl_test.log" envv cnf rc
    mapfile -t envv < <(run_env "$build" "$mode")
    : >"$results"
    : >"$log"
    for cnf in "$dir"/ssl-tests/*.cnf.none "$dir"/ssl-tests/*.cnf.default; do
        local name provider
        name=$(basename "$cnf")
        provider=${name##*.}
        grep -qx "${name%.*}" <<<"$ssl_test_skipped" && continue
        in_out "$OUT" timeout "$TEST_TIMEOUT" "${envv[@]}" "$T/test/ssl_test" "$cnf" "$provider" >>"$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then echo "$name ok"; elif [ $rc -eq 1 ]; then echo "$name fail"; else echo "$name crash(rc=$rc)"; fi >>"$results"
    done
}

# Which libssl.so.3 a run loads (ldd honours LD_LIBRARY_PATH and LD_PRELOAD as the run does).
loaded_libssl() { # build mode
    local envv
    mapfile -t envv < <(run_env "$1" "$2")
    "${envv[@]}" ldd "$T/test/sslapitest" | awk '$1 == "libssl.so.3" { print $3 }'
}

# The configurations the recipe skips for a feature this build lacks (./Configure's defaults:
# no zlib, no sctp).
disabled_features=" $(perl -I"$T" -Mconfigdata -e 'print join(" ", keys %disabled)') "
ssl_test_skipped=$(
    [[ $disabled_features == *" zlib "* ]] && echo 22-compression.cnf
    [[ $disabled_features == *" sctp "* ]] && echo 29-dtls-sctp-label-bug.cnf
)
all_sslapitests=$(cd "$OUT" && env LD_LIBRARY_PATH="$T" "$T/test/sslapitest" -list "${sslapitest_args[@]}" 2>/dev/null |
    sed -nE 's/^ *[0-9]+ - ([A-Za-z0-9_]+).*/\1/p')
[ -n "$all_sslapitests" ] || { echo "openssl-suite: sslapitest -list gave no tests" >&2; exit 2; }

pass=0
fail=0
skipped=0
for build in "${libssl_builds[@]}"; do
    lib_plain=$(loaded_libssl "$build" plain)
    lib_pre=$(loaded_libssl "$build" preload)
    case $build in
    source) want="$T/libssl.so.3" ;;
    system) want=$(readlink -f "$(ldconfig -p | awk '$1 == "libssl.so.3" && /x86-64/ { print $NF; exit }')") ;;
    *) echo "unknown libssl build $build" >&2; exit 2 ;;
    esac
    for got in "$lib_plain" "$lib_pre"; do
        [ "$(readlink -f "$got")" = "$(readlink -f "$want")" ] ||
            { echo "openssl-suite: $build runs load $got, not $want" >&2; exit 2; }
    done
    if readelf -d "$want" | grep -q SYMBOLIC; then symbolic=yes; else symbolic=no; fi
    echo "== $build libssl: $want (linked -Bsymbolic: $symbolic)"
    for program in sslapitest ssl_test; do
        for mode in plain preload; do
            "$program" "$build" "$mode" "$OUT/$build.$mode.$program.results"
        done
        p="$OUT/$build.plain.$program.results"
        l="$OUT/$build.preload.$program.results"
        echo "   $program: plain $(grep -c ' ok$' "$p") of $(wc -l <"$p") pass, preloaded $(grep -c ' ok$' "$l") of $(wc -l <"$l") pass"
        while read -r name plain_result; do
            pre_result=$(awk -v n="$name" '$1 == n { print $2 }' "$l")
            if [ "$plain_result" = "$pre_result" ]; then
                pass=$((pass + 1))
            elif is_excluded "$name"; then
                skipped=$((skipped + 1))
                echo "   not counted $program $name: plain $plain_result, preloaded $pre_result (reads libssl's private structures)"
            else
                fail=$((fail + 1))
                echo "   FAIL $program $name: plain $plain_result, preloaded ${pre_result:-missing} (log $OUT/$build.preload.$program.log)"
            fi
        done <"$p"
    done
done
echo "openssl-suite: not counted (private structures): $skipped"
echo "openssl-suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
