# nginx for the test runners (tests-c/nginx, tests-c/stats, tests-c/install), sourced (not run):
#   nginx_conf DIR PORT certs=DIR [daemon=on|off] [user=USER] [workers=N] [listen=WORDS] [vhosts="a.test b.test"]
#       writes DIR/nginx.conf: a master and N workers (default off, root, 1); TLS 1.2 with session
#       ids only (no tickets) and `ssl_session_cache builtin:1000`; for each vhost (default a.test;
#       the first is the default server) a server block on 127.0.0.1:PORT (WORDS appended to its
#       listen, e.g. reuseport) with the certificate CERTS/V.crt and CERTS/V.key (made by
#       self_signed_cert, runner.sh) that answers "vhost V"; the pid file, the error log (notice)
#       and every temp path inside DIR, so that nothing of the system's nginx is touched.
#   nginx_client PORT HOST SESS_ARGS...
#       one HTTPS request for HOST (SNI and Host:) over TLS 1.2 without a ticket, given
#       s_client's SESS_ARGS (-sess_out F, -sess_in F); prints New, Reused or Failed, followed by
#       -wrong-vhost when the answer is not HOST's.
nginx_conf() {
    local dir=$1 port=$2 daemon=off user=root workers=1 listen="" vhosts=a.test certs="" opt v
    shift 2
    for opt in "$@"; do
        case $opt in
        daemon=* | user=* | workers=* | listen=* | vhosts=* | certs=*) local "$opt" ;;
        *) echo "nginx_conf: unknown option $opt" >&2; return 2 ;;
        esac
    done
    [ -n "$certs" ] || { echo "nginx_conf: no certs=DIR" >&2; return 2; }
    mkdir -p "$dir" || return 1
    {
        cat <<CONF
daemon $daemon;
master_process on;
worker_processes $workers;
user $user;
pid $dir/nginx.pid;
error_log $dir/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    ssl_protocols TLSv1.2;
    ssl_session_tickets off;
    ssl_session_cache builtin:1000;
CONF
        for v in $vhosts; do
            cat <<CONF
    server {
        listen 127.0.0.1:$port ssl${listen:+ $listen};
        server_name $v;
        ssl_certificate $certs/$v.crt;
        ssl_certificate_key $certs/$v.key;
        location / { return 200 "vhost $v\n"; }
    }
CONF
        done
        echo "}"
    } >"$dir/nginx.conf"
}

nginx_client() {
    local port=$1 host=$2
    shift 2
    printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" |
        timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$host" -tls1_2 -no_ticket -ign_eof "$@" \
            2>&1 | awk -v want="vhost $host" '
            /^(New|Reused), / { kind = $1 }
            $0 == want { body = 1 }
            END { sub(",", "", kind); print (kind == "" ? "Failed" : kind) (body ? "" : "-wrong-vhost") }'
}
