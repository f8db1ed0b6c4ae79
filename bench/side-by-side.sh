#!/usr/bin/env bash
# Gatehouse side by side with nginx, measured in ONE run on this machine, reported as ratios (docs/benchmarks.md).
#   P1 bulk throughput: `gatehouse proxy app` (direct) → proxy → sink   vs   TLS client → nginx stream (ssl) → sink
#   P2 new mTLS connections/s: gatehouse-tcp handshake + dial frame     vs   nginx stream ssl_verify_client on + 1 byte echo
#   P3 `gatehouse proxy app` direct vs WebSocket tunnel vs raw tunnel through one nginx L7 front: set-up p50/p99, MB/s;
#      with P3_DELAY_MS also over a link with that one-way delay, pool on and off (bench/delayed-p3.sh)
#   P4 header-identity HTTP app requests/s: nginx as an ALB in mTLS passthrough → Gatehouse → app
#                                                                       vs   the same nginx front → nginx → app
#   P5 SSH set-up p50/p99 and scp throughput through Gatehouse (direct, WebSocket tunnel) vs straight to sshd
#      (bench/ssh-side-by-side.sh, run after the others)
#   P6 PostgreSQL pgbench -S TPS and connection set-up through Gatehouse (plain psql's way, proxy db) vs straight to the
#      server (bench/pg-side-by-side.sh, run after the others)
#   P7 MySQL (a real MariaDB) mariadb-slap queries/s through `gatehouse proxy db` vs straight to the server
#      (bench/mysql-side-by-side.sh, run after the others)
#   P8 memory per idle connection: IDLE_COUNT connections held open and idle, the growth of the processes' resident
#      memory (proxy; `proxy app`) divided by the count — gatehouse-tcp straight to the proxy, through `proxy app`
#      direct, and through `proxy app` in WebSocket tunnels (one tunnel per connection); with the CPU they use while
#      idle (pings), and whether every connection still works after the idle time. IDLE_COUNT=10000 works as it is:
#      the file-descriptor limit and nginx's connection limits are raised here to fit the count.
# Everything runs on free loopback ports in a temporary folder, certificates are made now, every process started
# here is stopped by PID on exit. Sizes and durations can be changed with the environment variables below;
# SCENARIOS picks which to measure (e.g. SCENARIOS=P4 bench/side-by-side.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

P1_BYTES=${P1_BYTES:-1073741824}   # 1 GiB per side
P2_SECONDS=${P2_SECONDS:-10}       # counted seconds per side (after a 2 s warm-up)
P2_CONCURRENCY=${P2_CONCURRENCY:-8}  # loops; a list (P2_CONCURRENCY="1 8 64") measures each, one pair of rows per value
P2_RESUME=${P2_RESUME:-0}          # 1: also new connections/s that resume a saved TLS session (openssl s_time, 1 loop)
P3_COUNT=${P3_COUNT:-200}          # sequential connections per route (after 10 not counted)
P3_BYTES=${P3_BYTES:-268435456}    # 256 MiB per route
P4_SECONDS=${P4_SECONDS:-10}       # counted seconds per side (after a 2 s warm-up)
P4_CONCURRENCY=${P4_CONCURRENCY:-8}  # kept-alive HTTPS connections to the front, one request at a time on each
P3_DELAY_MS=${P3_DELAY_MS:-}       # P3 again over a link with these one-way delays in ms (e.g. "5 20"; bench/delayed-p3.sh)
P3_DELAY_COUNT=${P3_DELAY_COUNT:-100}  # sequential connections per route and delay (after 10 not counted)
IDLE_COUNT=${IDLE_COUNT:-500}      # P8: idle connections held open per way
IDLE_SECONDS=${IDLE_SECONDS:-4}    # P8: seconds they are held idle while CPU is counted (pings every 30 s: raise it to see them)
IDLE_PARALLEL=${IDLE_PARALLEL:-8}  # P8: connections opened at a time
SCENARIOS=${SCENARIOS:-P1 P2 P3 P4 P8 P5 P6 P7}

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
for scenario in $SCENARIOS; do
  case $scenario in P1 | P2 | P3 | P4 | P5 | P6 | P7 | P8) ;; *) echo "side-by-side: SCENARIOS: '$scenario' is not one of P1 to P8" >&2; exit 2;; esac
done
# P8 holds IDLE_COUNT connections per way: the proxy and `proxy app` each hold two descriptors per connection (the
# connection in and the one on to the next hop), and so does nginx (one worker may take them all), plus about 400 of
# their own. Every process started here inherits this shell's limit; raising the hard limit needs root's
# CAP_SYS_RESOURCE, which some containers drop (then the largest count that fits is said).
if want P8; then
  fds=$((2 * IDLE_COUNT + 400))
  if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$fds" ]; then
    if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$fds" ] && ! ulimit -Hn "$fds" 2>/dev/null; then
      echo "side-by-side: IDLE_COUNT=$IDLE_COUNT needs $fds open files in one process; the hard limit is $(ulimit -Hn) and cannot be raised here (it needs CAP_SYS_RESOURCE: run as root, or raise it in /etc/security/limits.conf), so IDLE_COUNT=$((($(ulimit -Hn) - 400) / 2)) is the most this machine takes" >&2
      exit 2
    fi
    ulimit -Sn "$fds"
  fi
  read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
  if [ $((port_high - port_low)) -lt $((IDLE_COUNT + 2000)) ]; then
    echo "side-by-side: IDLE_COUNT=$IDLE_COUNT needs as many ephemeral ports to one address; net.ipv4.ip_local_port_range is $port_low-$port_high (widen it or lower IDLE_COUNT)" >&2; exit 2
  fi
