#!/usr/bin/env bash
# `make install` into a temporary DESTDIR, and what an operator does with the result: the
# README's C example built with `pkg-config --cflags --libs sesscache` (shared and static, under
# valgrind), the soname, `sesscache run -- openssl s_server` resuming sessions with its report,
# exit statuses and signals through `sesscache run`, the man pages rendered without warnings,
# `sesscache keygen` and `sesscache check` (Debian's libssl, and stand-ins linked with
# -Bsymbolic, -Bsymbolic-functions, statically), then `make uninstall` leaving nothing behind.
#
# usage: tests-c/install/run.sh      env: VALGRIND=0 skips valgrind; OUT as usual.
# Needs the release build (make lib). Every wait is bounded; servers listen on 127.0.0.1 only.
set -u
cd "$(dirname "$0")/../.."
NAME=install
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
# shellcheck source=../lib/nginx.sh
. tests-c/lib/nginx.sh
ROOT=$PWD
OUT=${OUT:-tests-c/out}/install
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
CC=${CC:-cc}
VALGRIND=${VALGRIND:-1}
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
[ "$VALGRIND" = 1 ] || VG=
PREFIX=/usr/local
rm -rf "$OUT" && mkdir -p "$OUT" || exit 2
D=$OUT/destdir
BIN=$D$PREFIX/bin/sesscache
LIBDIR=$D$PREFIX/lib
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
# Nothing of the caller's may steer the command to another library, key or fleet.
NAME=install
# shellcheck source=../lib/runner.sh
. tests-c/lib/runner.sh
clean_sesscache_env
unset LD_PRELOAD

failed_checks=()
# show LOG: its first 20 lines, indented, under a failed check.
show() { sed 's/^/    /' "$1" | head -20; }
# check NAME COMMAND...: one check, passed when COMMAND succeeds (what it printed: $OUT/NAME.log).
check() {
    local name=$1
    shift
    if "$@" >"$OUT/$name.log" 2>&1; then
        ok "$name"
    else
        bad "$name"
        show "$OUT/$name.log"
        failed_checks+=("$name")
    fi
}

# ---- install ----
expected_files() {
    cat <<EOF
$PREFIX/bin/sesscache
$PREFIX/include/sesscache/openssl/ssl.h
$PREFIX/include/sesscache/ssl.h
$PREFIX/lib/libsesscache.a
$PREFIX/lib/libsesscache.so
$PREFIX/lib/libsesscache.so.0
$PREFIX/lib/libsesscache.so.$VERSION
$PREFIX/lib/pkgconfig/sesscache.pc
$PREFIX/share/doc/sesscache/systemd/sesscache.conf
$PREFIX/share/man/man1/sesscache.1
$PREFIX/share/man/man7/sesscache.7
EOF
}
installed_files() { (cd "$D" 2>/dev/null && find . \( -type f -o -type l \) | sed 's/^\.//' | sort); }
if ! make -s install PREFIX=$PREFIX DESTDIR="$D" >"$OUT/make-install.log" 2>&1; then
    bad "make install"
    show "$OUT/make-install.log"
    finish
fi
check files diff -u <(expected_files) <(installed_files)

soname_ok() {
    readelf -d "$LIBDIR/libsesscache.so.$VERSION" | tee /dev/stderr | grep -q 'Library soname: \[libsesscache.so.0\]' &&
        [ "$(readlink "$LIBDIR/libsesscache.so.0")" = "libsesscache.so.$VERSION" ] &&
        [ "$(readlink "$LIBDIR/libsesscache.so")" = "libsesscache.so.0" ] &&
        [ "$(stat -c %a "$LIBDIR/libsesscache.so.$VERSION")" = 755 ] && [ "$(stat -c %a "$BIN")" = 755 ]
}
check soname soname_ok

