#!/usr/bin/env bash
# Soak (not in CI): SOAK_SECONDS (default 1800) of SOAK_TUNNELS (default 1000) tunnels churning through an nginx
# layer-7 front (`gatehouse proxy app` → nginx → /v1/tunnel → Gatehouse → a TCP echo), each living 5–55 s, plus
# SOAK_RATE (default 20) HTTP app requests/s through nginx playing an ALB in mTLS passthrough. Every 10 s it samples the
# proxy's RSS, open file descriptors, threads, GC heap and GC committed memory (the runtime's System.Runtime meter at
# /metrics) with the load's counters, into $SOAK_OUT/soak.csv, and at the end writes $SOAK_OUT/soak.svg (a chart
# drawn here, no plotting tool) and prints a summary: first and last third means, and the error counts. SOAK_OUT
# defaults to ./soak-results.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
SOAK_SECONDS=${SOAK_SECONDS:-1800}
SOAK_TUNNELS=${SOAK_TUNNELS:-1000}
SOAK_RATE=${SOAK_RATE:-20}
SOAK_OUT=${SOAK_OUT:-$repo/soak-results}
bench_name=soak
# shellcheck source=bench/lib.sh
. bench/lib.sh

for program in nginx openssl curl; do command -v "$program" >/dev/null || fail "$program is missing (./test.sh installs it)."; done
build_gatehouse
loadgen() { dotnet "$lg_dll" "$@"; }
work=$(mktemp -d /tmp/gatehouse-soak.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR
mkdir -p "$SOAK_OUT"
wait_for_line() {
  local pid=$1 pattern=$2 log=$3 deadline=$((SECONDS + ${4:-60}))
  until grep -q "$pattern" "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "process $pid ended before printing '$pattern' (its output is above)"; }
    [ $SECONDS -lt $deadline ] || { cat "$log" >&2; fail "no '$pattern' within the deadline (output above)"; }
    sleep 0.1
  done
}
read -r gh_port sink_port front_port page_port app_port <<<"$(loadgen free-ports --count 5)"

# --- The echo app, the proxy (one TCP app, one HTTP app, nginx as a trusted front), a role, a certificate.
start_bg sink dotnet "$lg_dll" sink --port "$sink_port"
wait_for_line "$last_pid" "sink listening" "$work/sink.log"
cluster=$work/cluster
mkdir -p "$cluster"
front_secret=$(openssl rand -hex 16)
export GH_FRONT_SECRET=$front_secret
cat >"$cluster/gatehouse.yaml" <<EOF
cluster_name: soak
data_dir: data
proxy:
  listen: 127.0.0.1:$gh_port
  public_addr: [127.0.0.1]
  trusted_proxies: [127.0.0.1/32]
  trusted_fronts:
    - name: nginx-alb
      format: aws-alb-passthrough
      source_cidrs: [127.0.0.1/32]
      shared_secret_header: { name: X-Gatehouse-Front-Secret, value_env: GH_FRONT_SECRET }
resources:
  tcp_apps:
    - name: echo
      addr: 127.0.0.1:$sink_port
      labels: { env: soak }
  http_apps:
    - name: page
      uri: http://127.0.0.1:$page_port
      labels: { env: soak }
EOF
printf 'kind: role\nname: soak\nallow:\n  app_labels: { env: soak }\n' >"$cluster/soak-role.yaml"
gh_admin() { quiet bash -c 'cd "$1" && shift && exec dotnet "$@"' _ "$cluster" "$gh_dll" "$@" --config "$cluster/gatehouse.yaml"; }
start_bg gatehouse bash -c "cd '$cluster' && exec dotnet '$gh_dll' start --config '$cluster/gatehouse.yaml'"; gh_pid=$last_pid
wait_for_line "$gh_pid" "Proxy listening on" "$work/gatehouse.log" 90
gh_admin admin roles apply "$cluster/soak-role.yaml"
gh_admin admin certs issue --user soak --roles soak --ttl 2h --out "$work/identity"
gh_admin admin ca export --kind host --out "$work/host-ca.pem"

# --- nginx: the front (tunnels on /v1/tunnel; apps with the client certificate forwarded) and the app's page.
certs=$work/certs
mkdir -p "$certs"
ca "Soak Balancer CA" ca
leaf server "/CN=127.0.0.1" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' ca
ngx=$work/nginx
mkdir -p "$ngx/www"
head -c 1024 /dev/zero | tr '\0' 'x' >"$ngx/www/index.html"
user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
cat >"$ngx/nginx.conf" <<EOF
$user_line
worker_processes 1;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $ngx/client_body_temp;
    proxy_temp_path $ngx/proxy_temp;
    fastcgi_temp_path $ngx/fastcgi_temp;
    uwsgi_temp_path $ngx/uwsgi_temp;
    scgi_temp_path $ngx/scgi_temp;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$front_port ssl backlog=4096;
        ssl_certificate     $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        ssl_verify_client   optional_no_ca;
        location / {
            proxy_pass https://127.0.0.1:$gh_port;
            proxy_ssl_trusted_certificate $work/host-ca.pem;
            proxy_ssl_verify on;
            proxy_ssl_name gatehouse.internal;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Amzn-Mtls-Clientcert \$ssl_client_escaped_cert;
            proxy_set_header X-Gatehouse-Front-Secret "$front_secret";
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
    server {
        listen 127.0.0.1:$page_port;
        root $ngx/www;
    }
}
EOF
start_bg nginx nginx -p "$ngx" -c "$ngx/nginx.conf" -e stderr -g "daemon off; error_log stderr warn; pid $ngx/nginx.pid;"
wait_for_port "$front_port"; wait_for_port "$page_port"

# --- The client: a profile for the front, and `proxy app echo` tunnelling through it (WebSocket, the default).
export GATEHOUSE_HOME=$work/home
quiet env SSL_CERT_FILE="$certs/ca.pem" dotnet "$gh_dll" login --proxy "127.0.0.1:$front_port" --identity "$work/identity"
cp "$work/host-ca.pem" "$GATEHOUSE_HOME/127.0.0.1_$front_port/host-ca.pem"
start_bg app env GATEHOUSE_TUNNEL=always SSL_CERT_FILE="$certs/ca.pem" dotnet "$gh_dll" proxy app echo --proxy "127.0.0.1:$front_port" --port "$app_port"
app_pid=$last_pid
wait_for_line "$app_pid" "Forwarding 127.0.0.1" "$work/app.log"

# --- The load, and a sample every 10 s: elapsed, the proxy's RSS (KiB), fds, threads, GC heap (bytes, all generations
# after the last collection), the client's RSS, then the load's counters.
start_bg load dotnet "$lg_dll" soak --tunnel-port "$app_port" --tunnels "$SOAK_TUNNELS" --url "https://127.0.0.1:$front_port/apps/page/" \
  --cert "$work/identity/cert.pem" --key "$work/identity/key.pem" --rate "$SOAK_RATE" --seconds "$SOAK_SECONDS"
load_pid=$last_pid
csv=$SOAK_OUT/soak.csv
echo "seconds,rss_kib,fds,threads,gc_heap_bytes,client_rss_kib,tunnels_open,tunnels_opened,tunnel_errors,echoes,http_ok,http_errors,gc_committed_bytes" >"$csv"
say "soaking for $SOAK_SECONDS s: $SOAK_TUNNELS churning tunnels + $SOAK_RATE requests/s; samples in $csv"
started=$SECONDS
status_of() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"; }
counter() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
while kill -0 "$load_pid" 2>/dev/null; do
  sleep 10
  kill -0 "$gh_pid" 2>/dev/null || fail "the proxy died (log: $work/gatehouse.log; KEEP_WORK=1 keeps it)"
  # A scrape that times out on a busy machine leaves the heap cell empty rather than ending the soak.
  metrics=$({ curl -sk --max-time 15 "https://127.0.0.1:$gh_port/metrics" || true; })
  heap=$(echo "$metrics" | awk '/^dotnet_gc_last_collection_heap_size_bytes/ { s += $NF; n++ } END { if (n) printf "%.0f", s }')
  # Memory the GC holds from the system (heap plus free space it keeps): RSS above it is native (TLS, allocator).
  committed=$(echo "$metrics" | awk '/^dotnet_gc_last_collection_memory_committed_size_bytes/ { s += $NF; n++ } END { if (n) printf "%.0f", s }')
  counters=$({ grep -v '^total' "$work/load.log" || true; } | tail -n 1)
  echo "$((SECONDS - started)),$(status_of "$gh_pid" VmRSS),$(ls "/proc/$gh_pid/fd" | wc -l),$(status_of "$gh_pid" Threads),${heap},$(status_of "$app_pid" VmRSS),$(counter "$counters" tunnels_open),$(counter "$counters" tunnels_opened),$(counter "$counters" tunnel_errors),$(counter "$counters" echoes),$(counter "$counters" http_ok),$(counter "$counters" http_errors),${committed}" >>"$csv"
done
load_status=0; wait "$load_pid" || load_status=$?
grep -E '^total|first error' "$work/load.log" >&2 || true

# --- The chart: four small panels (RSS MiB, fds, threads, GC heap MiB) over minutes, as an SVG written here.
awk -F, -v out="$SOAK_OUT/soak.svg" '
  NR == 1 { next }
  { n++; t[n] = $1 / 60; v[1, n] = $2 / 1024; v[2, n] = $3; v[3, n] = $4; v[4, n] = $5 / 1048576; if ($1 / 60 > tmax) tmax = $1 / 60 }
  END {
    split("proxy RSS (MiB)|open file descriptors|threads|GC heap after last collection (MiB)", title, "|")
    W = 360; H = 150; printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", 2 * W + 30, 2 * H + 40 > out
    for (p = 1; p <= 4; p++) {
      x0 = 40 + ((p - 1) % 2) * (W + 10); y0 = 20 + int((p - 1) / 2) * (H + 20); w = W - 50; h = H - 30
      max = 0; for (i = 1; i <= n; i++) if (v[p, i] > max) max = v[p, i]; if (max == 0) max = 1; max *= 1.1
      printf "<text x=\"%d\" y=\"%d\">%s</text>\n", x0, y0 - 5, title[p] > out
      printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", x0, y0, w, h > out
      printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", x0 - 3, y0 + 10, max, x0 - 3, y0 + h > out
      printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f min</text>\n", x0 + w, y0 + h + 12, tmax > out
      printf "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"" > out
      for (i = 1; i <= n; i++) printf "%.1f,%.1f ", x0 + (tmax > 0 ? t[i] / tmax : 0) * w, y0 + h - v[p, i] / max * h > out
      printf "\"/>\n" > out
    }
    printf "</svg>\n" > out
  }' "$csv"

# --- The summary: means of the first and the last third of the samples (after the 20 s ramp-up), and the errors.
awk -F, '
  NR == 1 || $1 < 30 { next }
  { n++; for (c = 2; c <= 5; c++) v[c, n] = $c; if ($8 != "") last = $0 }
  END {
    third = int(n / 3); if (third < 1) third = 1
    split("rss_kib fds threads gc_heap_bytes", name, " ")
    for (c = 2; c <= 5; c++) {
      a = 0; b = 0; for (i = 1; i <= third; i++) { a += v[c, i]; b += v[c, n - third + i] }
      printf "%s: first third mean %.0f, last third mean %.0f (%+.1f%%)\n", name[c - 1], a / third, b / third, (a > 0 ? (b - a) * 100 / a : 0)
    }
    split(last, f, ","); printf "tunnels opened %s, echoes %s, tunnel errors %s, http ok %s, http errors %s\n", f[8], f[10], f[9], f[11], f[12]
  }' "$csv" | tee "$SOAK_OUT/summary.txt" >&2
say "wrote $csv, $SOAK_OUT/soak.svg and $SOAK_OUT/summary.txt"
exit "$load_status"
