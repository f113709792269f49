#!/usr/bin/env bash
# The fleet tier end to end (issue 11): tests-c/fleet/server.c (libssl's builtin cache, workers
# forked after SSL_CTX_new) run plain, preloaded with the fleet off, and preloaded with
# SESSCACHE_FLEET pointing at a real redis-server started here on a free 127.0.0.1 port.
# Clients: openssl s_client -sess_out/-sess_in (one "Reused" line per resumption, checked
# against the server's own answer) and tests-c/fleet/client.py (Python's ssl, many clients).
#
#   share:   a session made at A resumes at B (TLS 1.2 ids, TLS 1.3 stateful), and not at C,
#            whose sid_ctx differs; plain and with the fleet off, B does not resume (libssl's
#            per-process result), so the check can fail.
#   remove:  a session A removes (SSL_CTX_remove_session) resumes nowhere: not at A, not at
#            B (which resumed it before), not at a server started afterwards.
#   expire:  with a 2 s timeout, a session resumes at B at once and nowhere after 3.5 s.
#   workers: one server with 4 workers, returning clients: the resumption rate plain, with
#            the fleet off and with it on (printed); on >= 95%, off < 60%.
#   faults:  Redis absent at start, killed (SIGKILL) during a run, restarted, stopped
#            (SIGSTOP), paused (CLIENT PAUSE), 50 ms slow (delay_proxy.py): no handshake fails, none takes seconds (a
#            hang guard, not a measurement), and A->B resumption comes back after a restart.
#   blobs:   garbage, tampered (tag, header), truncated, oversized and foreign-key values
#            planted under real session names: B does not resume them, stays up, and its
#            report counts them rejected; an untouched one resumes (the control).
#   secrets: every value in Redis (redis-cli --scan + GET) and the pub/sub stream (redis-cli
#            SUBSCRIBE) hold no master key and no session id, raw or hex; the same search
#            finds them in the sessions' own DER (the control).
#   valgrind: a preloaded fleet server under memcheck, sessions both ways: no error, no definite leak.
#   cluster: A->B against a three-primary Redis Cluster on loopback ports.
#   netns:   Redis, A and B in three network namespaces joined by veth pairs (netem 1 ms
#            delay where the kernel has it): A->B resumes across them. Skipped, with a line
#            saying why, without root or netns support.
#
# usage: tests-c/fleet/run.sh [share] [remove] [expire] [workers] [faults] [blobs] [secrets] [valgrind] [cluster] [netns]
# env:   PRELOAD_LIB, SESSCACHE_BIN, OUT, REDIS_SERVER, CLIENTS (workers test, default 200),
#        FLEET_WARM=0 (no warm-up handshake before the A->B checks: cold processes)
# exit:  0 when every check passed.
set -u
cd "$(dirname "$0")/../.."
NAME=fleet
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
preload_lib
BIN=${SESSCACHE_BIN:-$PWD/target/release/sesscache}
clean_sesscache_env
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
CLIENTS=${CLIENTS:-200}
OUT=${OUT:-tests-c/out}/fleet
HERE=tests-c/fleet
mkdir -p "$OUT"

[ -f "$LIB" ] || { bad "no $LIB: run make first"; finish; }
[ -x "$BIN" ] || { bad "no $BIN: run make first"; finish; }
[ -x "$REDIS_SERVER" ] && command -v redis-cli >/dev/null ||
    { bad "no redis-server/redis-cli (.ci/run installs redis-server and redis-tools)"; finish; }
# The preloaded runs use a plain build; the libssl runs an ASan + UBSan build of the same
# source, so that the server itself is checked (server_stop fails on any sanitizer report).
SERVER=$OUT/server
SERVER_ASAN=$OUT/server-asan
cc -std=c11 -O2 -g -Wall -Wextra -Werror -o "$SERVER" $HERE/server.c -lssl -lcrypto &&
    cc -std=c11 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -Wall -Wextra \
        -Werror -o "$SERVER_ASAN" $HERE/server.c -lssl -lcrypto || { bad "cannot build $HERE/server.c"; finish; }