# ---- the README's C example, through pkg-config against the installed tree ----
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
awk '/^## A minimal C example/ { f = 1 } f && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' README.md >"$OUT/example.c"
example_shared() {
    [ -s "$OUT/example.c" ] && [ "$(pkg-config --modversion sesscache)" = "$VERSION" ] || return 1
    # shellcheck disable=SC2046 # pkg-config's words are separate flags
    $CC -std=c99 -Wall -Wextra -Werror -o "$OUT/example" "$OUT/example.c" $(pkg-config --cflags --libs sesscache) || return 1
    readelf -d "$OUT/example" | grep NEEDED
    readelf -d "$OUT/example" | grep -q 'Shared library: \[libsesscache.so.0\]' || return 1
    [ "$(LD_LIBRARY_PATH=$LIBDIR "$OUT/example")" = "cached: 1" ] || return 1
    [ -z "$VG" ] || LD_LIBRARY_PATH=$LIBDIR $VG "$OUT/example"
}
check readme-example-shared example_shared

example_static() {
    local libs
    libs=$(pkg-config --static --libs sesscache) || return 1
    libs=${libs/-lsesscache/-Wl,-Bstatic -lsesscache -Wl,-Bdynamic}
    # shellcheck disable=SC2046,SC2086
    $CC -std=c99 -Wall -Wextra -Werror -o "$OUT/example-static" "$OUT/example.c" $(pkg-config --cflags sesscache) $libs || return 1
    ! readelf -d "$OUT/example-static" | grep -q libsesscache || return 1
    [ "$("$OUT/example-static")" = "cached: 1" ] || return 1
    [ -z "$VG" ] || $VG "$OUT/example-static"
}
check readme-example-static example_static

include_sesscache_ssl_h() {
    printf '#include <sesscache/ssl.h>\nint main(void) { return SSL_CTX_new(TLS_method()) == 0; }\n' >"$OUT/own_name.c"
    # shellcheck disable=SC2046
    $CC -std=c99 -Wall -Werror -o "$OUT/own_name" "$OUT/own_name.c" $(pkg-config --cflags --libs sesscache) &&
        LD_LIBRARY_PATH=$LIBDIR "$OUT/own_name"
}
check include-sesscache-ssl.h include_sesscache_ssl_h
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# ---- the command's own answers ----
# status WANT COMMAND...: COMMAND's exit status is WANT.
status() {
    local want=$1
    shift
    "$@"
    local got=$?
    echo "exit status $got (want $want)"
    [ "$got" = "$want" ]
}
command_basics() {
    [ "$("$BIN" --version)" = "sesscache $VERSION" ] && "$BIN" --help | grep -q '^usage: sesscache' &&
        "$BIN" run --help | grep -q 'sesscache run' && status 2 "$BIN" && status 2 "$BIN" frobnicate &&
        status 2 "$BIN" run && status 2 "$BIN" run --fleet redis://127.0.0.1 -- true && status 2 "$BIN" keygen
}
check command-basics command_basics

# ---- sesscache run: which library, LD_PRELOAD kept ----
$CC -shared -fPIC -o "$OUT/other.so" -x c - <<<'int sesscache_test_other(void) { return 1; }' || exit 2
run_finds_installed_library() {
    local got
    got=$("$BIN" run -- sh -c 'printf %s "$LD_PRELOAD"') && echo "$got" && [ "$got" = "$LIBDIR/libsesscache.so.0" ] || return 1
    got=$(LD_PRELOAD=$OUT/other.so "$BIN" run -- sh -c 'printf %s "$LD_PRELOAD"') && echo "$got" &&
        [ "$got" = "$OUT/other.so:$LIBDIR/libsesscache.so.0" ] || return 1
    got=$(SESSCACHE_LIB=$OUT/other.so "$BIN" run --disable -- sh -c 'printf "%s %s" "$LD_PRELOAD" "$SESSCACHE_DISABLE"') &&
        echo "$got" && [ "$got" = "$OUT/other.so 1" ] || return 1
    status 125 env SESSCACHE_LIB="$OUT/missing.so" "$BIN" run -- true
}
check run-finds-installed-library run_finds_installed_library