fi
nginx_connections=$((IDLE_COUNT * 2 + 200)); [ "$nginx_connections" -ge 4096 ] || nginx_connections=4096
# P5 (SSH), P6 (PostgreSQL) and P7 (MySQL) have set-ups of their own: alone, each is its script; with others, they run
# after them.
own_only=1
for scenario in $SCENARIOS; do case $scenario in P5 | P6 | P7) ;; *) own_only=0;; esac; done
if [ "$own_only" = 1 ]; then
  for scenario in $SCENARIOS; do
    case $scenario in P5) bench/ssh-side-by-side.sh;; P6) bench/pg-side-by-side.sh;; P7) bench/mysql-side-by-side.sh;; esac
  done
  exit 0
fi

bench_name=side-by-side
# shellcheck source=bench/lib.sh
. bench/lib.sh

# --- 0. What it needs: nginx with the stream module (a separate Debian package), openssl. Installed only if missing.
missing=()
for pkg in nginx libnginx-mod-stream openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt-get)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # policy-rc.d keeps the package's own nginx service from starting on :80; this script starts its own.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    $sudo rm -f /usr/sbin/policy-rc.d
    fail "could not install ${missing[*]}; install them and run again."
  fi
  $sudo rm -f /usr/sbin/policy-rc.d
fi
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
[ -f "$stream_module" ] || fail "$stream_module is missing (package libnginx-mod-stream)."

# --- 1. Build the repository's own code in Release.
build_gatehouse
profile_env   # PROFILE=1: CPU profiles of the proxy in each measurement (bench/lib.sh)
loadgen() { dotnet "$lg_dll" "$@"; }

# --- 2. A folder for this run; every background process is recorded and stopped by PID on exit.
work=$(mktemp -d /tmp/gatehouse-side-by-side.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until a background process's log has a line matching $2 (the process must still run), with a deadline.
wait_for_line() {
  local pid=$1 pattern=$2 log=$3 deadline=$((SECONDS + ${4:-60}))
  until grep -q "$pattern" "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "process $pid ended before printing '$pattern' (its output is above)"; }
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; fail "no '$pattern' within the deadline (output above)"; }
    sleep 0.1
  done
}
# Prints the value of key $1 from a "k=v k=v" line $2.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

read -r gh_port sink_port ngx_bulk_port ngx_mtls_port ngx_l7_port app_direct_port app_ws_port app_raw_port \
  alb_gh_port alb_ngx_port middle_port page_port ngx_resume_port app_wsoff_port app_rawoff_port <<<"$(loadgen free-ports --count 15)"

# --- 3. The sink (the TCP app behind everything).
start_bg sink dotnet "$lg_dll" sink --port "$sink_port"; sink_pid=$last_pid
wait_for_line "$sink_pid" "sink listening" "$work/sink.log"

# --- 4. Gatehouse: a new cluster with one TCP app and one HTTP app (P4's page), a role that may reach them, a user
# certificate, and the nginx front of P4 as a trusted front (ALB passthrough format, with a shared secret header).
cluster=$work/cluster
mkdir -p "$cluster"
front_secret=$(openssl rand -hex 16)
export GH_FRONT_SECRET=$front_secret   # every gatehouse command reads the configuration
cat >"$cluster/gatehouse.yaml" <<EOF
cluster_name: bench
data_dir: data
proxy:
  listen: 127.0.0.1:$gh_port
  public_addr: [127.0.0.1]
  trusted_fronts:
    - name: nginx-alb
      format: aws-alb-passthrough
      source_cidrs: [127.0.0.1/32]
      shared_secret_header: { name: X-Gatehouse-Front-Secret, value_env: GH_FRONT_SECRET }
resources:
  tcp_apps:
    - name: sink
      addr: 127.0.0.1:$sink_port
      labels: { env: bench }
  http_apps:
    - name: page
      uri: http://127.0.0.1:$page_port
      labels: { env: bench }
EOF
cat >"$cluster/bench-role.yaml" <<'EOF'
kind: role
name: bench
allow:
  app_labels: { env: bench }
EOF
gh_admin() { quiet bash -c 'cd "$1" && shift && exec dotnet "$@"' _ "$cluster" "$gh_dll" "$@" --config "$cluster/gatehouse.yaml"; }
start_bg gatehouse bash -c "cd '$cluster' && exec dotnet '$gh_dll' start --config '$cluster/gatehouse.yaml'"; gh_pid=$last_pid
wait_for_line "$gh_pid" "Proxy listening on" "$work/gatehouse.log" 90
gh_admin admin roles apply "$cluster/bench-role.yaml"
gh_admin admin certs issue --user bench --roles bench --ttl 2h --out "$work/identity"
gh_admin admin ca export --kind host --out "$work/host-ca.pem"
gh_admin admin ca export --kind user --out "$work/user-ca.pem"

# --- 5. nginx: its own CA and server certificate (EC P-256, like Gatehouse's host certificate), made now.
certs=$work/nginx-certs
mkdir -p "$certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 -subj "/O=Bench/CN=Bench Balancer CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:nginx.bench\n' >"$certs/server.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial -sha256 -days 2 \
  -extfile "$certs/server.ext" -out "$certs/server.pem" 2>/dev/null

