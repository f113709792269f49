#!/usr/bin/env bash
# nginx from Debian's packages, preloaded: a real server that chooses a virtual host by SNI
# (SSL_set_SSL_CTX in its servername callback) and that forks and drops privileges.
#
#   sni:    two server blocks on one 127.0.0.1 port, each with its own self-signed certificate;
#           TLS 1.2 session ids (no tickets), `ssl_session_cache builtin`, one worker. One full
#           handshake then 5 resumptions (s_client -sess_out / -sess_in) at each vhost, plain
#           and preloaded: 5/5 both ways, and preloaded the engine served them (report).
#   report: nginx in its default daemon mode, `user nobody`, 2 workers, preloaded with
#           SESSCACHE_REPORT in a directory only root can enter; N full handshakes and M
#           resumptions, then `nginx -s quit` with the same variables set, as an operator would.
#           The report's counters add up to what the clients saw, every line is a worker's,
#           one per context and worker, none from the first process, the master or the quit
#           command.
#
# usage: tests-c/nginx/run.sh [sni] [report]   (default: both)
# env:   NGINX (default: nginx on PATH, else /usr/sbin/nginx), PRELOAD_LIB, OUT
# exit:  0 when every check passed.
set -u
cd "$(dirname "$0")/../.."
NAME=nginx
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
# shellcheck source=../lib/nginx.sh
. tests-c/lib/nginx.sh
clean_sesscache_env
preload_lib
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
OUT=${OUT:-tests-c/out}/nginx
mkdir -p "$OUT"

[ -f "$LIB" ] || { bad "no $LIB: run make first"; finish; }
[ -x "$NGINX" ] || { bad "no nginx (.ci/run installs nginx-light)"; finish; }

TMP=$(mktemp -d /tmp/sesscache-nginx.XXXXXX)
chmod 700 "$TMP" # workers running as nobody cannot enter it
cleanup() {
    cleanup_tracked
    rm -rf "$TMP"
}
trap cleanup EXIT

for h in a b; do
    self_signed_cert "$TMP" $h.test || { bad "openssl req"; finish; }
done