# ---- sesscache run -- openssl s_server: resumption, and the report ----
SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    SERVER_PID=
}
trap stop_server EXIT
s_server_resumes() {
    local report=$OUT/report.json port= p try i rc
    self_signed_cert "$OUT" localhost || return 1
    # s_server leaves after -naccept connections, so that it exits normally and writes its
    # report (on SIGTERM it would write none). A free port in 20000-39999: a few tries.
    for try in 1 2 3 4 5 6 7 8; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
        : >"$OUT/s_server.out"
        timeout 120 "$BIN" run --report "$report" -- openssl s_server -www -accept "127.0.0.1:$p" \
            -cert "$OUT/localhost.crt" -key "$OUT/localhost.key" -naccept 6 </dev/null >"$OUT/s_server.out" 2>"$OUT/s_server.err" &
        SERVER_PID=$!
        for i in $(seq 1 100); do
            grep -q '^ACCEPT' "$OUT/s_server.out" && { port=$p; break 2; }
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.05
        done
        stop_server
    done
    [ -n "$port" ] || { cat "$OUT/s_server.err"; return 1; }
    timeout 30 openssl s_client -connect "127.0.0.1:$port" -reconnect -tls1_2 -no_ticket </dev/null >"$OUT/s_client.out" 2>&1
    grep -E '^(New|Reused),' "$OUT/s_client.out"
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=
    echo "sesscache run exit status: $rc"
    cat "$report"
    [ "$rc" = 0 ] && [ "$(grep -c '^Reused,' "$OUT/s_client.out")" = 5 ] &&
        grep -q '^{"mode":"preload",.*"accept":6,.*"hits":5,.*"stored":1,"served":5}$' "$report"
}
check s_server-resumes-through-run s_server_resumes