TMP=$(mktemp -d /tmp/sesscache-fleet.XXXXXX)
NETNS=()
VETHS=()
cleanup() {
    cleanup_tracked
    local ns v
    for v in "${VETHS[@]}"; do ip link del "$v" 2>/dev/null; done
    for ns in "${NETNS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

self_signed_cert "$TMP" fleet.test || { bad "openssl req"; finish; }
KEY=$TMP/fleet.key
OTHER_KEY=$TMP/other.key
"$BIN" keygen "$KEY" >/dev/null 2>&1 && "$BIN" keygen "$OTHER_KEY" >/dev/null 2>&1 || { bad "sesscache keygen failed"; finish; }

# ---- Redis ----
declare -A REDIS_PID
# redis_start PORT [ARGS...]: a redis-server on 127.0.0.1:PORT, nothing on disk, until it answers.
redis_start() {
    local port=$1
    shift
    mkdir -p "$TMP/redis-$port"
    "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis-$port" \
        --enable-debug-command local "$@" >"$TMP/redis-$port/log" 2>&1 &
    REDIS_PID[$port]=$!
    track $!
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    bad "redis-server on port $port did not start"; tail -5 "$TMP/redis-$port/log"
    return 1
}
# redis_kill PORT: SIGKILL, and wait until it is gone.
redis_kill() {
    local pid=${REDIS_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    REDIS_PID[$1]=
}
rcli() { local port=$1; shift; timeout 10 redis-cli -p "$port" "$@"; }
rtool() { timeout 20 python3 $HERE/redis_tool.py "$@"; }

# ---- servers ----
declare -A SERVER_PID
FLEET_URL=
FLEET_ENV=() # further SESSCACHE_FLEET_* settings for the next fleet server
# server_start NAME MODE PORT [server.c options...]; MODE: plain | off (preloaded, fleet off) | fleet
server_start() {
    local name=$1 mode=$2 port=$3
    shift 3
    local run=(env -u LD_PRELOAD)
    local prog=$SERVER
    case $mode in
    plain) prog=$SERVER_ASAN ;;
    off) run+=(LD_PRELOAD="$LIB" SESSCACHE_REPORT="$TMP/$name.report") ;;
    fleet) run+=(LD_PRELOAD="$LIB" SESSCACHE_REPORT="$TMP/$name.report" SESSCACHE_FLEET="$FLEET_URL"
        SESSCACHE_FLEET_KEY_FILE="$KEY" "${FLEET_ENV[@]}") ;;
    esac
    rm -f "$TMP/$name.report"
    "${NS_EXEC[@]}" "${run[@]}" timeout 300 "${VG[@]}" "$prog" -p "$port" -C "$TMP/fleet.test.crt" -K "$TMP/fleet.test.key" -l 280 "$@" \
        >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SERVER_PID[$name]=$!
    track $!
    local up=0
    for _ in $(seq $([ ${#VG[@]} = 0 ] && echo 100 || echo 600)); do
        grep -q '^ready$' "$TMP/$name.out" 2>/dev/null && { up=1; break; }
        alive "${SERVER_PID[$name]}" || break
        sleep 0.1
    done
    [ $up = 1 ] || { bad "server $name ($mode, port $port) did not start"; tail -5 "$TMP/$name.err"; return 1; }
    [ $mode = fleet ] && [ "$WARM" = 1 ] && warm "$name" "$port" "$@"
    return 0
}
# The fleet starts in a process at its first lookup or publish (threads, then connections):
# warm NAME PORT [server options]: one full handshake (a publish) at a new fleet server, then
# until Redis counts one more subscriber on the channel (at most 5 s), so that the server has
# heard every session published after this. A fresh process's very first resumption is not
# what these tests are about (its lookup also connects, within the 1 ms budget or not).
WARM=${FLEET_WARM:-1}
SUB_CHANNEL=sesscache:sessions
subscribers() { # over every node of the current Redis (a cluster's too)
    local p n=0 c
    for p in "${FLEET_PORTS[@]}"; do
        c=$("${FLEET_RCLI[@]}" timeout 5 redis-cli -p "$p" PUBSUB NUMSUB "$SUB_CHANNEL" 2>/dev/null | sed -n 2p)
        n=$((n + ${c:-0}))
    done
    echo $n
}
warm() {
    local name=$1 port=$2 v=12
    shift 2
    [[ " $* " == *" -V 13 "* ]] && v=13
    local before
    before=$(subscribers)
    [ "$(sc "$port" $v HELLO)" = New ] || { bad "server $name: the warm-up handshake failed"; return 1; }
    subscribers_reach $((before + 1)) 50 && return 0
    bad "server $name: its fleet did not subscribe to $SUB_CHANNEL within 5 s"
    return 1
}
# subscribers_reach N TENTHS: true once Redis counts N subscribers, polled for TENTHS x 0.1 s.
subscribers_reach() {
    for _ in $(seq "$2"); do
        [ "$(subscribers)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
FLEET_PORTS=()
FLEET_RCLI=()
NS_EXEC=()
VG=() # a wrapper for the next server (valgrind)
# server_stop NAME: SIGTERM, wait; its workers print their counts and write the report.
server_stop() {
    local pid=${SERVER_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait_gone "$pid" || bad "server $1 did not stop on SIGTERM"
    wait "$pid" 2>/dev/null
    SERVER_PID[$1]=
    cp "$TMP/$1.err" "$OUT/$1.err" 2>/dev/null
    if grep -q 'Sanitizer\|runtime error' "$TMP/$1.err"; then bad "server $1: a sanitizer report"; grep -m3 'Sanitizer\|runtime error' "$TMP/$1.err"; fi
    if grep -q 'ended early' "$TMP/$1.err"; then bad "server $1: a worker died"; grep -m3 'ended early' "$TMP/$1.err"; fi
    [ -f "$TMP/$1.report" ] && cp "$TMP/$1.report" "$OUT/$1.report"
}
# server_failed NAME: handshakes its workers counted as failed (after server_stop).
server_failed() {
    sed -n 's/^worker [0-9]*: accepted=[0-9]* failed=\([0-9]*\).*/\1/p' "$TMP/$1.err" | awk '{ n += $1 } END { print n + 0 }'
}
# report NAME KEY: KEY's total in NAME's SESSCACHE_REPORT lines (the fleet's counters may be
# per process, repeated on each context's line, or nested under "fleet": per process the
# largest value is taken, then the processes added up); "absent" when no line has it.
report() {
    python3 - "$TMP/$1.report" "$2" <<'EOF'
import json, sys
path, key = sys.argv[1], sys.argv[2]
per_pid, found = {}, False
try:
    lines = [json.loads(l) for l in open(path) if l.strip()]
except (OSError, ValueError):
    lines = []
for l in lines:
    for d in (l, l.get("fleet") if isinstance(l.get("fleet"), dict) else {}):
        for k in (key, "fleet_" + key):
            if isinstance(d.get(k), int):
                found = True
                per_pid[l.get("pid")] = max(per_pid.get(l.get("pid"), 0), d[k])
print(sum(per_pid.values()) if found else "absent")
EOF
}

# ---- clients ----
# sc PORT VERSION LINE [s_client options...]: one connection, sends LINE; prints New, Reused or
# Failed (or Disagree when the server's answer differs from s_client's "New"/"Reused" line).
sc() {
    local port=$1 v=$2 line=$3
    shift 3
    printf '%s\n' "$line" | "${NS_EXEC[@]}" timeout 10 openssl s_client -connect "127.0.0.1:$port" "-tls1_${v#1}" -ign_eof "$@" 2>&1 |
        awk '/^(New|Reused), / { kind = $1; sub(",", "", kind) }
            /^pid=[0-9]+ reused=[01] / { srv = $2; removed = $4 }
            END {
                if (kind == "" || srv == "") { print "Failed"; exit }
                if ((kind == "Reused") != (srv == "reused=1")) { print "Disagree"; exit }
                print kind (removed == "removed=1" ? "+removed" : "")
            }'
}
# expect WHAT GOT WANT
expect() {
    if [ "$2" = "$3" ]; then ok "$1: $2"; else bad "$1: $2, expected $3"; fi
}
# py_clients ARGS...: client.py's JSON line (bounded).
py_clients() { "${NS_EXEC[@]}" timeout 300 python3 $HERE/client.py "$@"; }
jget() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2" 2>/dev/null || echo "?"; }
# jsum JSON KEY...: the keys' sum, "?" when the line does not parse (never shell arithmetic on
# a value that may not be a number).
jsum() { python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(sum(d[k] for k in sys.argv[2:]))' "$@" 2>/dev/null || echo "?"; }
# want_ms WHAT JSON: a hang guard: the slowest handshake took less than 3 s.
hang_guard() {
    local max
    max=$(python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(max(d["new_ms"][2], d["back_ms"][2]))' "$2" 2>/dev/null)
    if python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 3000)' "${max:-99999}" 2>/dev/null; then
        ok "$1: no handshake hung (slowest ${max} ms)"
    else
        bad "$1: a handshake took ${max:-?} ms"
    fi
}
# fleet_mode: a label and the modes a test runs in.
modes_label() { case $1 in plain) echo "libssl" ;; off) echo "preloaded, fleet off" ;; fleet) echo "fleet" ;; esac; }

new_redis() { # a fresh Redis for one test: sets RPORT and FLEET_URL
    RPORT=$(free_port)
    redis_start "$RPORT" || return 1
    FLEET_URL=redis://127.0.0.1:$RPORT/0
    FLEET_PORTS=("$RPORT")
}

# ---- share ----
test_share() {
    new_redis || return
    local v mode
    for v in 12 13; do
        for mode in plain off fleet; do
            local a b c what
            a=$(free_port) b=$(free_port) c=$(free_port)
            what="share TLS1.${v#1} $(modes_label $mode)"
            server_start A "$mode" "$a" -V $v && server_start B "$mode" "$b" -V $v &&
                server_start C "$mode" "$c" -V $v -s other-context || { cleanup_servers A B C; continue; }
            local s=$TMP/share-$v-$mode.pem
            expect "$what: full handshake at A" "$(sc "$a" $v HELLO -sess_out "$s")" New
            expect "$what: resumed at A (local)" "$(sc "$a" $v HELLO -sess_in "$s")" Reused
            expect "$what: at C (other sid_ctx)" "$(sc "$c" $v HELLO -sess_in "$s")" New
            local want=New
            [ $mode = fleet ] && want=Reused
            expect "$what: made at A, at B" "$(sc "$b" $v HELLO -sess_in "$s")" $want
            expect "$what: made at A, at B again" "$(sc "$b" $v HELLO -sess_in "$s")" $want
            cleanup_servers A B C
            if [ $mode = fleet ]; then
                grep -h '^sesscache' "$OUT/A.err" "$OUT/B.err" "$OUT/C.err" 2>/dev/null | head -3 | sed 's/^/     library: /'
                # B's resumptions were hits of its own context (libssl's counter), and C's a miss.
                local hits
                hits=$(report B hits)
                expect "$what: B's report counts the 2 fleet resumptions as hits" "$hits" 2
                expect "$what: C's report: no hit" "$(report C hits)" 0
            fi
        done
    done
    redis_kill "$RPORT"
}
cleanup_servers() { local n; for n in "$@"; do server_stop "$n"; done; }

# ---- remove ----
# In TLS 1.2 the removed session is the one the client offered (S); in TLS 1.3 a resumption
# makes a new session, whose ticket the server has just sent, so SSL_get_session is that one
# (R, taken with -sess_out), and libssl removes R, not S.
test_remove() {
    new_redis || return
    local v mode
    for v in 12 13; do
        for mode in plain off fleet; do
            local a b c what s=$TMP/remove-$v-$mode.pem r=$TMP/remove-$v-$mode-r.pem q=$TMP/remove-$v-$mode-q.pem gone
            a=$(free_port) b=$(free_port) c=$(free_port)
            what="remove TLS1.${v#1} $(modes_label $mode)"
            server_start A $mode "$a" -V $v && server_start B $mode "$b" -V $v || { cleanup_servers A B; continue; }
            expect "$what: full handshake at A" "$(sc "$a" $v HELLO -sess_out "$s")" New
            expect "$what: another full handshake at A (never removed)" "$(sc "$a" $v HELLO -sess_out "$q")" New
            local want=New
            [ $mode = fleet ] && want=Reused
            expect "$what: at B before the removal" "$(sc "$b" $v HELLO -sess_in "$s")" $want
            if [ $v = 12 ]; then
                expect "$what: A resumes it and removes it" "$(sc "$a" $v REMOVE -sess_in "$s")" Reused+removed
                gone=$s
            else
                expect "$what: A resumes it and removes the session it issues" \
                    "$(sc "$a" $v REMOVE -sess_in "$s" -sess_out "$r")" Reused+removed
                gone=$r
            fi
            expect "$what: at A after the removal" "$(sc "$a" $v HELLO -sess_in "$gone")" New
            # The removal reaches B through Redis: give it a bounded time, then it must hold.
            local got
            for _ in $(seq 30); do
                got=$(sc "$b" $v HELLO -sess_in "$gone")
                [ "$got" = Reused ] || break
                sleep 0.1
            done
            expect "$what: at B after the removal" "$got" New
            # C starts after the removal: it can only ask Redis. A generous lookup budget, so
            # that "not resumed" means "not in Redis", not "Redis was slow" (the control: the
            # session never removed resumes there).
            FLEET_ENV=(SESSCACHE_FLEET_BUDGET_US=500000)
            server_start C $mode "$c" -V $v || { FLEET_ENV=(); cleanup_servers A B; continue; }
            FLEET_ENV=()
            expect "$what: at C, started after the removal" "$(sc "$c" $v HELLO -sess_in "$gone")" New
            expect "$what: the session never removed, at C (control)" "$(sc "$c" $v HELLO -sess_in "$q")" $want
            cleanup_servers A B C
        done
    done
    redis_kill "$RPORT"
}

# ---- expire ----
test_expire() {
    new_redis || return
    local v mode
    for v in 12 13; do
        for mode in plain off fleet; do
            local a b what s=$TMP/expire-$v-$mode.pem t=$TMP/expire-$v-$mode-t.pem
            a=$(free_port) b=$(free_port)
            what="expire TLS1.${v#1} $(modes_label $mode)"
            server_start A $mode "$a" -V $v -t 2 && server_start B $mode "$b" -V $v -t 2 || { cleanup_servers A B; continue; }
            local want=New
            [ $mode = fleet ] && want=Reused
            expect "$what: full handshake at A" "$(sc "$a" $v HELLO -sess_out "$s")" New
            expect "$what: second full handshake at A" "$(sc "$a" $v HELLO -sess_out "$t")" New
            expect "$what: at B within the 2 s timeout" "$(sc "$b" $v HELLO -sess_in "$s")" $want
            sleep 3.5 # past the sessions' 2 s lifetime
            expect "$what: at B after it expired" "$(sc "$b" $v HELLO -sess_in "$s")" New
            expect "$what: at A after it expired" "$(sc "$a" $v HELLO -sess_in "$t")" New
            cleanup_servers A B
        done
    done
    redis_kill "$RPORT"
}

# ---- workers ----
test_workers() {
    new_redis || return
    local v mode
    for v in 12 13; do
        local rates=""
        for mode in plain off fleet; do
            local p what got
            p=$(free_port)
            what="workers TLS1.${v#1} $(modes_label $mode)"
            server_start W $mode "$p" -V $v -w 4 || continue
            got=$(py_clients --new "$p" --back "$p" --version $v --clients "$CLIENTS" 2>"$TMP/client.err")
            server_stop W
            echo "     $what: $got" | tee -a "$OUT/workers.txt"
            if [ $mode = fleet ]; then
                local k counts=""
                for k in published received mirror_hits remote_lookups remote_hits publish_dropped rejected; do
                    counts="$counts $k=$(report W $k)"
                done
                echo "     $what: the workers' fleet counters:$counts" | tee -a "$OUT/workers.txt"
            fi
            local rate
            rate=$(jget "$got" rate)
            expect "$what: failed handshakes (clients)" "$(jsum "$got" new_failed failed)" 0
            expect "$what: failed handshakes (server)" "$(server_failed W)" 0
            [ "$(jget "$got" back_pids)" = 4 ] && ok "$what: the returning clients reached all 4 workers" ||
                bad "$what: the returning clients reached $(jget "$got" back_pids) workers"
            rates="$rates $mode=$rate"
            if [ $mode = fleet ]; then
                python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= 0.95)' "$rate" 2>/dev/null &&
                    ok "$what: returning clients resumed at rate $rate (>= 0.95)" ||
                    bad "$what: returning clients resumed at rate $rate (< 0.95)"
            else
                python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 0.60)' "$rate" 2>/dev/null &&
                    ok "$what: returning clients resumed at rate $rate (< 0.60: one worker's cache)" ||
                    bad "$what: returning clients resumed at rate $rate (>= 0.60 without the fleet?)"
            fi
        done
        echo "     workers TLS1.${v#1}, $CLIENTS returning clients, 4 workers: resumption rate$rates" | tee -a "$OUT/workers.txt"
    done
    redis_kill "$RPORT"
}

# ---- faults ----
# recovers WHAT A B: within 20 s, sessions made at A resume at B again (5 of 5).
recovers() {
    local got
    for _ in $(seq 20); do
        got=$(py_clients --new "$2" --back "$3" --clients 5 2>>"$TMP/client.err")
        [ "$(jget "$got" resumed)" = 5 ] && { ok "$1: A->B resumption recovered"; return; }
        sleep 1
    done
    bad "$1: A->B resumption did not recover within 20 s: $got"
}
# resubscribed WHAT N: within 10 s, Redis counts N subscribers on the sessions channel.
resubscribed() {
    if subscribers_reach "$2" 100; then
        ok "$1: the servers subscribed again ($2)"
    else
        bad "$1: $(subscribers) of $2 servers subscribed again within 10 s"
    fi
}
# no_failures WHAT JSON: every handshake of a client.py run completed.
no_failures() {
    expect "$1: failed handshakes" "$(jsum "$2" new_failed failed)" 0
    hang_guard "$1" "$2"
}
test_faults() {
    RPORT=$(free_port)
    FLEET_URL=redis://127.0.0.1:$RPORT/0
    FLEET_PORTS=("$RPORT")
    # No warm-up here: these servers start without Redis, and recovery is what is checked.
    WARM=0
    local a b got
    a=$(free_port) b=$(free_port)
    # Absent at start: nothing listens on RPORT yet.
    server_start A fleet "$a" && server_start B fleet "$b" || { cleanup_servers A B; WARM=1; return; }
    got=$(py_clients --new "$a" --back "$b" --clients 20 2>>"$TMP/client.err")
    echo "     faults: Redis absent, A->B: $got"
    no_failures "faults: Redis absent at start, A->B" "$got"
    got=$(py_clients --new "$a" --back "$a" --clients 20 2>>"$TMP/client.err")
    expect "faults: Redis absent, local resumptions at A" "$(jget "$got" resumed)" 20
    redis_start "$RPORT" || { cleanup_servers A B; return; }
    recovers "faults: Redis started late" "$a" "$b"
    # B hears A's sessions only through its subscription, which reconnects on its own backoff
    # (up to the retry interval): the recovery above may have come from lookups alone.
    resubscribed "faults: Redis started late" 2 # A and B

    # Killed during a run: 200 clients A->B in the background, SIGKILL once 50 of their
    # sessions are in Redis. B heard those (less the few still on their way when Redis died):
    # they stay resumable from its memory.
    local keys0
    keys0=$(rcli "$RPORT" DBSIZE)
    py_clients --new "$a" --back "$b" --clients 200 >"$TMP/killed.json" 2>>"$TMP/client.err" &
    local clients=$!
    for _ in $(seq 200); do
        [ "$(rcli "$RPORT" DBSIZE 2>/dev/null || echo 0)" -ge $((keys0 + 50)) ] 2>/dev/null && break
        sleep 0.05
    done
    redis_kill "$RPORT"
    wait $clients
    got=$(cat "$TMP/killed.json")
    echo "     faults: Redis killed mid-run, A->B: $got"
    no_failures "faults: Redis killed mid-run" "$got"
    local heard
    heard=$(jget "$got" resumed)
    [ "$heard" -ge 40 ] 2>/dev/null && [ "$heard" -lt 200 ] &&
        ok "faults: Redis killed mid-run: the sessions B heard before still resume ($heard of 200)" ||
        bad "faults: Redis killed mid-run: $heard of 200 resumed at B (40 to 199 expected)"
    got=$(py_clients --new "$a" --back "$b" --clients 20 2>>"$TMP/client.err")
    no_failures "faults: Redis dead, A->B" "$got"
    redis_start "$RPORT" || { cleanup_servers A B; return; }
    recovers "faults: Redis restarted" "$a" "$b"

    # Stopped (SIGSTOP): connections open but nothing answers.
    kill -STOP "${REDIS_PID[$RPORT]}"
    got=$(py_clients --new "$a" --back "$b" --clients 20 2>>"$TMP/client.err")
    echo "     faults: Redis stopped (SIGSTOP), A->B: $got"
    no_failures "faults: Redis stopped (SIGSTOP)" "$got"
    kill -CONT "${REDIS_PID[$RPORT]}"
    recovers "faults: Redis continued (SIGCONT)" "$a" "$b"

    # Paused: CLIENT PAUSE holds every client's commands for 3 s.
    rcli "$RPORT" CLIENT PAUSE 3000 ALL >/dev/null
    got=$(py_clients --new "$a" --back "$b" --clients 20 2>>"$TMP/client.err")
    echo "     faults: Redis paused (CLIENT PAUSE 3000), A->B: $got"
    no_failures "faults: Redis paused (CLIENT PAUSE)" "$got"
    recovers "faults: Redis unpaused" "$a" "$b"

    cleanup_servers A B
    expect "faults: handshakes the servers counted as failed" "$(( $(server_failed A) + $(server_failed B) ))" 0
    local k
    for k in remote_timeouts remote_errors breaker_trips; do
        echo "     faults: B's report: $k $(report B $k)"
    done
    [ "$(report B breaker_trips)" != absent ] && [ "$(report B breaker_trips)" -ge 1 ] 2>/dev/null &&
        ok "faults: B's breaker opened ($(report B breaker_trips) trips)" ||
        bad "faults: B's report counts no breaker trip: $(report B breaker_trips)"

    # Slow: every byte to and from Redis 50 ms late (far over the 1 ms budget).
    local slow
    slow=$(free_port)
    timeout 120 python3 $HERE/delay_proxy.py "$slow" "$RPORT" 50 110 >"$TMP/slow.out" 2>&1 &
    track $!
    for _ in $(seq 50); do grep -q ready "$TMP/slow.out" 2>/dev/null && break; sleep 0.1; done
    FLEET_URL=redis://127.0.0.1:$slow/0
    server_start A fleet "$a" && server_start B fleet "$b" || { cleanup_servers A B; return; }
    got=$(py_clients --new "$a" --back "$b" --clients 20 2>>"$TMP/client.err")
    echo "     faults: Redis 50 ms slow, A->B: $got"
    no_failures "faults: Redis answering 50 ms late" "$got"
    cleanup_servers A B
    expect "faults: handshakes the servers counted as failed (slow Redis)" "$(( $(server_failed A) + $(server_failed B) ))" 0
    echo "     faults: B's report (slow Redis): remote_timeouts $(report B remote_timeouts), breaker_trips $(report B breaker_trips)"
    WARM=1
    redis_kill "$RPORT"
}

# ---- blobs ----
# new_name PORT BEFORE_FILE: the one Redis name (prefix sesscache:) that is not in BEFORE_FILE,
# within 5 s; the list of names is then updated.
new_name() {
    local port=$1 before=$2 pattern=${3:-sesscache:*} now name
    for _ in $(seq 50); do
        now=$(rtool "$port" keys "$pattern" | sort)
        name=$(comm -13 "$before" <(echo "$now") | grep -v '^$')
        if [ "$(echo "$name" | grep -c .)" = 1 ]; then
            echo "$now" >"$before"
            echo "$name"
            return 0
        fi
        sleep 0.1
    done
    return 1
}
test_blobs() {
    new_redis || return
    local a b x
    a=$(free_port) b=$(free_port) x=$(free_port)
    server_start A fleet "$a" || return
    local names=$TMP/names kinds="garbage tampered header truncated oversized foreign control" k
    rtool "$RPORT" keys 'sesscache:*' | sort >"$names" # the warm-up's session
    declare -A NAME_OF
    for k in $kinds; do
        expect "blobs: full handshake at A ($k)" "$(sc "$a" 12 HELLO -sess_out "$TMP/blob-$k.pem")" New
        NAME_OF[$k]=$(new_name "$RPORT" "$names") || { bad "blobs: no new name in Redis for the $k session"; cleanup_servers A; return; }
    done
    # A blob sealed under another key (another fleet, its own prefix) for the foreign one.
    local saved=("${FLEET_ENV[@]}") savedkey=$KEY
    FLEET_ENV=(SESSCACHE_FLEET_PREFIX=foreign:)
    KEY=$OTHER_KEY
    SUB_CHANNEL=foreign:sessions
    server_start X fleet "$x"
    FLEET_ENV=("${saved[@]}")
    KEY=$savedkey
    SUB_CHANNEL=sesscache:sessions
    rtool "$RPORT" keys 'foreign:*' | sort >"$TMP/foreign-names"
    expect "blobs: full handshake at X (another key)" "$(sc "$x" 12 HELLO -sess_out "$TMP/blob-x.pem")" New
    local xname
    xname=$(new_name "$RPORT" "$TMP/foreign-names" 'foreign:*') && rtool "$RPORT" get "$xname" "$TMP/foreign.blob" ||
        bad "blobs: no blob from X in Redis"
    cleanup_servers X
    for k in garbage tampered header truncated oversized; do
        rtool "$RPORT" plant "${NAME_OF[$k]}" "$k" || bad "blobs: cannot plant $k"
    done
    rtool "$RPORT" plant "${NAME_OF[foreign]}" copy "$TMP/foreign.blob" || bad "blobs: cannot plant the foreign blob"
    # B starts now: it has heard none of these sessions, so it reads them from Redis, with a
    # generous budget so that each lookup gets its answer (the control shows it does).
    FLEET_ENV=(SESSCACHE_FLEET_BUDGET_US=500000)
    server_start B fleet "$b" || { FLEET_ENV=(); cleanup_servers A; return; }
    FLEET_ENV=()
    for k in garbage tampered header truncated oversized foreign; do
        expect "blobs: the $k blob is not resumed at B" "$(sc "$b" 12 HELLO -sess_in "$TMP/blob-$k.pem")" New
    done
    expect "blobs: the untouched blob resumes at B (control)" "$(sc "$b" 12 HELLO -sess_in "$TMP/blob-control.pem")" Reused
    alive "${SERVER_PID[B]}" && [ "$(sc "$b" 12 HELLO)" = New ] && ok "blobs: B is up and serving" || bad "blobs: B is not serving"
    cleanup_servers A B
    local rejected
    rejected=$(report B rejected)
    [ "$rejected" != absent ] && [ "$rejected" -ge 6 ] 2>/dev/null &&
        ok "blobs: B's report counts the 6 planted blobs rejected ($rejected)" ||
        bad "blobs: B's report counts $rejected rejected, 6 planted"
    expect "blobs: failed handshakes at B" "$(server_failed B)" 0
    redis_kill "$RPORT"
}

# ---- secrets ----
test_secrets() {
    new_redis || return
    local a b v
    timeout 30 redis-cli -p "$RPORT" SUBSCRIBE sesscache:sessions >"$TMP/pubsub.raw" 2>&1 &
    local sub=$!
    track $sub
    # The capture's subscription is in place before the first session.
    subscribers_reach 1 100 || bad "secrets: the capture did not subscribe to $SUB_CHANNEL within 10 s"
    local pems=()
    for v in 12 13; do
        a=$(free_port) b=$(free_port)
        server_start A fleet "$a" -V $v && server_start B fleet "$b" -V $v || { cleanup_servers A B; continue; }
        local i
        for i in 1 2 3; do
            expect "secrets TLS1.${v#1}: full handshake at A ($i)" "$(sc "$a" $v HELLO -sess_out "$TMP/secret-$v-$i.pem")" New
            expect "secrets TLS1.${v#1}: at B ($i)" "$(sc "$b" $v HELLO -sess_in "$TMP/secret-$v-$i.pem")" Reused
            pems+=("$TMP/secret-$v-$i.pem")
        done
        # The removal message too.
        expect "secrets TLS1.${v#1}: a removal at A" "$(sc "$a" $v REMOVE -sess_in "$TMP/secret-$v-1.pem")" Reused+removed
        cleanup_servers A B
    done
    # The servers are gone: the capture has every message once it holds six at least (the
    # check below says if not) and no more arrive for 0.2 s.
    local heard last=-1
    for _ in $(seq 50); do
        heard=$(grep -c '^message' "$TMP/pubsub.raw" 2>/dev/null)
        [ "${heard:-0}" -ge 6 ] && [ "$heard" = "$last" ] && break
        last=$heard
        sleep 0.2
    done
    kill $sub 2>/dev/null
    wait $sub 2>/dev/null
    : >"$TMP/values.raw"
    local n=0 name
    while IFS= read -r name; do
        timeout 10 redis-cli -p "$RPORT" --raw GET "$name" >>"$TMP/values.raw"
        n=$((n + 1))
    done < <(timeout 10 redis-cli -p "$RPORT" --scan)
    timeout 10 redis-cli -p "$RPORT" --scan >"$TMP/names.raw"
    cp "$TMP/values.raw" "$TMP/pubsub.raw" "$TMP/names.raw" "$OUT/" 2>/dev/null
    local p
    for p in "${pems[@]}"; do openssl sess_id -in "$p" -outform DER -out "$p.der" 2>/dev/null; done
    local check
    check=$(python3 - "$TMP/values.raw" "$TMP/pubsub.raw" "$TMP/names.raw" "$n" "${pems[@]}" <<'EOF'
import re, subprocess, sys
values, pubsub, names = (open(p, "rb").read() for p in sys.argv[1:4])
count, pems = int(sys.argv[4]), sys.argv[5:]
def say(name, good, detail=""):
    print(("ok   " if good else "FAIL ") + name + ("" if good or not detail else f": {detail}"))
def field(text, label):
    m = re.search(label + r":\s*([0-9A-Fa-f]+)", text)
    return bytes.fromhex(m.group(1)) if m else None
def forms(secret):
    return [secret, secret.hex().encode(), secret.hex().upper().encode()]
def found(secret, blob):
    return any(f in blob for f in forms(secret))
say(f"secrets: Redis holds {count} values (4 sessions and tombstones expected at least)", count >= 4, count)
say("secrets: the pub/sub capture holds messages", pubsub.count(b"message") >= 6, pubsub[:200])
leaks, controls = [], 0
for p in pems:
    text = subprocess.run(["openssl", "sess_id", "-in", p, "-noout", "-text"], capture_output=True, text=True).stdout
    # TLS 1.3: the resumption PSK is the secret a session carries.
    master = field(text, "Master-Key") or field(text, "Resumption PSK")
    sid = field(text, "Session-ID")
    der = open(p + ".der", "rb").read()
    if master is None or len(master) < 32:
        say(f"secrets: a master key in {p}", False, text[:300])
        continue
    # The control: the same search finds both in the session's own DER.
    controls += found(master, der) and (sid is None or found(sid, der))
    for what, secret in (("master key", master), ("session id", sid)):
        if secret is None:
            continue
        for where, blob in (("a value", values), ("the pub/sub stream", pubsub), ("a key name", names)):
            if found(secret, blob):
                leaks.append(f"{what} of {p} in {where}")
say(f"secrets: the search finds the master key and id in each session's DER (control, {controls}/{len(pems)})",
    controls == len(pems) and len(pems) == 6)
say("secrets: no master key or session id in Redis values, names or the pub/sub stream, raw or hex", not leaks, leaks)
EOF
)
    relay "$check"
    redis_kill "$RPORT"
}

# ---- cluster ----
test_cluster() {
    local ports=() urls=() p
    for _ in 1 2 3; do
        # A cluster node also listens on its port + 10000.
        for _ in $(seq 20); do
            p=$(free_port)
            [ "$p" -lt 55000 ] && break
        done
        redis_start "$p" --cluster-enabled yes --cluster-config-file "$TMP/redis-$p/nodes.conf" --cluster-node-timeout 2000 ||
            return
        ports+=("$p")
        urls+=("redis://127.0.0.1:$p")
    done
    if ! yes yes | timeout 60 redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes \
        >"$TMP/cluster-create.log" 2>&1; then
        bad "cluster: redis-cli --cluster create failed"; tail -5 "$TMP/cluster-create.log"; return
    fi
    local state
    for _ in $(seq 100); do
        state=$(rcli "${ports[0]}" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_state://p')
        [ "$state" = ok ] && break
        sleep 0.1
    done
    [ "$state" = ok ] && ok "cluster: three primaries, cluster_state ok" || { bad "cluster: state $state"; return; }
    FLEET_URL=$(IFS=,; echo "${urls[*]}")
    FLEET_PORTS=("${ports[@]}")
    local v a b got
    for v in 12 13; do
        a=$(free_port) b=$(free_port)
        server_start A fleet "$a" -V $v && server_start B fleet "$b" -V $v || { cleanup_servers A B; continue; }
        local s=$TMP/cluster-$v.pem
        expect "cluster TLS1.${v#1}: full handshake at A" "$(sc "$a" $v HELLO -sess_out "$s")" New
        expect "cluster TLS1.${v#1}: made at A, at B" "$(sc "$b" $v HELLO -sess_in "$s")" Reused
        # A pause between making and coming back: replication lag is the benchmark's business.
        got=$(py_clients --new "$a" --back "$b" --version $v --clients 30 --pause-ms 200 2>>"$TMP/client.err")
        echo "     cluster TLS1.${v#1}: 30 clients A->B: $got"
        expect "cluster TLS1.${v#1}: 30 sessions made at A resumed at B" "$(jget "$got" resumed)" 30
        cleanup_servers A B
    done
    local spread=""
    for p in "${ports[@]}"; do spread="$spread $(rcli "$p" DBSIZE)"; done
    echo "     cluster: keys per primary:$spread"
    [ "$(echo "$spread" | tr ' ' '\n' | grep -c '^[1-9]')" -ge 2 ] &&
        ok "cluster: the sessions are spread over several primaries ($spread )" ||
        bad "cluster: keys per primary:$spread"
    for p in "${ports[@]}"; do redis_kill "$p"; done
}

# ---- valgrind ----
# A preloaded fleet server under memcheck (following its forked worker): sessions both ways
# between it and a plain fleet server; no handshake fails, no memcheck error, no definite leak
# (the fleet's threads and the state a process leaks at exit show as "possibly lost").
test_valgrind() {
    command -v valgrind >/dev/null || { skip "valgrind: not installed: skipped"; return; }
    new_redis || return
    local a b got
    a=$(free_port) b=$(free_port)
    server_start A fleet "$a" || return
    VG=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite --log-file="$TMP/vg.%p.log")
    server_start V fleet "$b"
    VG=()
    alive "${SERVER_PID[V]:-0}" || { cleanup_servers A; return; }
    got=$(py_clients --new "$a" --back "$b" --clients 10 --pause-ms 300 --timeout 60 2>>"$TMP/client.err")
    echo "     valgrind: 10 clients made at A, at V (memcheck): $got"
    expect "valgrind: A->V failed handshakes" "$(jsum "$got" new_failed failed)" 0
    got=$(py_clients --new "$b" --back "$a" --clients 10 --pause-ms 300 --timeout 60 2>>"$TMP/client.err")
    echo "     valgrind: 10 clients made at V (memcheck), at A: $got"
    expect "valgrind: V->A failed handshakes" "$(jsum "$got" new_failed failed)" 0
    expect "valgrind: V->A sessions resumed at A" "$(jget "$got" resumed)" 10
    local pid=${SERVER_PID[V]}
    kill -TERM "$pid"
    for _ in $(seq 300); do alive "$pid" || break; sleep 0.1; done
    wait "$pid"
    local rc=$?
    SERVER_PID[V]=
    cleanup_servers A
    cat "$TMP"/vg.*.log >"$OUT/valgrind.log" 2>/dev/null
    local errors
    errors=$(grep -c 'Invalid\|uninitialised\|definitely lost\|Mismatched' "$OUT/valgrind.log")
    [ "$rc" = 0 ] && [ "$errors" = 0 ] && ok "valgrind: no memcheck error, no definite leak ($(grep -c 'possibly lost in loss record' "$OUT/valgrind.log") possibly-lost records)" ||
        { bad "valgrind: exit $rc, $errors error lines (tests-c/out/fleet/valgrind.log)"; grep -m5 'Invalid\|uninitialised\|definitely lost' "$OUT/valgrind.log"; }
    redis_kill "$RPORT"
}

# ---- netns ----
test_netns() {
    if [ "$(id -u)" != 0 ]; then skip "netns: not root: skipped"; return; fi
    local tag=fl$$
    local r=${tag}r a=${tag}a b=${tag}b
    if ! ip netns add "$r" 2>/dev/null; then skip "netns: no network namespace support (ip netns add failed): skipped"; return; fi
    NETNS+=("$r")
    ip netns add "$a" && NETNS+=("$a") && ip netns add "$b" && NETNS+=("$b") || { bad "netns: ip netns add"; return; }
    # veth pairs created inside the namespaces, so that nothing appears in the host's.
    ip -n "$r" link add vr-a type veth peer name va-r netns "$a" &&
        ip -n "$r" link add vr-b type veth peer name vb-r netns "$b" || { bad "netns: veth pairs"; return; }
    ip -n "$r" addr add 10.231.1.1/30 dev vr-a && ip -n "$a" addr add 10.231.1.2/30 dev va-r &&
        ip -n "$r" addr add 10.231.2.1/30 dev vr-b && ip -n "$b" addr add 10.231.2.2/30 dev vb-r ||
        { bad "netns: addresses"; return; }
    local ns dev
    for ns in "$r" "$a" "$b"; do ip -n "$ns" link set dev lo up; done
    for dev in "$r vr-a" "$r vr-b" "$a va-r" "$b vb-r"; do ip -n "${dev% *}" link set dev "${dev#* }" up || bad "netns: link $dev up"; done
    local delay="no delay"
    if ip -n "$r" qdisc add dev vr-a root netem delay 1ms 2>/dev/null; then
        ip -n "$r" qdisc add dev vr-b root netem delay 1ms && ip -n "$a" qdisc add dev va-r root netem delay 1ms &&
            ip -n "$b" qdisc add dev vb-r root netem delay 1ms || bad "netns: netem on every veth"
        delay="netem 1 ms each way"
    else
        skip "netns: tc netem is not available in this kernel (sch_netem): the namespaces run without delay"
    fi
    # Redis inside its namespace, on its two veth addresses.
    local rdir=$TMP/redis-ns
    mkdir -p "$rdir"
    ip netns exec "$r" "$REDIS_SERVER" --port 6379 --bind 10.231.1.1 10.231.2.1 127.0.0.1 --protected-mode no --save '' \
        --appendonly no --dir "$rdir" >"$rdir/log" 2>&1 &
    track $!
    local up=0
    for _ in $(seq 100); do
        [ "$(ip netns exec "$r" redis-cli -p 6379 PING 2>/dev/null)" = PONG ] && { up=1; break; }
        sleep 0.1
    done
    [ $up = 1 ] || { bad "netns: redis-server did not start in $r"; return; }
    local ping
    ping=$(ip netns exec "$a" redis-cli -h 10.231.1.1 -p 6379 PING 2>&1)
    expect "netns: Redis answers A's namespace across the veth pair ($delay)" "$ping" PONG
    FLEET_PORTS=(6379)
    FLEET_RCLI=(ip netns exec "$r")
    local v
    for v in 12 13; do
        NS_EXEC=(ip netns exec "$a")
        FLEET_URL=redis://10.231.1.1:6379/0
        server_start A fleet 4433 -V $v || { NS_EXEC=(); continue; }
        NS_EXEC=(ip netns exec "$b")
        FLEET_URL=redis://10.231.2.1:6379/0
        server_start B fleet 4433 -V $v || { NS_EXEC=(); cleanup_servers A; continue; }
        local i n=0
        for i in 1 2 3 4 5; do
            NS_EXEC=(ip netns exec "$a")
            [ "$(sc 4433 $v HELLO -sess_out "$TMP/ns-$v-$i.pem")" = New ] || continue
            NS_EXEC=(ip netns exec "$b")
            [ "$(sc 4433 $v HELLO -sess_in "$TMP/ns-$v-$i.pem")" = Reused ] && n=$((n + 1))
        done
        NS_EXEC=()
        expect "netns TLS1.${v#1}: sessions made at A (namespace $a) resumed at B (namespace $b)" "$n/5" 5/5
        cleanup_servers A B
    done
    FLEET_RCLI=()
}

rm -f "$OUT/workers.txt"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(share remove expire workers faults blobs secrets valgrind cluster netns)
for t in "${tests[@]}"; do
    case $t in
    share | remove | expire | workers | faults | blobs | secrets | valgrind | cluster | netns) "test_$t" ;;
    *) bad "unknown test $t" ;;
    esac
done
finish
