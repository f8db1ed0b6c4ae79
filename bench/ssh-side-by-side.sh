#!/usr/bin/env bash
# P5 of bench/side-by-side.sh (SCENARIOS=P5 runs it; it also runs alone): SSH through Gatehouse vs straight to sshd,
# in ONE run on this machine, reported as ratios (docs/benchmarks.md).
#   set-up: P5_COUNT sequential `ssh NODE true` — straight to sshd; through Gatehouse (ProxyCommand gatehouse proxy ssh,
#           direct to the TLS port); through a WebSocket tunnel via nginx as a layer-7 front. p50/p99 in ms.
#   bulk:   `scp -O` of P5_BYTES (a sparse file, read as zeros) to /dev/null on the node, the same three ways. MB/s.
#           (-O: the classic scp protocol; over SFTP, scp tries to set /dev/null's attributes and complains.)
# Real sshd and ssh on free loopback ports in a temporary folder; every process started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
P5_COUNT=${P5_COUNT:-15}    # 15: keeps bench/side-by-side.sh (every row) under 5 minutes; p99 of 15 is the slowest
P5_BYTES=${P5_BYTES:-536870912}    # 512 MiB: keeps bench/side-by-side.sh (every row) under 5 minutes

bench_name=ssh-side-by-side
# shellcheck source=bench/lib.sh
. bench/lib.sh
for tool in sshd ssh scp nginx openssl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || fail "$tool is missing (./test.sh installs openssh-server, openssh-client, nginx)"
done
sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)

build_gatehouse

work=$(mktemp -d /tmp/gatehouse-ssh-bench.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
read -r gh_port sshd_port ngx_port <<<"$(dotnet "$lg_dll" free-ports --count 3)"

# Gatehouse with one node (the sshd below), a role that may reach it as root, an identity, the node's host key.
cluster=$work/cluster
mkdir -p "$cluster"
cat >"$cluster/gatehouse.yaml" <<EOF
cluster_name: bench
data_dir: data
proxy:
  listen: 127.0.0.1:$gh_port
  public_addr: [127.0.0.1]
resources:
  ssh_nodes:
    - name: node1
      addr: 127.0.0.1:$sshd_port
      labels: { env: bench }
EOF
printf 'kind: role\nname: bench\nallow:\n  node_labels: { env: bench }\n  logins: [root]\n' >"$cluster/role.yaml"
start_bg gatehouse bash -c "cd '$cluster' && exec dotnet '$gh_dll' start --config '$cluster/gatehouse.yaml'"
wait_for_port "$gh_port" 90
gh admin roles apply "$cluster/role.yaml"
gh admin certs issue --user bench --roles bench --logins root --ttl 2h --out "$work/identity"
gh admin certs issue-host --ssh --name node1 --principals node1,127.0.0.1 --out "$work/node"
gh admin ca export --kind ssh-user --out "$work/ssh-user-ca.pub"
gh admin ca export --kind ssh-host --out "$work/known_hosts"
gh admin ca export --kind host --out "$work/host-ca.pem"

# The node: a real sshd trusting the SSH user CA, presenting the host certificate.
mkdir -p /run/sshd
cat >"$work/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $work/node/ssh_host_ecdsa_key
HostCertificate $work/node/ssh_host_ecdsa_key-cert.pub
PidFile $work/sshd.pid
TrustedUserCAKeys $work/ssh-user-ca.pub
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
EOF
start_bg sshd "$sshd_bin" -D -e -f "$work/sshd_config" -p "$sshd_port"
wait_for_port "$sshd_port"

# nginx as a layer-7 front (its own CA), passing upgrades to Gatehouse.
certs=$work/nginx-certs
mkdir -p "$certs" "$work/nginx"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 -subj "/CN=Bench SSH Balancer CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$certs/ext"
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial -days 2 -extfile "$certs/ext" -out "$certs/server.pem" 2>/dev/null
user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log off;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$ngx_port ssl;
        ssl_certificate     $certs/server.pem;
        ssl_certificate_key $certs/server.key;
        location / {
            proxy_pass https://127.0.0.1:$gh_port;
            proxy_ssl_trusted_certificate $work/host-ca.pem;
            proxy_ssl_verify on;
            proxy_ssl_name gatehouse.internal;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_read_timeout 1h;
        }
    }
}
EOF
start_bg nginx nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e stderr -g "daemon off; error_log stderr warn; pid $work/nginx/nginx.pid;"
wait_for_port "$ngx_port"