# ---- sesscache run -- nginx with two workers, as the systemd drop-in has it ----
# The workers, forked with the library loaded, append report lines at exit that add up to the
# clients' 18 connections and their resumptions (workers run as root here: tests-c/nginx covers
# privilege-dropping workers). SIGQUIT through sesscache run is nginx's graceful stop, and its
# exit status comes back.
nginx_workers() {
    local ng=$OUT/nginx report=$OUT/nginx/report.json port= p try i rc lines
    mkdir -p "$ng" || return 1
    for try in 1 2 3 4 5 6 7 8; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
        nginx_conf "$ng" "$p" certs="$OUT" vhosts=localhost workers=2 || return 1
        : >"$ng/error.log"
        timeout 120 "$BIN" run --report "$report" -- nginx -p "$ng" -c "$ng/nginx.conf" </dev/null >"$ng/run.out" 2>&1 &
        SERVER_PID=$!
        for i in $(seq 1 100); do
            [ "$(grep -c 'start worker process ' "$ng/error.log")" = 2 ] && { port=$p; break 2; }
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.05
        done
        stop_server
    done
    [ -n "$port" ] || { cat "$ng/error.log" "$ng/run.out"; return 1; }
    for i in 1 2 3; do
        timeout 30 openssl s_client -connect "127.0.0.1:$port" -reconnect -tls1_2 -no_ticket </dev/null >>"$ng/s_client.out" 2>&1
    done
    kill -QUIT "$(pgrep -P "$SERVER_PID" -x sesscache)"
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=
    echo "sesscache run -- nginx exit status after SIGQUIT: $rc"
    cat "$report"
    lines=$(python3 -c 'import json, sys
reports = [json.loads(l) for l in open(sys.argv[1])]
print(1 <= len(reports) <= 3 and all(r["mode"] == "preload" for r in reports),
      sum(r["accept"] for r in reports), sum(r["hits"] for r in reports))' "$report") || return 1
    echo "1-3 lines all preloaded, accepts, hits: $lines; connections: $(grep -cE '^(New|Reused),' "$ng/s_client.out"), reused: $(grep -c '^Reused,' "$ng/s_client.out")"
    [ "$rc" = 0 ] && [ "$lines" = "True 18 $(grep -c '^Reused,' "$ng/s_client.out")" ] && grep -q '^Reused,' "$ng/s_client.out"
}
if command -v nginx >/dev/null; then
    check nginx-workers-through-run nginx_workers
else
    skip "nginx-workers-through-run (no nginx here)"
fi

# ---- sesscache run: exit statuses ----
printf '#!/bin/sh\n' >"$OUT/not-executable" && chmod 644 "$OUT/not-executable"
exit_statuses() {
    status 0 "$BIN" run -- true && status 7 "$BIN" run -- sh -c 'exit 7' &&
        status 143 "$BIN" run -- sh -c 'kill -TERM $$' && status 137 "$BIN" run -- sh -c 'kill -KILL $$' &&
        status 127 "$BIN" run -- "$OUT/no-such-program" && status 126 "$BIN" run -- "$OUT/not-executable"
}
check exit-statuses exit_statuses

# ---- sesscache run: signals passed on ----
# The child traps SIG and exits 3 when it arrives; `env --default-signal` undoes the SIG_IGN a
# background job of a script gets for SIGINT and SIGQUIT.
signal_reaches_child() {
    local sig=$1 ready=$OUT/ready.$1 rc pid
    rm -f "$ready"
    timeout 30 env --default-signal "$BIN" run -- sh -c "trap 'echo got $sig; exit 3' $sig; : >'$ready'; while :; do sleep 0.05; done" \
        >"$OUT/signal-$sig.out" 2>&1 &
    pid=$!
    wait_file "$ready" || { kill -KILL "$pid"; return 1; }
    # $pid is timeout's; the signal goes to sesscache run, its child.
    kill "-$sig" "$(pgrep -P "$pid" -x sesscache)"
    wait "$pid"
    rc=$?
    cat "$OUT/signal-$sig.out"
    [ "$rc" = 3 ] && grep -qx "got $sig" "$OUT/signal-$sig.out"
}
signals() {
    local sig pid rc
    for sig in INT TERM HUP QUIT USR1 USR2; do signal_reaches_child "$sig" || { echo "$sig not passed on"; return 1; }; done
    # A child without a handler is killed by it: 128 + SIGTERM.
    rm -f "$OUT/ready.sleep"
    timeout 30 env --default-signal "$BIN" run -- sh -c ": >'$OUT/ready.sleep'; exec sleep 20" &
    pid=$!
    wait_file "$OUT/ready.sleep" || return 1
    kill -TERM "$(pgrep -P "$pid" -x sesscache)"
    wait "$pid"
    rc=$?
    echo "sleep killed through sesscache run: $rc"
    [ "$rc" = 143 ] || return 1
    # A signal ignored when sesscache run starts is still passed on: a program that sets its
    # own handler (nginx does, for SIGQUIT) gets it, as it would without sesscache run.
    rm -f "$OUT/ready.py"
    timeout 30 env --ignore-signal=QUIT "$BIN" run -- python3 -c 'import pathlib, signal, sys, time
signal.signal(signal.SIGQUIT, lambda s, f: (print("got QUIT", flush=True), sys.exit(3)))
pathlib.Path(sys.argv[1]).touch()
time.sleep(20)
sys.exit(9)' "$OUT/ready.py" >"$OUT/signal-py.out" 2>&1 &
    pid=$!
    wait_file "$OUT/ready.py" || return 1
    kill -QUIT "$(pgrep -P "$pid" -x sesscache)"
    wait "$pid"
    rc=$?
    cat "$OUT/signal-py.out"
    echo "SIGQUIT ignored at start, handled by the program: $rc"
    [ "$rc" = 3 ] && grep -qx 'got QUIT' "$OUT/signal-py.out" || return 1
    # And a program that does not set one inherits the ignored disposition: SIGHUP is passed on
    # and ignored.
    rm -f "$OUT/ready.ign" "$OUT/go.ign"
    timeout 30 env --ignore-signal=HUP "$BIN" run -- sh -c ": >'$OUT/ready.ign'; while [ ! -e '$OUT/go.ign' ]; do sleep 0.05; done; exit 4" &
    pid=$!
    wait_file "$OUT/ready.ign" || return 1
    kill -HUP "$(pgrep -P "$pid" -x sesscache)"
    sleep 0.2
    : >"$OUT/go.ign"
    wait "$pid"
    rc=$?
    echo "with SIGHUP ignored: $rc"
    [ "$rc" = 4 ]
}
check signals signals

# ---- the man pages ----
man_pages() {
    local page
    for page in man1/sesscache.1 man7/sesscache.7; do
        MANWIDTH=80 man -l --warnings=w "$D$PREFIX/share/man/$page" >"$OUT/$(basename "$page").txt" 2>"$OUT/$(basename "$page").err" || return 1
        echo "$page: $(wc -l <"$OUT/$(basename "$page").txt") lines"
        if [ -s "$OUT/$(basename "$page").err" ]; then cat "$OUT/$(basename "$page").err"; return 1; fi
        grep -q '^NAME' "$OUT/$(basename "$page").txt" && grep -q '^SEE ALSO' "$OUT/$(basename "$page").txt" || return 1
    done
    # sesscache(7) covers every variable the library and the command read.
    for var in SESSCACHE_REPORT SESSCACHE_DISABLE SESSCACHE_LIB SESSCACHE_FLEET_KEY_FILE LD_PRELOAD; do
        grep -q "$var" "$OUT/sesscache.7.txt" || { echo "sesscache(7) does not mention $var"; return 1; }
    done
    for var in $(grep -rhoE 'var(_os)?\("SESSCACHE_[A-Z_]+"' src --exclude-dir=bin | grep -oE 'SESSCACHE_[A-Z_]+' | sort -u); do
        [ "$var" = SESSCACHE_DER_CASES ] && continue # a test's input, not a setting
        grep -q "$var" "$OUT/sesscache.7.txt" || { echo "sesscache(7) does not mention $var, which src/ reads"; return 1; }
    done
}
check man-pages man_pages

# ---- keygen ----
keygen() {
    local key=$OUT/fleet.key before
    "$BIN" keygen "$key" || return 1
    [ "$(stat -c %a "$key")" = 600 ] && [ "$(wc -c <"$key")" = 65 ] && grep -qxE '[0-9a-f]{64}' "$key" || return 1
    before=$(cat "$key")
    status 1 "$BIN" keygen "$key" && [ "$(cat "$key")" = "$before" ] || return 1
    (umask 000 && "$BIN" keygen "$OUT/fleet2.key") && [ "$(stat -c %a "$OUT/fleet2.key")" = 600 ] || return 1
    ! cmp -s "$key" "$OUT/fleet2.key"
}
check keygen keygen

key_check() {
    local key=$OUT/fleet.key out
    out=$("$BIN" check --key "$key") && echo "$out" && grep -q '^ok   key file: .*1 key, mode 0600' <<<"$out" || return 1
    cat "$key" "$OUT/fleet2.key" >"$OUT/two.key" && chmod 644 "$OUT/two.key"
    out=$(SESSCACHE_FLEET_KEY_FILE=$OUT/two.key "$BIN" check) && echo "$out" &&
        grep -q '^note key file: .*2 keys; warning: mode 0644: readable by group or others' <<<"$out" || return 1
    printf 'not a key\n' >"$OUT/bad.key" && chmod 600 "$OUT/bad.key"
    out=$("$BIN" check --key "$OUT/bad.key")
    [ $? = 1 ] && echo "$out" && grep -q '^FAIL key file: .*line 1 has 9 characters' <<<"$out"
}
check key-check key_check

# ---- check: the system's openssl and libssl ----
check_debian_libssl() {
    local out libssl
    out=$("$BIN" check) && echo "$out" || return 1
    libssl=$(ldd "$(command -v openssl)" | awk '$1 == "libssl.so.3" { print $3 }')
    grep -qF "ok   libssl: libssl.so.3 => $libssl (needed by the program itself)" <<<"$out" &&
        grep -q '^ok   libssl -Bsymbolic: no' <<<"$out" &&
        grep -q '^ok   libssl self-calls: SSL_CTX_flush_sessions through a dynamic relocation' <<<"$out" &&
        grep -qF "ok   library: $LIBDIR/libsesscache.so.0 (installed beside the command, soname libsesscache.so.0): loads" <<<"$out" &&
        grep -qx 'sesscache check: ok' <<<"$out"
}
check check-debian-libssl check_debian_libssl

# Stand-ins for libssl.so.3 linked three ways, each with a program that finds it by RUNPATH.
fake_libssl() {
    local how=$1 flags=$2
    mkdir -p "$OUT/fake-$how"
    # shellcheck disable=SC2086
    $CC -shared -fPIC -O1 -Wl,-soname,libssl.so.3 $flags -o "$OUT/fake-$how/libssl.so.3" tests-c/install/fake_libssl.c &&
        $CC -o "$OUT/fake-$how/program" tests-c/install/uses_fake_libssl.c -L"$OUT/fake-$how" -l:libssl.so.3 \
            -Wl,-rpath,"$OUT/fake-$how"
}
check_fake_libssls() {
    local out
    fake_libssl plain "" && fake_libssl symbolic -Wl,-Bsymbolic && fake_libssl functions -Wl,-Bsymbolic-functions || return 1
    out=$("$BIN" check "$OUT/fake-plain/program") && echo "$out" &&
        grep -qF "libssl.so.3 => $OUT/fake-plain/libssl.so.3" <<<"$out" && grep -q '^ok   libssl -Bsymbolic: no' <<<"$out" &&
        grep -q '^ok   libssl self-calls: .* through a dynamic relocation' <<<"$out" || return 1
    out=$("$BIN" check "$OUT/fake-symbolic/program") && echo "$out" && grep -q '^note libssl -Bsymbolic: yes' <<<"$out" || return 1
    out=$("$BIN" check "$OUT/fake-functions/program") && echo "$out" && grep -q '^ok   libssl -Bsymbolic: no' <<<"$out" &&
        grep -q '^note libssl self-calls: SSL_CTX_flush_sessions bound inside libssl' <<<"$out" || return 1
    # A set-user-ID program: the loader's secure mode ignores LD_PRELOAD paths.
    cp "$OUT/fake-plain/program" "$OUT/fake-plain/setuid-program" && chmod 4755 "$OUT/fake-plain/setuid-program" &&
        out=$("$BIN" check "$OUT/fake-plain/setuid-program") && echo "$out" &&
        grep -q '^note program: set-user-ID or set-group-ID: the loader ignores LD_PRELOAD' <<<"$out" &&
        ! "$BIN" check "$OUT/fake-plain/program" | grep -q set-user-ID
}
check check-bsymbolic-stand-ins check_fake_libssls

check_static() {
    local out
    $CC -o "$OUT/static-openssl" tests-c/install/uses_static_openssl.c \
        -Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -ldl -lpthread || return 1
    out=$("$BIN" check "$OUT/static-openssl")
    [ $? = 1 ] && echo "$out" && grep -q '^FAIL libssl: OpenSSL is linked in statically' <<<"$out" || return 1
    $CC -static -o "$OUT/static-program" -x c - <<<'int main(void) { return 0; }' || return 1
    out=$("$BIN" check "$OUT/static-program")
    [ $? = 1 ] && echo "$out" && grep -q '^FAIL program: .*statically linked' <<<"$out" || return 1
    out=$(SESSCACHE_LIB=$OUT/missing.so "$BIN" check)
    [ $? = 1 ] && echo "$out" && grep -q '^FAIL library: .*no such file' <<<"$out" || return 1
    out=$(SESSCACHE_LIB=$OUT/other.so "$BIN" check)
    [ $? = 1 ] && echo "$out" && grep -q '^FAIL library: .*not libsesscache' <<<"$out"
}
check check-what-cannot-be-helped check_static

# ---- uninstall ----
uninstall() {
    make -s uninstall PREFIX=$PREFIX DESTDIR="$D" || return 1
    local left
    left=$(installed_files)
    [ -z "$left" ] || { echo "left behind:"; echo "$left"; return 1; }
    [ ! -e "$D$PREFIX/include/sesscache" ] && [ ! -e "$D$PREFIX/share/doc/sesscache" ]
}
check uninstall uninstall

[ ${#failed_checks[@]} -eq 0 ] || echo "failed: ${failed_checks[*]}"
finish