ngx=$work/nginx
mkdir -p "$ngx" "$ngx/www"
user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"   # as root, workers would switch to nobody (no access to $work)
# P4's app: a static 1 KiB page served by nginx (in the front's process; the middle hop is what is compared).
{ printf '<!doctype html><title>bench</title>\n'; head -c 1024 /dev/zero | tr '\0' 'x' | fold -w 64; } | head -c 1024 >"$ngx/www/index.html"
# P4's front, the same for both sides but for the upstream: nginx as an ALB in passthrough mode (asks for a client
# certificate, verifies nothing, sends it URL-encoded in X-Amzn-Mtls-Clientcert, as HttpAppsCluster in the tests),
# HTTPS with kept-alive connections both to the client and upstream. keepalive_requests is raised everywhere: at the
# default (1000) every connection would be replaced every 1000 requests and handshakes would creep into the numbers.
p4_front() {
  local port=$1 upstream=$2 upstream_tls=$3
  cat <<EOF
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate     $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        ssl_verify_client   optional_no_ca;
        ssl_verify_depth    4;
        keepalive_requests  1000000;
        location / {
            proxy_pass https://$upstream;
            $upstream_tls
            proxy_ssl_verify on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Amzn-Mtls-Clientcert \$ssl_client_escaped_cert;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Gatehouse-Front-Secret "$front_secret";
        }
    }
