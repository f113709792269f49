#!/usr/bin/env bash
# Live statistics: the per-process stats sockets (src/obs/socket.rs), `sesscache stat` and
# `sesscache metrics`, against real preloaded servers.
#
#   nginx:   nginx (Debian's) preloaded, `daemon off`, master as root, 2 workers as nobody
#            (`listen ... reuseport` spreads the clients over both), SESSCACHE_RUN_DIR a temp
#            dir and SESSCACHE_REPORT set; N full handshakes and M resumptions by openssl
#            s_client. Then `sesscache stat --once --json` shows every worker that worked, and
#            its totals equal, counter by counter, the sum of the workers' report lines written
#            when nginx stopped; `sesscache metrics`' answer parses with prometheus_client's
#            OpenMetrics parser and its counters (per process and host) agree with the same
#            lines; every socket was 0600 and is gone after the exit.
#   users:   openssl s_server preloaded as nobody: its socket is 0600 and nobody's, another
#            unprivileged user's connect fails with EACCES (and its `stat` counts it
#            unreadable without removing it), root reads it.
#   garbage: garbage, an over-long line and silence each get an error line; the process
#            carries on and answers a valid request after them.
#   stale:   a socket left by a dead process is ignored and removed by `stat`.
#   stopped: a stopped process whose backlog is full does not make `stat` wait (1 s timeout).
#   lazy:    no thread and no socket in a process without a run directory (or whose
#            SESSCACHE_RUN_DIR cannot be created); SESSCACHE_RUN_DIR is created mode 0700.
#
# usage: tests-c/stats/run.sh [nginx] [users] [garbage] [stale] [stopped] [lazy]   (default: all)
# env:   NGINX, PRELOAD_LIB, SESSCACHE_BIN, OUT.  Needs root (users, nginx's nobody workers).
set -u
cd "$(dirname "$0")/../.."
BIN=${SESSCACHE_BIN:-$PWD/target/release/sesscache}
NAME=stats
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
preload_lib
# shellcheck source=../lib/nginx.sh
. tests-c/lib/nginx.sh
clean_sesscache_env
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
OUT=${OUT:-tests-c/out}/stats
mkdir -p "$OUT"

[ -f "$LIB" ] || { bad "no $LIB: run make first"; finish; }
[ -x "$BIN" ] || { bad "no $BIN: run make first"; finish; }
[ "$(id -u)" = 0 ] || { bad "needs root (workers and a server as nobody)"; finish; }
python3 -c 'import prometheus_client' 2>/dev/null ||
    python3 -m pip install --quiet prometheus_client >/dev/null 2>&1 ||
    python3 -m pip install --quiet --break-system-packages prometheus_client >/dev/null 2>&1 ||
    { bad "no python prometheus_client (pip install prometheus_client)"; finish; }

TMP=$(mktemp -d /tmp/sesscache-stats.XXXXXX)
chmod 755 "$TMP" # nobody reads the certificate and reaches the run directory
cleanup() {
    cleanup_tracked
    rm -rf "$TMP"
}
trap cleanup EXIT
self_signed_cert "$TMP" a.test || { bad "openssl req"; finish; }
chmod 644 "$TMP/a.test.key"

# client PORT SESS_ARGS...: one HTTPS request; prints New or Reused (or Failed). Only the
# handshake counts here (tests-c/nginx checks which vhost answered).
client() {
    local got
    got=$(nginx_client "$1" a.test "${@:2}")
    echo "${got%-wrong-vhost}"
}
# ask SOCKET BYTES [wait]: what the socket answers to BYTES (python escapes), or the error.
ask() {
    timeout 10 python3 - "$@" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(f"connect: {e.strerror} ({e.errno})")
    sys.exit()
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.decode(), end="")
EOF
}
# counts: the JSON key order the comparisons use.
COUNTERS="number connect connect_good connect_renegotiate accept accept_good accept_renegotiate hits cb_hits misses timeouts cache_full stored served"

