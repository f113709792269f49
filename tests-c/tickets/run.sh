#!/usr/bin/env bash
# The fleet's ticket keys (issue 12), inside one process (tests-c/tickets/tickets.c):
# - fleet off (plain libssl, preloaded, preloaded with SESSCACHE_DISABLE=1, preloaded with the
#   fleet on but SESSCACHE_FLEET_TICKETS=0, or with SESSCACHE_FLEET_TICKET_ROTATE=1h, which does
#   not parse and keeps the tier off with one line on stderr): identical transcripts, a ticket
#   opens only at the context that issued it, or where the application put the same keys;
# - fleet on (SESSCACHE_FLEET and a key file; Redis is not there, so the ring is this
#   process's own and rotates locally): the plain transcript except that A's and B's tickets
#   open at both; everything the application chose (its keys, its evp or older callback,
#   SSL_OP_NO_TICKET) as plain; under valgrind, no error and no leak;
# - rotation every 2 s: a ticket resumes after one rotation and not after two (plain: always);
# - the preload programs whose servers have one context each (tests-c/preload: TLS 1.3 tickets,
#   their renewal, expiry, early data, threads, SNI), fleet on: the transcript of plain libssl,
#   so that within a context our keys are indistinguishable from libssl's own;
# - two s_server processes sharing one fleet (tests-c/tickets/ab.sh, a real redis-server): a
#   ticket from A resumes at B 0 of N with plain libssl, N of N with the fleet (TLS 1.3, TLS 1.2,
#   s_client and Python's ssl); Redis paused or killed: still N of N, no failed handshake; a
#   3 s rotation: a ticket from A resumes at B after one rotation, not after two.
#
# usage: tests-c/tickets/run.sh        env: PRELOAD_LIB, OUT (default tests-c/out/tickets), CC
# exit:  0 when every check passes, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
NAME=tickets
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
CC=${CC:-cc}
OUT=${OUT:-tests-c/out/tickets}
preload_lib
[ -f "$LIB" ] || { echo "no $LIB: run make first" >&2; exit 2; }
mkdir -p "$OUT"
b=$OUT/tickets

if ! $CC -std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -Itests-c/lib -o "$b" \
        tests-c/tickets/tickets.c -lssl -lcrypto 2>"$b.build"; then
    bad "build"; cat "$b.build"; finish
fi