EOF
}
cat >"$ngx/nginx.conf" <<EOF
$user_line
load_module $stream_module;
worker_processes auto;
worker_rlimit_nofile $(ulimit -Sn | sed s/unlimited/1048576/);
events { worker_connections $nginx_connections; }
stream {
    # P1: nginx terminates TLS and passes the bytes to the sink (no ssl_preread: nothing is peeked, TLS ends here).
    server {
        listen 127.0.0.1:$ngx_bulk_port ssl;
        ssl_certificate     $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        proxy_pass 127.0.0.1:$sink_port;
    }
    # P2: mutual TLS against Gatehouse's user CA; full handshakes only (the client does not resume either).
    server {
        listen 127.0.0.1:$ngx_mtls_port ssl backlog=4096;
        ssl_certificate        $certs/server.pem;
        ssl_certificate_key    $certs/server.key;
        ssl_client_certificate $work/user-ca.pem;
        ssl_verify_client      on;
        ssl_session_cache      off;
        ssl_session_tickets    off;
        proxy_pass 127.0.0.1:$sink_port;
    }
    # P2 with resumption (P2_RESUME=1): the same, with nginx's session cache and tickets on.
    server {
        listen 127.0.0.1:$ngx_resume_port ssl backlog=4096;
        ssl_certificate        $certs/server.pem;
        ssl_certificate_key    $certs/server.key;
        ssl_client_certificate $work/user-ca.pem;
        ssl_verify_client      on;
        ssl_session_cache      shared:bench:10m;
        ssl_session_tickets    on;
        proxy_pass 127.0.0.1:$sink_port;
    }
}
http {
    access_log off;
    client_body_temp_path $ngx/client_body_temp;
    proxy_temp_path $ngx/proxy_temp;
    fastcgi_temp_path $ngx/fastcgi_temp;
    uwsgi_temp_path $ngx/uwsgi_temp;
    scgi_temp_path $ngx/scgi_temp;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    # P3: a layer-7 front (TLS + HTTP) passing WebSocket and raw upgrades on /v1/tunnel to Gatehouse.
    server {
        listen 127.0.0.1:$ngx_l7_port ssl;
        ssl_certificate     $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        location / {
            proxy_pass https://127.0.0.1:$gh_port;
            proxy_ssl_trusted_certificate $work/host-ca.pem;
            proxy_ssl_verify on;
            proxy_ssl_name gatehouse.internal;   # every host certificate carries this name
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
    # P4: the app, and the two fronts (to Gatehouse; to the middle nginx).
    server {
        listen 127.0.0.1:$page_port;
        keepalive_requests 1000000;
        root $ngx/www;
    }
    upstream p4_gatehouse { server 127.0.0.1:$gh_port; keepalive 32; keepalive_requests 1000000; }
    upstream p4_middle { server 127.0.0.1:$middle_port; keepalive 32; keepalive_requests 1000000; }
$(p4_front "$alb_gh_port" p4_gatehouse "proxy_ssl_trusted_certificate $work/host-ca.pem; proxy_ssl_name gatehouse.internal;")
$(p4_front "$alb_ngx_port" p4_middle "proxy_ssl_trusted_certificate $certs/ca.pem; proxy_ssl_name nginx.bench;")
}
EOF
# P4's baseline middle hop: a second nginx (its own process, so its CPU can be told apart) in Gatehouse's place,
# TLS like Gatehouse's port, passing /apps/page/ to the app over kept-alive HTTP, as Gatehouse does with the prefix.
middle=$work/nginx-middle
mkdir -p "$middle"
cat >"$middle/nginx.conf" <<EOF
$user_line
worker_processes auto;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $middle/client_body_temp;
    proxy_temp_path $middle/proxy_temp;
    fastcgi_temp_path $middle/fastcgi_temp;
    uwsgi_temp_path $middle/uwsgi_temp;
    scgi_temp_path $middle/scgi_temp;
    upstream page { server 127.0.0.1:$page_port; keepalive 32; keepalive_requests 1000000; }
    server {
        listen 127.0.0.1:$middle_port ssl;
        ssl_certificate     $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        keepalive_requests  1000000;
        location /apps/page/ {
            proxy_pass http://page/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
start_bg nginx nginx -p "$ngx" -c "$ngx/nginx.conf" -e stderr -g "daemon off; error_log stderr warn; pid $ngx/nginx.pid;"; nginx_pid=$last_pid
start_bg nginx-middle nginx -p "$middle" -c "$middle/nginx.conf" -e stderr -g "daemon off; error_log stderr warn; pid $middle/nginx.pid;"
middle_pid=$last_pid
for port in "$ngx_bulk_port" "$ngx_mtls_port" "$ngx_l7_port" "$page_port" "$alb_gh_port" "$alb_ngx_port" "$middle_port"; do
  wait_for_port "$port"
done

# --- 6. The client machine: one profile for the proxy itself, one for the nginx front (P1 and P3 only; P2 and P4
# present the issued certificate from the load generator).
export GATEHOUSE_HOME=$work/home
if want P1 || want P3 || want P8; then
  quiet dotnet "$gh_dll" login --proxy "127.0.0.1:$gh_port" --identity "$work/identity" --ca "$work/host-ca.pem"
  # The front shows its own certificate (from the balancer CA, made above), which the client must trust as a public one:
  # SSL_CERT_FILE makes it the machine's trust store for these processes. `login --ca` cannot be used: it wants the
  # front's certificate to chain to the host CA, and without --ca the profile gets no host CA for the inner TLS, so the
  # host CA is put into the profile by hand (docs/benchmarks.md, "Noticed").
  quiet env SSL_CERT_FILE="$certs/ca.pem" dotnet "$gh_dll" login --proxy "127.0.0.1:$ngx_l7_port" --identity "$work/identity"
  cp "$work/host-ca.pem" "$GATEHOUSE_HOME/127.0.0.1_$ngx_l7_port/host-ca.pem"

  start_bg app-direct env GATEHOUSE_TUNNEL=never dotnet "$gh_dll" proxy app sink --proxy "127.0.0.1:$gh_port" --port "$app_direct_port"
  app_direct_pid=$last_pid
  wait_for_line "$last_pid" "Forwarding 127.0.0.1" "$work/app-direct.log"
fi
if want P3 || want P8; then
  start_bg app-ws env GATEHOUSE_TUNNEL=always GATEHOUSE_TUNNEL_MODE=websocket GATEHOUSE_TUNNEL_POOL=on SSL_CERT_FILE="$certs/ca.pem" \
    dotnet "$gh_dll" proxy app sink --proxy "127.0.0.1:$ngx_l7_port" --port "$app_ws_port"
  app_ws_pid=$last_pid
  wait_for_line "$last_pid" "Forwarding 127.0.0.1" "$work/app-ws.log"
  start_bg app-raw env GATEHOUSE_TUNNEL=always GATEHOUSE_TUNNEL_MODE=raw GATEHOUSE_TUNNEL_POOL=on SSL_CERT_FILE="$certs/ca.pem" \
    dotnet "$gh_dll" proxy app sink --proxy "127.0.0.1:$ngx_l7_port" --port "$app_raw_port"
  app_raw_pid=$last_pid
  wait_for_line "$last_pid" "Forwarding 127.0.0.1" "$work/app-raw.log"
fi
# P3 with the tunnel pool off (the default; the ws/raw ways above turn it on): every connection opens its own tunnel.
if want P3; then
  for mode in websocket raw; do
    name=wsoff; [ "$mode" = raw ] && name=rawoff
    port_var=app_${name}_port
    start_bg "app-$name" env GATEHOUSE_TUNNEL=always GATEHOUSE_TUNNEL_MODE=$mode GATEHOUSE_TUNNEL_POOL=off SSL_CERT_FILE="$certs/ca.pem" \
      dotnet "$gh_dll" proxy app sink --proxy "127.0.0.1:$ngx_l7_port" --port "${!port_var}"
    printf -v "app_${name}_pid" %s "$last_pid"
    wait_for_line "$last_pid" "Forwarding 127.0.0.1" "$work/app-$name.log"
  done
fi

# --- 7. Measure. Each line comes from the load generator; a failed measurement stops the run (no made-up numbers).
measure() {
  local what=$1; shift
  local out
  say "$what"
  if ! out=$(loadgen "$@" 2>"$work/loadgen.err"); then
    cat "$work/loadgen.err" >&2
    fail "$what failed (above); logs of the proxy, nginx and the local proxies are in $work (KEEP_WORK=1 keeps them)"
  fi
  [ -s "$work/loadgen.err" ] && sed 's/^/  /' "$work/loadgen.err" >&2
  echo "$out"
}
# Warm-up, not counted: 64 MiB through each bulk path (JIT tiering of the proxy, proxy app, sink; nginx's first use).
warmups=()
{ want P1 || want P3 || want P8; } && warmups+=("--port $app_direct_port")
want P1 && warmups+=("--port $ngx_bulk_port --tls-host nginx.bench")
{ want P3 || want P8; } && warmups+=("--port $app_ws_port")
want P3 && warmups+=("--port $app_raw_port" "--port $app_wsoff_port" "--port $app_rawoff_port")
for args in "${warmups[@]}"; do
  # shellcheck disable=SC2086 # the arguments are split on purpose
  measure "warm-up ($args)" bulk $args --bytes 67108864 >/dev/null
done
# Server-side CPU (user + system seconds from /proc) around each P1/P2 measurement: a second view that depends less
# on what else the machine is doing than MB/s does. Gatehouse = the proxy (and `proxy app` apart); nginx = its workers.
nginx_workers=$(pgrep -P "$nginx_pid" | tr '\n' ' ')
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per() { awk -v a="$1" -v b="$2" -v k="$3" -v d="${4:-2}" 'BEGIN { if (b > 0) printf "%.*f", d, a * k / b; else print "n/a" }'; }

if want P1; then
  cpu0=$(cpu_seconds "$gh_pid"); app_cpu0=$(cpu_seconds "$app_direct_pid")
  profile_start P1-proxy-app "$app_direct_pid"
  p1_gh=$(measure "P1 Gatehouse: $P1_BYTES bytes through proxy app (direct)" bulk --port "$app_direct_port" --bytes "$P1_BYTES")
  profile_stop
  p1_gh_cpu=$(minus "$(cpu_seconds "$gh_pid")" "$cpu0"); p1_app_cpu=$(minus "$(cpu_seconds "$app_direct_pid")" "$app_cpu0")
  profile_start P1b-proxy "$gh_pid"
  p1_gh_alone=$(measure "P1 Gatehouse proxy alone: $P1_BYTES bytes, the load generator dialling gatehouse-tcp itself" \
    bulk --port "$gh_port" --bytes "$P1_BYTES" --dial sink --cert "$work/identity/cert.pem" --key "$work/identity/key.pem")
  profile_stop
  cpu0=$(cpu_seconds $nginx_workers)
  p1_ngx=$(measure "P1 nginx: $P1_BYTES bytes over TLS to nginx stream" bulk --port "$ngx_bulk_port" --bytes "$P1_BYTES" --tls-host nginx.bench)
  p1_ngx_cpu=$(minus "$(cpu_seconds $nginx_workers)" "$cpu0")
fi
declare -A p2_gh p2_ngx p2_gh_cpu p2_ngx_cpu
for loops in $P2_CONCURRENCY; do
  want P2 || break
  p2_args=(--cert "$work/identity/cert.pem" --key "$work/identity/key.pem" --concurrency "$loops")
  # Warm-up, not counted and outside the CPU counts: a profile of the counted window with only the load generator's own
  # 2 s before it showed a third of the proxy's CPU in the runtime's background JIT (tier-1 compilation of the
  # handshake path), a one-off that nginx does not have; 5 s a side.
  measure "P2 warm-up (Gatehouse)" handshakes --port "$gh_port" --mode gatehouse "${p2_args[@]}" --seconds 5 >/dev/null
  measure "P2 warm-up (nginx)" handshakes --port "$ngx_mtls_port" --mode tls "${p2_args[@]}" --seconds 5 >/dev/null
  p2_args+=(--seconds "$P2_SECONDS")
  cpu0=$(cpu_seconds "$gh_pid")
  profile_start "P2-proxy-$loops" "$gh_pid"
  p2_gh[$loops]=$(measure "P2 Gatehouse: gatehouse-tcp handshakes + dial, ${P2_SECONDS}s x $loops loops" handshakes --port "$gh_port" --mode gatehouse "${p2_args[@]}")
  profile_stop
  p2_gh_cpu[$loops]=$(minus "$(cpu_seconds "$gh_pid")" "$cpu0")
  cpu0=$(cpu_seconds $nginx_workers)
  p2_ngx[$loops]=$(measure "P2 nginx: mTLS handshakes + 1-byte echo, ${P2_SECONDS}s x $loops loops" handshakes --port "$ngx_mtls_port" --mode tls "${p2_args[@]}")
  p2_ngx_cpu[$loops]=$(minus "$(cpu_seconds $nginx_workers)" "$cpu0")
done
# P2 with resumption: the .NET client (the load generator, and Gatehouse's own client) never offers a session when it
# presents a client certificate, so openssl s_time is the client: -new (full handshakes) and -reuse (every connection
# resumes the first one's session), one loop, no ALPN, TLS 1.2 (s_time never reads, so it never receives a TLS 1.3
# ticket and would not resume at all: its markers, r for resumed and * for new, are counted and printed) (the proxy's HTTPS side, the same SslStream and host certificate
# context as gatehouse-*); nginx on a port with its session cache and tickets on. Server CPU per connection from /proc.
declare -A p2r_rate p2r_cpu p2r_resumed
p2_s_time() { # PORT MODE SERVER-PIDS... -> "connections_per_second cpu_ms_per_connection resumed_percent"
  local port=$1 mode=$2; shift 2
  local c0 out n real; c0=$(cpu_seconds "$@")
  out=$(openssl s_time -tls1_2 -connect "127.0.0.1:$port" -cert "$work/identity/cert.pem" -key "$work/identity/key.pem" "-$mode" -time "$P2_SECONDS" 2>&1) ||
    fail "openssl s_time -$mode on port $port failed: $out"
  read -r n real <<<"$(echo "$out" | sed -n 's/^\([0-9]*\) connections in \([0-9.]*\) real seconds.*/\1 \2/p' | tail -n 1)"
  local cpu resumed; cpu=$(minus "$(cpu_seconds "$@")" "$c0")
  resumed=$(echo "$out" | grep -E '^[r*]+$' | tr -cd 'r' | wc -c)
  echo "$(per "${n:-0}" "${real:-0}" 1 1) $(per "$cpu" "${n:-0}" 1000) $(per "$resumed" "${n:-0}" 100 0)"
}
if want P2 && [ "$P2_RESUME" = 1 ]; then
  for mode in new reuse; do
    echo "side-by-side: P2 resumption, openssl s_time -$mode, ${P2_SECONDS}s (Gatehouse; nginx)" >&2
    read -r rate cpu resumed <<<"$(p2_s_time "$gh_port" "$mode" "$gh_pid")"; p2r_rate[gh_$mode]=$rate; p2r_cpu[gh_$mode]=$cpu; p2r_resumed[gh_$mode]=$resumed
    read -r rate cpu resumed <<<"$(p2_s_time "$ngx_resume_port" "$mode" $nginx_workers)"; p2r_rate[ngx_$mode]=$rate; p2r_cpu[ngx_$mode]=$cpu; p2r_resumed[ngx_$mode]=$resumed
  done
fi
declare -A lat bulk lat_cpu bulk_gh_cpu bulk_app_cpu bulk_calls
if want P3; then
  # Bulk with the CPU of the proxy and of that route's `proxy app` apart (CPU s per GB: steadier than MB/s on a
  # shared machine), and with PROFILE=1 one profile of both processes, summarised per process. Before the set-up runs:
  # measured after them, the first bulk window (direct) had the proxy's JIT compiling the handshake code those runs
  # had just used (libclrjit about 30% of its samples), which made direct look dearer than the tunnels.
  for route in direct ws raw; do
    port_var=app_${route}_port; pid_var=app_${route}_pid
    cpu0=$(cpu_seconds "$gh_pid"); app_cpu0=$(cpu_seconds "${!pid_var}")
    profile_start "P3-$route-proxy" "$gh_pid" -- "P3-$route-proxy-app" "${!pid_var}"
    syscalls_start "P3-$route" "$gh_pid" "${!pid_var}"
    bulk[$route]=$(measure "P3 $route: $P3_BYTES bytes" bulk --port "${!port_var}" --bytes "$P3_BYTES")
    syscalls_stop
    profile_stop
    [ "${PROFILE:-0}" = 1 ] && bulk_calls[$route]="proxy $(syscalls_per_mib "$gh_pid" "$P3_BYTES"); \`proxy app\` $(syscalls_per_mib "${!pid_var}" "$P3_BYTES")"
    bulk_gh_cpu[$route]=$(minus "$(cpu_seconds "$gh_pid")" "$cpu0"); bulk_app_cpu[$route]=$(minus "$(cpu_seconds "${!pid_var}")" "$app_cpu0")
  done
  # Set-up with the pool on and off alternated (ws, wsoff, raw, rawoff), each with the CPU of everything on the path
  # (the proxy, that route's `proxy app`, nginx's workers) over its connections.
  for route in direct ws wsoff raw rawoff; do
    port_var=app_${route}_port; pid_var=app_${route}_pid
    cpu0=$(cpu_seconds "$gh_pid" "${!pid_var}" $nginx_workers)
    lat[$route]=$(measure "P3 $route: $P3_COUNT sequential connections" latency --port "${!port_var}" --count "$P3_COUNT")
    lat_cpu[$route]=$(minus "$(cpu_seconds "$gh_pid" "${!pid_var}" $nginx_workers)" "$cpu0")
  done
fi
if want P3 && [ -n "$P3_DELAY_MS" ]; then
  # shellcheck source=bench/delayed-p3.sh
  . bench/delayed-p3.sh
  for ms in $P3_DELAY_MS; do p3_delayed "$ms"; done
fi
# P4: the same client (the issued certificate, kept-alive HTTPS) against the two fronts; CPU of the middle hop (the
# Gatehouse proxy; the middle nginx's workers) and of the front + app nginx (the same work on both sides).
if want P4; then
  middle_workers=$(pgrep -P "$middle_pid" | tr '\n' ' ')
  p4_args=(--cert "$work/identity/cert.pem" --key "$work/identity/key.pem" --concurrency "$P4_CONCURRENCY")
  # Warm-up, not counted and outside the CPU counts: the app path's first use (JIT in the proxy, nginx's first
  # upstream connections), 3 s a side.
  for port in "$alb_gh_port" "$alb_ngx_port"; do
    measure "P4 warm-up (front on $port)" requests --url "https://127.0.0.1:$port/apps/page/" "${p4_args[@]}" --seconds 3 >/dev/null
  done
  p4_args+=(--seconds "$P4_SECONDS")
  cpu0=$(cpu_seconds "$gh_pid"); front_cpu0=$(cpu_seconds $nginx_workers)
  profile_start P4-proxy "$gh_pid"
  p4_gh=$(measure "P4 Gatehouse: GET /apps/page/ via the ALB-style front, ${P4_SECONDS}s x $P4_CONCURRENCY connections" \
    requests --url "https://127.0.0.1:$alb_gh_port/apps/page/" "${p4_args[@]}")
  profile_stop
  p4_gh_cpu=$(minus "$(cpu_seconds "$gh_pid")" "$cpu0"); p4_gh_front_cpu=$(minus "$(cpu_seconds $nginx_workers)" "$front_cpu0")
  cpu0=$(cpu_seconds $middle_workers); front_cpu0=$(cpu_seconds $nginx_workers)
  p4_ngx=$(measure "P4 nginx: GET /apps/page/ via the same front and a middle nginx, ${P4_SECONDS}s x $P4_CONCURRENCY connections" \
    requests --url "https://127.0.0.1:$alb_ngx_port/apps/page/" "${p4_args[@]}")
  p4_ngx_cpu=$(minus "$(cpu_seconds $middle_workers)" "$cpu0"); p4_ngx_front_cpu=$(minus "$(cpu_seconds $nginx_workers)" "$front_cpu0")
fi

# P8: memory per idle connection. The load generator opens IDLE_COUNT connections (IDLE_PARALLEL at a time; each echoes
# one byte, so the whole path is up), prints open=N and holds them; the resident memory of the proxy, of `proxy app` and
# of nginx's workers is read before and once they are all open; then they stay idle for IDLE_SECONDS while the CPU of
# those processes is counted (what pings and timers cost), then one more byte goes through every connection (alive=N
# failed=M), then they close.
declare -A idle_gh idle_app idle_total idle_cpu idle_alive
if want P8; then
  rss_kib() { local pid sum=0; for pid in "$@"; do sum=$((sum + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"))); done; echo "$sum"; }
  idle_way() {
    local way=$1 port=$2 app_pid=$3; shift 3
    local fifo=$work/idle.fifo out=$work/idle-$way.out idle_pid gh0 app0=0 c0 line app_pids=() ngx_pids=()
    [ "$app_pid" = - ] || app_pids=("$app_pid")
    [ "$way" = ws ] && read -r -a ngx_pids <<<"$nginx_workers"
    say "P8 $way: $IDLE_COUNT idle connections, $IDLE_PARALLEL at a time"
    rm -f "$fifo"; mkfifo "$fifo"
    gh0=$(rss_kib "$gh_pid"); [ "$app_pid" = - ] || app0=$(rss_kib "$app_pid")
    loadgen idle --port "$port" --count "$IDLE_COUNT" --parallel "$IDLE_PARALLEL" "$@" <"$fifo" >"$out" 2>"$work/idle.err" &
    idle_pid=$!
    exec 7>"$fifo"   # the load generator's standard input stays open until this is closed
    wait_for_line "$idle_pid" "open=" "$out" $((300 + IDLE_COUNT / 5))
    idle_gh[$way]=$(( $(rss_kib "$gh_pid") - gh0 ))
    [ "$app_pid" = - ] || idle_app[$way]=$(( $(rss_kib "$app_pid") - app0 ))
    idle_total[$way]="$(rss_kib "$gh_pid") $(rss_kib "${app_pids[@]}") $(rss_kib "${ngx_pids[@]}")"
    c0="$(cpu_seconds "$gh_pid") $(cpu_seconds "${app_pids[@]}") $(cpu_seconds "${ngx_pids[@]}")"
    sleep "$IDLE_SECONDS"   # the measurement itself: a window of idle time, not a wait for an event
    read -r -a c0 <<<"$c0"
    idle_cpu[$way]="$(minus "$(cpu_seconds "$gh_pid")" "${c0[0]}") $(minus "$(cpu_seconds "${app_pids[@]}")" "${c0[1]}") $(minus "$(cpu_seconds "${ngx_pids[@]}")" "${c0[2]}")"
    echo check >&7
    wait_for_line "$idle_pid" "alive=" "$out" $((120 + IDLE_COUNT / 20))
    line=$(grep "alive=" "$out")
    idle_alive[$way]="$(field alive "$line") of $IDLE_COUNT"
    [ "$(field failed "$line")" = 0 ] || say "P8 $way: $(field failed "$line") connection(s) no longer echoed after the idle time"
    exec 7>&-
    wait "$idle_pid" || { cat "$work/idle.err" >&2; fail "P8 $way failed (above)"; }
  }
  idle_way tcp "$gh_port" - --dial sink --cert "$work/identity/cert.pem" --key "$work/identity/key.pem"
  idle_way app "$app_direct_port" "$app_direct_pid"
  idle_way ws "$app_ws_port" "$app_ws_pid"
fi

# --- 8. Report.
mib() { awk -v b="$1" 'BEGIN { printf "%g MiB", b / 1048576 }'; }
elapsed=$(( $(date +%s) - started ))
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
cat <<EOF

## Gatehouse side by side ($(date -u '+%Y-%m-%d %H:%M UTC'))

Machine: $(nproc) cores, ${cpu:-unknown CPU}, $(uname -sr); .NET $(dotnet --version), $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d' ' -f1-2).
Load average before the run: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg). Client, servers and sink share this machine (loopback).

| | Gatehouse | nginx | Gatehouse / nginx |
|---|---:|---:|---:|
EOF
if want P1; then cat <<EOF
| P1 bulk MB/s ($(mib "$P1_BYTES"), 1 connection) | $(field mb_per_s "$p1_gh") | $(field mb_per_s "$p1_ngx") | $(ratio "$(field mb_per_s "$p1_gh")" "$(field mb_per_s "$p1_ngx")") |
| P1b, not a side: the proxy alone (no \`proxy app\`; the load generator dials gatehouse-tcp) | $(field mb_per_s "$p1_gh_alone") | | $(ratio "$(field mb_per_s "$p1_gh_alone")" "$(field mb_per_s "$p1_ngx")") |
EOF
fi
if want P2; then for loops in $P2_CONCURRENCY; do cat <<EOF
| P2 new mTLS connections/s ($loops loop(s), ${P2_SECONDS} s) | $(field per_s "${p2_gh[$loops]}") | $(field per_s "${p2_ngx[$loops]}") | $(ratio "$(field per_s "${p2_gh[$loops]}")" "$(field per_s "${p2_ngx[$loops]}")") |
EOF
done; fi
if want P1; then cat <<EOF
| P1 CPU s per GB, the TLS-terminating server (Gatehouse proxy; nginx workers) | $(per "$p1_gh_cpu" "$P1_BYTES" 1e9) | $(per "$p1_ngx_cpu" "$P1_BYTES" 1e9) | $(ratio "$(per "$p1_gh_cpu" "$P1_BYTES" 1e9)" "$(per "$p1_ngx_cpu" "$P1_BYTES" 1e9)") |
| P1b CPU s per GB in \`proxy app\` (the client-side TLS, done by the load generator for nginx) | $(per "$p1_app_cpu" "$P1_BYTES" 1e9) | | |
EOF
fi
if want P2; then for loops in $P2_CONCURRENCY; do
  gh_ms=$(per "${p2_gh_cpu[$loops]}" "$(field all_connections "${p2_gh[$loops]}")" 1000)
  ngx_ms=$(per "${p2_ngx_cpu[$loops]}" "$(field all_connections "${p2_ngx[$loops]}")" 1000)
  echo "| P2 CPU ms per connection, the server (Gatehouse proxy; nginx workers; $loops loop(s)) | $gh_ms | $ngx_ms | $(ratio "$gh_ms" "$ngx_ms") |"
done; fi
if want P2 && [ "$P2_RESUME" = 1 ]; then for mode in new reuse; do
  case $mode in new) name="full handshakes";; reuse) name="every connection resumes a saved session";; esac
  echo "| P2r openssl s_time, TLS 1.2, $name: connections/s (1 loop, ${P2_SECONDS} s; the proxy's HTTPS side) | ${p2r_rate[gh_$mode]} | ${p2r_rate[ngx_$mode]} | $(ratio "${p2r_rate[gh_$mode]}" "${p2r_rate[ngx_$mode]}") |"
  echo "| P2r $name: server CPU ms per connection (resumed: ${p2r_resumed[gh_$mode]}%; ${p2r_resumed[ngx_$mode]}%) | ${p2r_cpu[gh_$mode]} | ${p2r_cpu[ngx_$mode]} | $(ratio "${p2r_cpu[gh_$mode]}" "${p2r_cpu[ngx_$mode]}") |"
done; fi
if want P4; then
  p4_gh_n=$(field all_requests "$p4_gh"); p4_ngx_n=$(field all_requests "$p4_ngx")
  cat <<EOF
| P4 header-identity HTTP app requests/s (nginx ALB-style front → Gatehouse / nginx → app; $P4_CONCURRENCY kept-alive connections, ${P4_SECONDS} s) | $(field per_s "$p4_gh") | $(field per_s "$p4_ngx") | $(ratio "$(field per_s "$p4_gh")" "$(field per_s "$p4_ngx")") |
| P4 CPU s per 1000 requests, the middle hop (Gatehouse proxy; middle nginx workers) | $(per "$p4_gh_cpu" "$p4_gh_n" 1000 3) | $(per "$p4_ngx_cpu" "$p4_ngx_n" 1000 3) | $(ratio "$(per "$p4_gh_cpu" "$p4_gh_n" 1000 3)" "$(per "$p4_ngx_cpu" "$p4_ngx_n" 1000 3)") |
| P4 CPU s per 1000 requests, the front and app nginx (the same configuration on both sides) | $(per "$p4_gh_front_cpu" "$p4_gh_n" 1000 3) | $(per "$p4_ngx_front_cpu" "$p4_ngx_n" 1000 3) | |
EOF
fi
if want P3; then
  cat <<EOF

| P3 via \`gatehouse proxy app\` | set-up p50 ms | set-up p99 ms | bulk MB/s ($(mib "$P3_BYTES")) | p50 / direct | p99 / direct | MB/s / direct | set-up CPU ms per connection |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
  for route in direct ws wsoff raw rawoff; do
    case $route in direct) name="direct (TLS to the proxy)";; ws) name="WebSocket tunnel via nginx L7, pool on";; raw) name="raw-upgrade tunnel via nginx L7, pool on";;
      wsoff) name="WebSocket tunnel, pool off";; rawoff) name="raw-upgrade tunnel, pool off";; esac
    p50=$(field p50_ms "${lat[$route]}"); p99=$(field p99_ms "${lat[$route]}"); mbs=$(field mb_per_s "${bulk[$route]:-}")
    mbs_ratio=""; [ -n "$mbs" ] && mbs_ratio=$(ratio "$mbs" "$(field mb_per_s "${bulk[direct]}")")
    echo "| $name | $p50 | $p99 | $mbs | $(ratio "$p50" "$(field p50_ms "${lat[direct]}")") | $(ratio "$p99" "$(field p99_ms "${lat[direct]}")") | $mbs_ratio | $(per "${lat_cpu[$route]}" "$P3_COUNT" 1000 2) |"
  done
  cat <<EOF

| P3 bulk, CPU s per GB ($(mib "$P3_BYTES")) | proxy | \`proxy app\` | socket calls per MiB (PROFILE=1) |
|---|---:|---:|---|
EOF
  for route in direct ws raw; do
    echo "| $route | $(per "${bulk_gh_cpu[$route]}" "$P3_BYTES" 1073741824 2) | $(per "${bulk_app_cpu[$route]}" "$P3_BYTES" 1073741824 2) | ${bulk_calls[$route]:-} |"
  done
fi
if want P3 && [ -n "$P3_DELAY_MS" ]; then p3_delayed_report; fi
if want P8; then
  kib() { awk -v k="$1" -v n="$IDLE_COUNT" 'BEGIN { printf "%.1f", k / n }'; }
  mibs() { awk -v k="$1" 'BEGIN { if (k > 0) printf "%.0f", k / 1024 }'; }
  core() { awk -v c="$1" -v s="$IDLE_SECONDS" 'BEGIN { if (c != "" && s > 0) printf "%.1f%%", 100 * c / s }'; }
  cat <<EOF

| P8 idle connections ($IDLE_COUNT held open, ${IDLE_SECONDS} s idle) | proxy KiB per connection | \`proxy app\` KiB per connection | resident MiB: proxy; \`proxy app\`; nginx workers | CPU while idle, % of one core: proxy; \`proxy app\`; nginx | still echo at the end |
|---|---:|---:|---:|---:|---:|
EOF
  for way in tcp app ws; do
    case $way in tcp) name="gatehouse-tcp straight to the proxy";; app) name="through \`proxy app\`, direct";;
      ws) name="through \`proxy app\`, one WebSocket tunnel via nginx each";; esac
    read -r t_gh t_app t_ngx <<<"${idle_total[$way]}"; read -r c_gh c_app c_ngx <<<"${idle_cpu[$way]}"
    app_kib=""; [ "$way" = tcp ] || app_kib=$(kib "${idle_app[$way]}")
    [ "$way" = ws ] || c_ngx=""
    [ "$way" != tcp ] || c_app=""
    echo "| $name | $(kib "${idle_gh[$way]}") | $app_kib | $(mibs "$t_gh"); $(mibs "$t_app"); $(mibs "$t_ngx") | $(core "$c_gh"); $(core "$c_app"); $(core "$c_ngx") | ${idle_alive[$way]} |"
  done
fi
echo
if want P2; then for loops in $P2_CONCURRENCY; do
  echo "P2 failures ($loops loop(s)): Gatehouse $(field failed "${p2_gh[$loops]}"), nginx $(field failed "${p2_ngx[$loops]}")."
done; fi
want P4 && echo "P4 failures: Gatehouse $(field failed "$p4_gh"), nginx $(field failed "$p4_ngx"); answer body $(field body_bytes "$p4_gh") / $(field body_bytes "$p4_ngx") bytes."
echo "Scenarios: $SCENARIOS. Whole run: ${elapsed} s (build included)."
if want P5; then bench/ssh-side-by-side.sh; fi
if want P6; then bench/pg-side-by-side.sh; fi
if want P7; then bench/mysql-side-by-side.sh; fi