# ---- nginx: workers' sockets, stat's totals, the metrics endpoint, against the report ----
test_nginx() {
    [ -x "$NGINX" ] || { bad "nginx: no nginx (.ci/run installs nginx-light)"; return; }
    local dir=$TMP/nginx run=$TMP/nginx-run port mport
    mkdir -p "$dir" "$run"
    chmod 1777 "$run" # workers run as nobody; like /tmp, none may remove another's socket
    port=$(free_port)
    nginx_conf "$dir" "$port" daemon=off user="nobody $(id -gn nobody)" workers=2 listen=reuseport certs="$TMP"
    env LD_PRELOAD="$LIB" SESSCACHE_REPORT="$dir/report.json" SESSCACHE_RUN_DIR="$run" \
        timeout 120 "$NGINX" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1 &
    track $!
    if ! wait_port "$port"; then
        bad "nginx: did not start"; tail -5 "$dir/stdout" "$dir/error.log" 2>/dev/null; return
    fi
    local master
    master=$(cat "$dir/nginx.pid")
    track "$master"
    # N full handshakes, then M resumptions of them: fresh connections spread over both workers.
    local N=12 M=24 i got other=0
    for i in $(seq $N); do
        got=$(client "$port" -sess_out "$dir/s$i.sess")
        [ "$got" = New ] || other=$((other + 1))
    done
    for i in $(seq $M); do
        got=$(client "$port" -sess_in "$dir/s$(((i - 1) % N + 1)).sess")
        [ "$got" = Failed ] && other=$((other + 1))
    done
    [ $other -eq 0 ] || bad "nginx: $other handshakes failed"
    local workers
    workers=$(ps -o pid= --ppid "$master" | tr -d ' ' | sort | tr '\n' ' ')
    ls -ln "$run" >"$OUT/nginx-sockets.txt"
    "$BIN" stat --once --json --run-dir "$run" >"$OUT/nginx-stat.json" 2>"$OUT/nginx-stat.err"
    "$BIN" stat --once --run-dir "$run" >"$OUT/nginx-stat.txt" 2>&1
    mport=$(free_port)
    "$BIN" metrics --listen "127.0.0.1:$mport" --run-dir "$run" 2>"$OUT/metrics.err" &
    local metrics=$!
    track "$metrics"
    wait_port "$mport" || bad "nginx: sesscache metrics did not start"
    timeout 10 curl -sS -D "$OUT/metrics.headers" "http://127.0.0.1:$mport/metrics" >"$OUT/metrics.txt" 2>&1 ||
        bad "nginx: GET /metrics failed"
    local notfound
    notfound=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/")
    [ "$notfound" = 404 ] && ok "metrics: GET / is 404" || bad "metrics: GET / gave $notfound"
    kill "$metrics" 2>/dev/null
    wait "$metrics" 2>/dev/null
    # Stop nginx: the workers write their report lines and remove their sockets at exit.
    kill -QUIT "$master"
    for _ in $(seq 200); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
    wait "$master" 2>/dev/null
    cp "$dir/report.json" "$OUT/nginx-report.json" 2>/dev/null
    local left
    left=$(ls "$run")
    [ -z "$left" ] && ok "nginx: every process removed its socket at exit" || bad "nginx: sockets left: $left"
    local check
    check=$(python3 - "$dir/report.json" "$OUT/nginx-stat.json" "$OUT/metrics.txt" "$OUT/nginx-sockets.txt" \
        "$master" "$workers" "$COUNTERS" <<'EOF'
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
report, stat_path, metrics_path, sockets_path, master, workers, counters = sys.argv[1:8]
workers = workers.split()
# `number` (sessions cached now) is not a count of work: at exit nginx frees its contexts and
# libssl flushes them first, so the report's reads 0; it is compared with stat's instead.
counters = [k for k in counters.split() if k != "number"]
def say(name, good, detail=""):
    print(("ok   " if good else "FAIL ") + name + ("" if good or not detail else f": {detail}"))
try:
    lines = [json.loads(l) for l in open(report) if l.strip()]
    stat = json.load(open(stat_path))
except (OSError, ValueError) as e:
    say("nginx: the report and stat's JSON are readable", False, e)
    sys.exit()
want = {k: sum(l.get(k, 0) for l in lines) for k in counters}
say("nginx: the clients were answered by the workers (report)", want["accept"] == 36 and want["hits"] > 0, want)
procs = {str(p["pid"]): p for p in stat["processes"]}
worked = {str(l["pid"]) for l in lines}
say("nginx: stat shows every worker that worked", worked <= set(procs) and worked <= set(workers),
    f"report pids {sorted(worked)}, stat pids {sorted(procs)}, workers {workers}")
say("nginx: both workers worked and answer on their own socket", len(worked) == 2 and len(workers) == 2,
    f"{sorted(worked)} of {workers}")
say("nginx: stat shows the master too, with no counts of its own", master in procs and
    all(procs[master]["totals"][k] == 0 for k in counters))
say("nginx: each process says what it is", all(p["program"] == "nginx" and p["mode"] == "preload" for p in procs.values()))
bad = [k for k in counters if stat["totals"][k] != want[k]]
say("nginx: stat's totals equal the sum of the report lines, counter by counter", not bad,
    {k: (stat["totals"][k], want[k]) for k in bad})
per_worker = all(all(procs[str(l["pid"])]["contexts"][0][k] == l[k] for k in counters) for l in lines if str(l["pid"]) in procs)
say("nginx: each worker's context in stat equals its report line", per_worker)
socks = [l.split() for l in open(sockets_path) if l.endswith(".sock\n")]
say("nginx: every socket is mode 0600, the workers' owned by nobody",
    len(socks) == 3 and all(s[0] == "srw-------" for s in socks) and
    sorted(s[2] for s in socks) == ["0", "65534", "65534"], socks)
try:
    families = {f.name: f for f in text_string_to_metric_families(open(metrics_path).read())}
except Exception as e:
    say("metrics: the exposition parses (OpenMetrics parser)", False, e)
    sys.exit()
say("metrics: the exposition parses (OpenMetrics parser)", True)
say("metrics: HELP and TYPE for every counter", all(
    f"sesscache_{k}" in families and families[f"sesscache_{k}"].type == "counter" and families[f"sesscache_{k}"].documentation
    for k in counters))
def host(k):
    f = families.get(f"sesscache_host_{k}")
    return f.samples[0].value if f and f.samples else None
bad = [k for k in counters if host(k) != want[k]]
say("metrics: the host totals equal the report, and its sessions stat's", not bad and host("sessions") == stat["totals"]["number"],
    {k: (host(k), want[k]) for k in bad})
def per(k):
    return {s.labels["pid"]: s.value for s in families[f"sesscache_{k}"].samples}
bad = [k for k in counters if any(per(k).get(str(l["pid"])) != l[k] for l in lines)]
say("metrics: each worker's counters (labels pid, program, mode) equal its report line", not bad, bad)
labels = {tuple(sorted(s.labels.items())) for s in families["sesscache_accept"].samples}
say("metrics: labelled by pid, program and mode", all({k for k, _ in l} == {"pid", "program", "mode"} for l in labels), labels)
EOF
)
    relay "$check"
    if grep -q 'sesscache' "$dir/stdout" "$dir/error.log" 2>/dev/null; then
        bad "nginx: the library complained:"; grep -h sesscache "$dir/stdout" "$dir/error.log" | head -5
    fi
}