# The fleet as configured for a process whose Redis is down: nothing listens on port 1.
key_file=$OUT/fleet.key
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key_file" && echo >>"$key_file")
fleet=(SESSCACHE_FLEET=redis://127.0.0.1:1/0 SESSCACHE_FLEET_KEY_FILE="$key_file")

# Rotation takes about 2 x 2 periods for each run: both in the background meanwhile.
timeout 120 "$b" rotation 2 >"$b.rot.plain" 2>"$b.rot.plain.err" &
rot_plain=$!
rm -f "$b.rot.report" "$b.fleet.report"
timeout 120 env "${fleet[@]}" SESSCACHE_FLEET_TICKET_ROTATE=2 SESSCACHE_REPORT="$b.rot.report" LD_PRELOAD="$LIB" "$b" rotation 2 \
    >"$b.rot.fleet" 2>"$b.rot.fleet.err" &
rot_fleet=$!
timeout 120 env "${fleet[@]}" SESSCACHE_FLEET_TICKET_ROTATE=2 SESSCACHE_FLEET_TICKET_PREVIOUS=0 LD_PRELOAD="$LIB" \
    "$b" rotation 2 >"$b.rot.noprev" 2>"$b.rot.noprev.err" &
rot_noprev=$!

run() { # output name, then the environment
    local name=$1
    shift
    timeout 300 env "$@" "$b" contexts >"$b.$name" 2>"$b.$name.err" ||
        { echo "     $name: exit $?"; head -5 "$b.$name.err"; return 1; }
}
run plain
run preload LD_PRELOAD="$LIB"
run disabled SESSCACHE_DISABLE=1 "${fleet[@]}" LD_PRELOAD="$LIB"
run fleet_no_tickets "${fleet[@]}" SESSCACHE_FLEET_TICKETS=0 LD_PRELOAD="$LIB"
run fleet_bad_rotate "${fleet[@]}" SESSCACHE_FLEET_TICKET_ROTATE=1h LD_PRELOAD="$LIB"
run fleet "${fleet[@]}" SESSCACHE_REPORT="$b.fleet.report" LD_PRELOAD="$LIB"

grep -q '^TLS 1.3 A ticket: A=1 B=0 ' "$b.plain" && grep -q '^TLS 1.2 A ticket: A=1 B=0 ' "$b.plain"
check_status "plain libssl: a ticket opens only at its own context (or one with the same keys)" $?
for name in preload disabled fleet_no_tickets fleet_bad_rotate; do
    diff -u --label plain --label "$name" "$b.plain" "$b.$name" >"$b.$name.diff"
    check_status "fleet off ($name): the same transcript as plain libssl" $?
done
# A ticket knob that does not parse keeps the whole tier off, as every fleet knob: one line.
[ "$(wc -l <"$b.fleet_bad_rotate.err")" = 1 ] &&
    grep -q '^sesscache: fleet: SESSCACHE_FLEET_TICKET_ROTATE="1h": expected a whole number .*; the fleet tier is off$' \
        "$b.fleet_bad_rotate.err"
check_status "SESSCACHE_FLEET_TICKET_ROTATE=1h: the fleet tier is off, one line on stderr naming it" $?

# With the fleet: A's and B's tickets open at both, and nothing else changes.
sed -e 's/^\(TLS 1\.[23] A ticket: A=1\) B=0 /\1 B=1 /' -e 's/^\(TLS 1\.[23] B ticket:\) A=0 B=1 /\1 A=1 B=1 /' \
    "$b.plain" >"$b.fleet.expected"
! cmp -s "$b.plain" "$b.fleet.expected" && diff -u --label expected --label fleet "$b.fleet.expected" "$b.fleet" >"$b.fleet.diff"
check_status "fleet on: tickets open across contexts; the application's keys, callbacks and SSL_OP_NO_TICKET as plain" $?
[ -s "$b.fleet.diff" ] && cat "$b.fleet.diff"

# count REPORT NAME: a count of the report's tickets line.
count() { grep -o "\"tickets\":{.*" "$1" | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }
[ "$(count "$b.fleet.report" issued)" -gt 0 ] && [ "$(count "$b.fleet.report" opened)" -gt 0 ] &&
    [ "$(count "$b.fleet.report" refused_unknown)" -gt 0 ] && [ "$(count "$b.fleet.report" refused_aged_out)" = 0 ]
check_status "fleet on: the report's tickets line counts tickets issued, opened, and refused as unknown (the application's keys)" $?

if command -v valgrind >/dev/null; then
    timeout 600 env "${fleet[@]}" LD_PRELOAD="$LIB" valgrind -q --error-exitcode=99 --suppressions=tests-c/tickets/valgrind.supp --leak-check=full \
        --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
        "$b" contexts >"$b.memcheck.out" 2>"$b.memcheck" && cmp -s "$b.fleet" "$b.memcheck.out"
    check_status "fleet on under memcheck: no error, no leak, the same transcript" $?
    [ -s "$b.memcheck" ] && head -40 "$b.memcheck"
else
    check_status "memcheck: valgrind is missing (.ci/run installs it)" 1
fi

for name in tls13 sni threads null_provider session_owner; do
    p=$OUT/preload_$name
    if ! $CC -std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -pthread -Itests-c/lib -o "$p" \
            "tests-c/preload/$name.c" -lssl -lcrypto 2>"$p.build"; then
        check_status "preload/$name: build" 1; cat "$p.build"; continue
    fi
    timeout 300 "$p" >"$p.plain" 2>"$p.plain.err" &&
        timeout 300 env "${fleet[@]}" LD_PRELOAD="$LIB" "$p" >"$p.fleet" 2>"$p.fleet.err" &&
        [ -s "$p.plain" ] && diff -u --label plain --label fleet "$p.plain" "$p.fleet" >"$p.diff"
    check_status "preload/$name, fleet on: the transcript of plain libssl ($(wc -l <"$p.plain") lines)" $?
    [ -s "$p.diff" ] && head -20 "$p.diff"
done

for mode in plain fleet rotation; do
    OUT=$OUT timeout 300 tests-c/tickets/ab.sh $mode 5 >"$OUT/ab-$mode.log" 2>&1
    rc=$?
    grep -E '^(ok|FAIL) ' "$OUT/ab-$mode.log" | sed 's/^\(ok\|FAIL\) *//' | while read -r line; do echo "     ab: $line"; done
    check_status "two processes, $mode (tests-c/tickets/ab.sh)" $rc
    [ $rc = 0 ] || tail -5 "$OUT/ab-$mode.log"
done

wait $rot_plain
rc_plain=$?
wait $rot_fleet
rc_fleet=$?
[ $rc_plain = 0 ] && [ "$(grep -c ': T0 after one: 1, T0 after two: 1, T1 after two: 1$' "$b.rot.plain")" = 2 ]
check_status "plain libssl never rotates: every ticket resumes" $?
[ $rc_fleet = 0 ] && [ "$(grep -c ': T0 after one: 1, T0 after two: 0, T1 after two: 1$' "$b.rot.fleet")" = 2 ]
check_status "fleet on, rotating every 2 s: a ticket resumes after one rotation, not after two" $?
wait $rot_noprev
[ $? = 0 ] && [ "$(grep -c ': T0 after one: 0, T0 after two: 0, T1 after two: 0$' "$b.rot.noprev")" = 2 ]
check_status "fleet on, SESSCACHE_FLEET_TICKET_PREVIOUS=0: a ticket does not resume after a rotation" $?
[ "$(count "$b.rot.report" refused_aged_out)" = 2 ] && [ "$(count "$b.rot.report" opened_previous)" = 4 ]
check_status "rotation: the report counts 2 tickets refused as aged out and 4 opened with the previous key" $?
grep '"tickets"' "$b.rot.report"
cat "$b.rot.fleet" "$b.rot.fleet.err" | grep -v ': T0 after one: 1, T0 after two: 0, T1 after two: 1$'

finish