# ---- sni: resumption at each vhost, plain and preloaded ----
test_sni() {
    local mode
    for mode in plain preload; do
        local dir=$TMP/sni-$mode port
        port=$(free_port)
        nginx_conf "$dir" "$port" daemon=off user="root $(id -gn root)" workers=1 vhosts="a.test b.test" certs="$TMP"
        local pre=()
        [ $mode = preload ] && pre=(LD_PRELOAD="$LIB" SESSCACHE_REPORT="$dir/report.json")
        env -u LD_PRELOAD "${pre[@]}" \
            timeout 120 "$NGINX" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1 &
        local master=$!
        track "$master"
        if ! wait_port "$port"; then
            bad "sni $mode: nginx did not start"; cat "$dir/stdout" "$dir/error.log" 2>/dev/null | tail -5
            continue
        fi
        local h result=()
        for h in a b; do
            local first n=0 i got
            first=$(nginx_client "$port" $h.test -sess_out "$dir/$h.sess")
            for i in 1 2 3 4 5; do
                got=$(nginx_client "$port" $h.test -sess_in "$dir/$h.sess")
                [ "$got" = Reused ] && n=$((n + 1))
            done
            result+=("$h.test: first $first, resumed $n/5")
            echo "     sni $mode: $h.test: first handshake $first, resumed $n/5" >>"$OUT/sni.txt"
            if [ "$first" = New ] && [ $n -eq 5 ]; then
                ok "sni $mode: $h.test resumed 5/5"
            else
                bad "sni $mode: $h.test: first $first, resumed $n/5"
            fi
        done
        kill -QUIT "$master" 2>/dev/null
        wait_gone "$master" || bad "sni $mode: nginx did not stop"
        wait "$master" 2>/dev/null
        if [ $mode = preload ]; then
            # Both vhosts' lookups are the default's (a.test's) context's: 10 served.
            local served
            served=$(python3 -c 'import json, sys
print(sum(json.loads(l).get("served", 0) for l in open(sys.argv[1]) if l.strip()))' "$dir/report.json" 2>/dev/null)
            if [ "${served:-0}" -eq 10 ]; then
                ok "sni preload: the engine served the 10 resumptions"
            else
                bad "sni preload: the engine served ${served:-no report}, 10 expected"; cat "$dir/report.json" 2>/dev/null
            fi
        fi
    done
}

# ---- report: a daemon that forks workers running as nobody ----
test_report() {
    local dir=$TMP/report port
    port=$(free_port)
    nginx_conf "$dir" "$port" daemon=on user="nobody $(id -gn nobody)" workers=2 vhosts="a.test b.test" certs="$TMP"
    local vars=(LD_PRELOAD="$LIB" SESSCACHE_REPORT="$dir/report.json")
    # The first process (it forks the master and exits) records its pid, then becomes nginx.
    timeout 30 bash -c 'echo $$ >"$0/first.pid"; exec "$@"' "$dir" env "${vars[@]}" \
        "$NGINX" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1
    local rc=$? first
    first=$(cat "$dir/first.pid" 2>/dev/null)
    local master
    master=$(cat "$dir/nginx.pid" 2>/dev/null)
    [ -n "$master" ] && track "$master"
    if [ $rc -ne 0 ] || [ -z "$master" ] || ! wait_port "$port"; then
        bad "report: nginx did not start as a daemon (exit $rc)"; tail -5 "$dir/stdout" "$dir/error.log" 2>/dev/null
        return
    fi
    local workers
    workers=$(ps -o pid= --ppid "$master" | tr -d ' ' | sort | tr '\n' ' ')
    local users
    users=$(ps -o user= --ppid "$master" | sort -u | tr '\n' ' ')
    # N full handshakes (alternating vhosts), then M resumptions, 2 of each session.
    local N=4 M=8 full=0 new=0 reused=0 other=0 i got
    for i in $(seq $N); do
        local h=$([ $((i % 2)) -eq 0 ] && echo a || echo b)
        got=$(nginx_client "$port" $h.test -sess_out "$dir/s$i.sess")
        [ "$got" = New ] && full=$((full + 1)) || other=$((other + 1))
    done
    for i in $(seq $M); do
        local s=$(((i - 1) % N + 1))
        local h=$([ $((s % 2)) -eq 0 ] && echo a || echo b)
        got=$(nginx_client "$port" $h.test -sess_in "$dir/s$s.sess")
        case $got in
        Reused) reused=$((reused + 1)) ;;
        New) new=$((new + 1)) ;;
        *) other=$((other + 1)) ;;
        esac
    done
    echo "     report: workers ($users): $workers; clients: $full full, $M resumption attempts: $reused reused, $new new" |
        tee -a "$OUT/report.txt"
    [ $other -eq 0 ] || bad "report: $other handshakes failed or reached the wrong vhost"
    env "${vars[@]}" timeout 30 "$NGINX" -p "$dir" -c "$dir/nginx.conf" -s quit >>"$dir/stdout" 2>&1 ||
        bad "report: nginx -s quit failed"
    if ! wait_gone "$master"; then
        bad "report: the master did not exit after nginx -s quit"; return
    fi
    cp "$dir/report.json" "$OUT/report.json" 2>/dev/null
    local check
    check=$(python3 - "$dir/report.json" "$master $first" "$workers" $((full + reused + new)) $reused $new $full <<'EOF'
import json, sys
path, not_workers, workers = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
handshakes, reused, new, full = map(int, sys.argv[4:8])
try:
    lines = [json.loads(l) for l in open(path) if l.strip()]
except (OSError, ValueError) as e:
    print(f"FAIL report: cannot read the report: {e}")
    sys.exit()
def total(k):
    return sum(l.get(k, 0) for l in lines)
checks = [
    ("every line is a worker's", all(str(l.get("pid")) in workers for l in lines) and len(lines) > 0),
    ("no line from the first process, the master or the quit command", not any(str(l.get("pid")) in not_workers for l in lines)),
    ("one line per context and worker", len({(l.get("pid"), l.get("ctx")) for l in lines}) == len(lines)),
    (f"accept and accept_good add up to the {handshakes} handshakes", total("accept") == handshakes and total("accept_good") == handshakes),
    (f"hits and served add up to the {reused} resumptions", total("hits") == reused and total("served") == reused),
    (f"misses add up to the {new} resumption attempts that were not resumed", total("misses") == new),
    (f"stored adds up to the {full + new} new sessions", total("stored") == full + new),
    ("no client-side, callback or timeout counts", all(total(k) == 0 for k in ("connect", "connect_good", "cb_hits", "timeouts", "cache_full"))),
]
for name, good in checks:
    print(("ok   report: " if good else "FAIL report: ") + name)
if not all(g for _, g in checks):
    print("     report lines:")
    for l in lines:
        print("     " + json.dumps(l))
EOF
)
    relay "$check"
    # Nothing on stderr from the library: every line could be written.
    if grep -q 'sesscache' "$dir/stdout" "$dir/error.log" 2>/dev/null; then
        bad "report: the library complained:"; grep -h sesscache "$dir/stdout" "$dir/error.log" | head -5
    else
        ok "report: no complaint from the library"
    fi
}

rm -f "$OUT/sni.txt" "$OUT/report.txt"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(sni report)
for t in "${tests[@]}"; do
    case $t in
    sni) test_sni ;;
    report) test_report ;;
    *) bad "unknown test $t" ;;
    esac
done
finish