# s_server_as USER RUN_DIR PORT: a preloaded openssl s_server run as USER (uid), in the background.
s_server_as() {
    local uid=$1 run=$2 port=$3
    setpriv --reuid="$uid" --regid="$uid" --clear-groups env \
        LD_PRELOAD="$LIB" SESSCACHE_RUN_DIR="$run" \
        timeout 60 openssl s_server -www -accept "127.0.0.1:$port" -cert "$TMP/a.test.crt" -key "$TMP/a.test.key" -no_ticket \
        >/dev/null 2>&1 </dev/null &
    S_SERVER=$!
    track "$S_SERVER"
}

# ---- users: another user's socket is not readable ----
test_users() {
    local run=$TMP/users-run port
    mkdir -p "$run" && chmod 1777 "$run"
    port=$(free_port)
    s_server_as 65534 "$run" "$port"
    wait_port "$port" || { bad "users: s_server as nobody did not start"; return; }
    local pid
    pid=$(pgrep -P "$S_SERVER" | head -1)
    local sock=$run/$pid.sock
    wait_file "$sock" || { bad "users: no socket $sock"; ls -l "$run"; return; }
    local st
    st=$(stat -c '%A %u' "$sock")
    [ "$st" = "srw------- 65534" ] && ok "users: the socket is mode 0600, owned by nobody" ||
        bad "users: the socket is $st"
    local got
    got=$(setpriv --reuid=4242 --regid=4242 --clear-groups bash -c "$(declare -f ask); ask '$sock' 'snapshot\n'")
    [ "$got" = "connect: Permission denied (13)" ] && ok "users: another unprivileged user's connect fails with EACCES" ||
        bad "users: another user got: $got"
    got=$(setpriv --reuid=4242 --regid=4242 --clear-groups "$BIN" stat --once --json --run-dir "$run")
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(not (d["processes"] == [] and d["unreadable"] == 1))' "$got" &&
        [ -S "$sock" ] && ok "users: that user's stat counts it unreadable and leaves it" ||
        bad "users: that user's stat: $got"
    got=$(ask "$sock" 'snapshot\n')
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(not (d["pid"] == int(sys.argv[2]) and d["program"] == "openssl"))' \
        "$got" "$pid" && ok "users: root reads it" || bad "users: root got: $got"
    kill "$S_SERVER" 2>/dev/null
}

