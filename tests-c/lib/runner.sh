# A test runner's preamble, sourced (not run) by tests-c/*/run.sh after they set NAME:
#   ok MSG / bad MSG      count and print a check ("ok   NAME: MSG", "FAIL NAME: MSG")
#   skip MSG              print a skipped check ("skip NAME: MSG"), not counted
#   check_status MSG RC   ok MSG when RC is 0, else bad MSG
#   relay TEXT            the lines a check program printed: "ok   MSG" counted as ok MSG,
#                         "FAIL MSG" as bad MSG, any other line printed as it is
#   finish                print "NAME: P passed, F failed" (what tests-c/summary.sh adds up), exit
#   free_port             a free TCP port on 127.0.0.1 (picked by the kernel)
#   wait_port PORT [HOST] until something accepts on it (at most 10 s)
#   alive PID             it exists and is not a zombie
#   wait_gone PID         until it has exited (at most 20 s)
#   wait_file PATH        until it exists (at most 10 s; says so when it does not)
#   self_signed_cert DIR NAME
#                         a self-signed EC P-256 certificate for CN=NAME, valid 2 days:
#                         DIR/NAME.crt and DIR/NAME.key (openssl's complaint printed on failure)
#   preload_lib           sets LIB: PRELOAD_LIB made absolute, or the release build's library
#   track PID             killed (TERM, then KILL) by cleanup_tracked, which the runner's trap calls
#   clean_sesscache_env [KEEP...]
#                         unset every SESSCACHE_* variable of the environment but KEEP (the
#                         runner's own inputs, e.g. SESSCACHE_BIN), so that what a runner compares
#                         (against plain libssl, or what it expects) does not depend on the
#                         caller's shell (SESSCACHE_FLEET=memory:, a Redis URL, any other knob):
#                         a runner calls it first, then sets only the variables it means to
# set -u safe; uses only bash, coreutils, python3, ps and (self_signed_cert) openssl.
passed=0
failed=0
TRACKED=()
ok() { echo "ok   $NAME: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $NAME: $1"; failed=$((failed + 1)); }
skip() { echo "skip $NAME: $1"; }
check_status() { if [ "$2" = 0 ]; then ok "$1"; else bad "$1"; fi; }
relay() {
    local l
    while IFS= read -r l; do
        case $l in
        "ok   "*) ok "${l#ok   }" ;;
        "FAIL "*) bad "${l#FAIL }" ;;
        *) echo "$l" ;;
        esac
    done <<<"$1"
}
finish() {
    echo "$NAME: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    local host=${2:-127.0.0.1}
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

alive() {
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]
}

wait_gone() {
    for _ in $(seq 200); do
        alive "$1" || return 0
        sleep 0.1
    done
    return 1
}

wait_file() {
    for _ in $(seq 100); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1"
    return 1
}

self_signed_cert() {
    local err
    err=$(timeout 60 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
        -keyout "$1/$2.key" -out "$1/$2.crt" 2>&1) || { echo "$err"; return 1; }
}

preload_lib() {
    LIB=${PRELOAD_LIB:-$PWD/target/release/libsesscache.so}
    case $LIB in /*) ;; *) LIB=$PWD/$LIB ;; esac
}

track() { TRACKED+=("$1"); }

clean_sesscache_env() {
    local v k keep
    for v in $(compgen -e SESSCACHE_); do
        keep=0
        for k in "$@"; do [ "$v" = "$k" ] && keep=1; done
        [ $keep = 1 ] || unset "$v"
    done
}

cleanup_tracked() {
    local pid
    for pid in "${TRACKED[@]}"; do kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
    for pid in "${TRACKED[@]}"; do
        for _ in $(seq 30); do alive "$pid" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    TRACKED=()
}