export GATEHOUSE_HOME=$work/home SSL_CERT_FILE=$certs/ca.pem
quiet dotnet "$gh_dll" login --proxy "127.0.0.1:$gh_port" --identity "$work/identity" --ca "$work/host-ca.pem"
quiet dotnet "$gh_dll" login --proxy "127.0.0.1:$ngx_port" --identity "$work/identity" --ca "$work/host-ca.pem"

# The three ways, as one ssh_config each: straight to sshd, and with gatehouse proxy ssh as the ProxyCommand (direct,
# and through nginx in a WebSocket tunnel). The node is trusted by the cluster's SSH host CA in all three.
for route in sshd direct ws; do
  {
    echo "Host *"
    echo "  IdentityFile $work/identity/ssh-key"
    echo "  CertificateFile $work/identity/ssh-cert.pub"
    echo "  IdentitiesOnly yes"
    echo "  UserKnownHostsFile $work/known_hosts"
    echo "  GlobalKnownHostsFile /dev/null"
    echo "  StrictHostKeyChecking yes"
    echo "  BatchMode yes"
    case $route in
      sshd) echo "  Port $sshd_port";;
      direct) echo "  ProxyCommand env GATEHOUSE_TUNNEL=never dotnet $gh_dll proxy ssh --proxy 127.0.0.1:$gh_port %r@%h:%p";;
      ws) echo "  ProxyCommand env GATEHOUSE_TUNNEL=always GATEHOUSE_TUNNEL_MODE=websocket dotnet $gh_dll proxy ssh --proxy 127.0.0.1:$ngx_port %r@%h:%p";;
    esac
  } >"$work/ssh-$route.conf"
done
host_of() { if [ "$1" = sshd ]; then echo 127.0.0.1; else echo node1; fi; }
run_ssh() { local route=$1; shift; ssh -F "$work/ssh-$route.conf" "root@$(host_of "$route")" "$@"; }
run_scp() { scp -O -q -F "$work/ssh-$1.conf" "$work/payload" "root@$(host_of "$1"):/dev/null"; }

truncate -s "$P5_BYTES" "$work/payload"
declare -A p50 p99 mbs
for route in sshd direct ws; do
  say "$route: warm-up, then $P5_COUNT sequential connections and $P5_BYTES bytes by scp"
  run_ssh "$route" true || fail "ssh via $route failed"
  : >"$work/times-$route"
  for _ in $(seq "$P5_COUNT"); do
    t0=$(date +%s%N); run_ssh "$route" true; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) >>"$work/times-$route"
  done
  sort -n "$work/times-$route" >"$work/sorted-$route"
  p50[$route]=$(awk -v n="$P5_COUNT" 'NR == int((n + 1) * 0.50) { printf "%.1f", $1 / 1000 }' "$work/sorted-$route")
  p99[$route]=$(awk -v n="$P5_COUNT" 'NR == (int(n * 0.99) > 0 ? int(n * 0.99) : 1) { printf "%.1f", $1 / 1000 }' "$work/sorted-$route")
  t0=$(date +%s%N); run_scp "$route"; t1=$(date +%s%N)
  mbs[$route]=$(awk -v b="$P5_BYTES" -v ns="$((t1 - t0))" 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }')
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<EOF

## SSH side by side ($(date -u '+%Y-%m-%d %H:%M UTC'))

Machine: $(nproc) cores, $(uname -sr); .NET $(dotnet --version), $(ssh -V 2>&1). Load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg).
Client, proxy, nginx and sshd share this machine (loopback). Set-up includes the ProxyCommand's own start (\`dotnet gatehouse.dll\`).

| P5 SSH | set-up p50 ms | set-up p99 ms | scp MB/s ($((P5_BYTES / 1048576)) MiB) | p50 / sshd | MB/s / sshd |
|---|---:|---:|---:|---:|---:|
EOF
for route in sshd direct ws; do
  case $route in sshd) name="straight to sshd";; direct) name="through Gatehouse (direct)";; ws) name="through Gatehouse, WebSocket tunnel via nginx";; esac
  echo "| $name | ${p50[$route]} | ${p99[$route]} | ${mbs[$route]} | $(ratio "${p50[$route]}" "${p50[sshd]}") | $(ratio "${mbs[$route]}" "${mbs[sshd]}") |"
done
echo
echo "P5 whole run: $(( $(date +%s) - started )) s (build included)."