# ---- garbage: an error line, and the process carries on ----
test_garbage() {
    local run=$TMP/garbage-run port
    port=$(free_port)
    s_server_as 0 "$run" "$port"
    wait_port "$port" || { bad "garbage: s_server did not start"; return; }
    local sock
    for _ in $(seq 100); do ls "$run"/*.sock >/dev/null 2>&1 && break; sleep 0.1; done
    sock=$(ls "$run"/*.sock 2>/dev/null | head -1)
    [ -S "$sock" ] || { bad "garbage: no socket in $run"; return; }
    local got long
    got=$(ask "$sock" 'GET / HTTP/1.0\r\n\r\n')
    [ "$got" = '{"error":"unknown request: expected \"snapshot\""}' ] && ok "garbage: an unknown request gets an error line" ||
        bad "garbage: an unknown request got: $got"
    long=$(printf 'x%.0s' $(seq 300))
    got=$(ask "$sock" "$long")
    [ "$got" = '{"error":"request too long"}' ] && ok "garbage: 300 bytes without a newline get an error line" ||
        bad "garbage: a long request got: $got"
    got=$(ask "$sock" '')
    case $got in '{"error":"incomplete request'*) ok "garbage: silence gets an error line after the timeout" ;;
    *) bad "garbage: silence got: $got" ;; esac
    got=$(ask "$sock" '\x00\xff\n')
    case $got in '{"error":'*) ok "garbage: binary bytes get an error line" ;; *) bad "garbage: binary got: $got" ;; esac
    local reused
    reused=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -reconnect 2>&1 | grep -c '^Reused')
    got=$(ask "$sock" 'snapshot\n')
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); t = d["totals"]; sys.exit(not (t["accept_good"] == 6 and t["hits"] == 5))' "$got" &&
        [ "$reused" -ge 5 ] && ok "garbage: the server carries on (6 handshakes, 5 resumed, counted) and answers a valid request" ||
        bad "garbage: after the garbage ($reused reused): $got"
    kill "$S_SERVER" 2>/dev/null
}

# ---- stale: a dead process's socket is ignored and removed ----
test_stale() {
    local run=$TMP/stale-run port
    mkdir -m 700 "$run"
    # A socket bound by a process that is gone (python exits without unlinking it).
    local dead
    sleep 0 &
    dead=$!
    wait "$dead"
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()' "$run/$dead.sock"
    port=$(free_port)
    s_server_as 0 "$run" "$port"
    wait_port "$port" || { bad "stale: s_server did not start"; return; }
    for _ in $(seq 100); do [ "$(ls "$run" | wc -l)" = 2 ] && break; sleep 0.1; done
    local live
    live=$(ls "$run" | grep -v "^$dead.sock$")
    local got
    got=$("$BIN" stat --once --json --run-dir "$run")
    python3 -c 'import json, sys; d = json.loads(sys.argv[1])
sys.exit(not (len(d["processes"]) == 1 and d["removed_stale"] == 1 and str(d["processes"][0]["pid"]) + ".sock" == sys.argv[2]))' \
        "$got" "$live" && [ ! -e "$run/$dead.sock" ] && [ -S "$run/$live" ] &&
        ok "stale: a dead process's socket is ignored and removed, the live one kept" ||
        bad "stale: stat gave $got; left: $(ls "$run")"
    got=$("$BIN" stat --once --run-dir "$run")
    echo "$got" >"$OUT/stat-once.txt"
    case $got in *" openssl "*) ok "stale: the table lists the live process" ;; *) bad "stale: table: $got" ;; esac
    kill "$S_SERVER" 2>/dev/null
}

# ---- stopped: a process that does not accept (SIGSTOP), its backlog full: stat still ends ----
test_stopped() {
    local run=$TMP/stopped-run port
    port=$(free_port)
    s_server_as 0 "$run" "$port"
    wait_port "$port" || { bad "stopped: s_server did not start"; return; }
    local pid sock
    pid=$(pgrep -P "$S_SERVER" | head -1)
    sock=$run/$pid.sock
    wait_file "$sock"
    kill -STOP "$pid"
    # Fill its backlog with connections nobody accepts (held open meanwhile).
    python3 -c 'import socket, sys, time
held = []
for _ in range(200):
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(s)
print(len(held), flush=True)
time.sleep(30)' "$sock" >"$TMP/held" &
    local holder=$!
    track "$holder"
    wait_file "$TMP/held"
    sleep 0.5
    local got start=$SECONDS
    got=$(timeout 20 "$BIN" stat --once --json --run-dir "$run")
    local rc=$?
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(not (d["processes"] == [] and d["unanswered"] == 1))' "$got" 2>/dev/null &&
        [ $rc = 0 ] && [ -S "$sock" ] && ok "stopped: stat gives up on a process that does not accept (full backlog of $(cat "$TMP/held")), keeps its socket" ||
        bad "stopped: stat exit $rc after $((SECONDS - start)) s: $got"
    kill "$holder" 2>/dev/null
    kill -CONT "$pid"
    kill "$S_SERVER" 2>/dev/null
}

# ---- lazy: nothing without a run directory ----
threads_of() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
test_lazy() {
    local port run=$TMP/lazy-run
    port=$(free_port)
    s_server_as 0 "$run" "$port"
    wait_port "$port" || { bad "lazy: s_server did not start"; return; }
    local pid
    pid=$(pgrep -P "$S_SERVER" | head -1)
    [ "$(stat -c %a "$run")" = 700 ] && [ "$(threads_of "$pid")" = 2 ] &&
        ok "lazy: SESSCACHE_RUN_DIR created mode 0700; one thread added for the socket" ||
        bad "lazy: $run is $(stat -c %a "$run"), $(threads_of "$pid") threads"
    kill "$S_SERVER" 2>/dev/null
    if [ -e /run/sesscache ]; then
        echo "     lazy: /run/sesscache exists here: the no-run-directory case is not tried"
        return
    fi
    port=$(free_port)
    setpriv --reuid=0 env -u SESSCACHE_RUN_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$LIB" \
        timeout 60 openssl s_server -www -accept "127.0.0.1:$port" -cert "$TMP/a.test.crt" -key "$TMP/a.test.key" -no_ticket >/dev/null 2>&1 </dev/null &
    local plain=$!
    track "$plain"
    wait_port "$port" || { bad "lazy: s_server without a run directory did not start"; return; }
    pid=$(pgrep -P "$plain" | head -1)
    local n
    n=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -reconnect 2>&1 | grep -c '^Reused')
    [ "$(threads_of "$pid")" = 1 ] && [ "$n" -ge 5 ] && ok "lazy: no run directory: no thread, sessions still resumed" ||
        bad "lazy: no run directory: $(threads_of "$pid") threads, $n resumed"
    kill "$plain" 2>/dev/null
    port=$(free_port)
    s_server_as 0 "$TMP/no/such/dir" "$port"
    wait_port "$port" || { bad "lazy: s_server did not start"; return; }
    pid=$(pgrep -P "$S_SERVER" | head -1)
    [ "$(threads_of "$pid")" = 1 ] && [ ! -e "$TMP/no" ] && ok "lazy: an uncreatable SESSCACHE_RUN_DIR: no thread, nothing made" ||
        bad "lazy: uncreatable run dir: $(threads_of "$pid") threads"
    kill "$S_SERVER" 2>/dev/null
}

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(nginx users garbage stale stopped lazy)
for t in "${tests[@]}"; do
    case $t in
    nginx) test_nginx ;;
    users) test_users ;;
    garbage) test_garbage ;;
    stale) test_stale ;;
    stopped) test_stopped ;;
    lazy) test_lazy ;;
    *) bad "unknown test $t" ;;
    esac
done
finish
