#!/usr/bin/env bash
# P7 of bench/side-by-side.sh (SCENARIOS=P7 runs it; it also runs alone): MySQL (a real MariaDB) through Gatehouse vs
# straight to the server, in ONE run on this machine, reported as ratios (docs/benchmarks.md).
#   throughput: `mariadb-slap` with P7_CLIENTS connections running P7_QUERIES point selects in all — straight to MariaDB
#               over TLS with a client certificate, and through `gatehouse proxy db` (a local port, the TLS from there to
#               the proxy; MySQL's server speaks first, so there is no plain-client route). Query audit on (the default).
# A real MariaDB (mariadb-install-db, mariadbd as the mysql account) on free loopback ports in a temporary folder; every
# process started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
P7_CLIENTS=${P7_CLIENTS:-8}
P7_QUERIES=${P7_QUERIES:-40000}
P7_AUDIT_QUERIES=${P7_AUDIT_QUERIES:-true}   # false: measure the relay without db.query events

bench_name=mysql-side-by-side
# shellcheck source=bench/lib.sh
. bench/lib.sh
for tool in mariadbd mariadb-install-db mariadb mariadb-slap openssl; do
  command -v "$tool" >/dev/null || fail "$tool is missing (./test.sh installs mariadb-server and mariadb-client)"
done

build_gatehouse
profile_env   # PROFILE=1: CPU profiles of the proxy and of `proxy db` during the measured run through `proxy db` (bench/lib.sh)

work=$(mktemp -d /tmp/gatehouse-mysql-bench.XXXXXX)
chmod 755 "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM
read -r gh_port my_port local_port <<<"$(dotnet "$lg_dll" free-ports --count 3)"

export_db_client_ca

# Certificates: the server's, and a client certificate of the bench's own CA with the subject the proxy's carries, so
# that one user (REQUIRE SUBJECT) serves both routes.
certs=$work/certs
mkdir -p "$certs"
ca "Bench MariaDB server CA" server-ca
ca "Bench MariaDB client CA" client-ca
leaf server "/CN=127.0.0.1" 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' server-ca
leaf client "/O=bench/CN=bench" 'extendedKeyUsage=clientAuth\n' client-ca
cat "$work/db-client-ca.pem" "$certs/client-ca.pem" >"$certs/client-cas.pem"

# MariaDB: its own data folder and socket, TLS with client certificates of either CA.
data=$work/mydata
mkdir -p "$data"
as_my=(); [ "$(id -u)" -eq 0 ] && { as_my=(--user=mysql); chown -R mysql:mysql "$data" "$certs"; }
quiet mariadb-install-db --no-defaults --datadir="$data" "${as_my[@]}" --auth-root-authentication-method=normal --skip-test-db
start_bg mariadbd mariadbd --no-defaults "${as_my[@]}" --datadir="$data" --socket="$data/my.sock" --port="$my_port" \
  --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin --innodb-flush-log-at-trx-commit=0 --max-connections=200 \
  --ssl-cert="$certs/server.pem" --ssl-key="$certs/server.key" --ssl-ca="$certs/client-cas.pem"
wait_for_port "$my_port" 60
admin() { quiet mariadb --no-defaults --socket="$data/my.sock" --user=root -e "$1"; }
admin "CREATE DATABASE bench; CREATE USER bench@'%' REQUIRE SUBJECT '/O=bench/CN=bench'; GRANT ALL ON bench.* TO bench@'%';
  CREATE TABLE bench.items (id INT PRIMARY KEY, name VARCHAR(100));
  USE bench; INSERT INTO items SELECT seq, concat('item ', seq) FROM seq_1_to_1000;" # the Sequence engine's table

{
  gh_config
  cat <<EOF
resources:
  databases:
    - name: bench
      protocol: mysql
      addr: 127.0.0.1:$my_port
      labels: { env: bench }
      tls: { mode: verify-full, ca_file: $certs/server-ca.pem }
      audit_queries: $P7_AUDIT_QUERIES
EOF
} >"$cluster/gatehouse.yaml"
start_bg gatehouse bash -c "cd '$cluster' && exec dotnet '$gh_dll' start --config '$cluster/gatehouse.yaml'"
gh_pid=$last_pid
wait_for_port "$gh_port" 90
printf 'kind: role\nname: bench\nallow:\n  db_labels: { env: bench }\n  db_users: [bench]\n  db_names: [bench]\n' >"$cluster/role.yaml"
gh admin roles apply "$cluster/role.yaml"
gh admin certs issue --user bench --roles bench --ttl 2h --out "$work/identity"
gh admin ca export --kind host --out "$work/host-ca.pem"
export GATEHOUSE_HOME=$work/home
quiet dotnet "$gh_dll" login --proxy "127.0.0.1:$gh_port" --identity "$work/identity" --ca "$work/host-ca.pem"
start_bg proxy-db env GATEHOUSE_TUNNEL=never dotnet "$gh_dll" proxy db bench --proxy "127.0.0.1:$gh_port" --port "$local_port"
proxy_db_pid=$last_pid
wait_for_port "$local_port" 60
profile_tag=${PROFILE_TAG:+-$PROFILE_TAG}   # PROFILE_TAG=before: P7-proxy-before.txt

declare -A route_args
route_args[direct]="--port=$my_port --ssl --ssl-ca=$certs/server-ca.pem --ssl-cert=$certs/client.pem --ssl-key=$certs/client.key --ssl-verify-server-cert"
route_args[local]="--port=$local_port"

declare -A qps seconds cpu_proxy cpu_local
for route in direct local; do
  say "$route: warm-up, then mariadb-slap ($P7_CLIENTS connections, $P7_QUERIES point selects)"
  # shellcheck disable=SC2086
  slap() { mariadb-slap --no-defaults --host=127.0.0.1 ${route_args[$route]} --user=bench --create-schema=bench \
    --query="select name from items where id = 500" --concurrency="$P7_CLIENTS" --iterations=1 --number-of-queries="$1" 2>&1; }
  # Warm-up long enough for the runtime's tier-1 JIT of the relay to be done before the counted run.
  out=$(slap 20000) || { echo "$out" >&2; fail "mariadb-slap via $route failed"; }
  [ "$route" = direct ] || profile_start "P7-proxy$profile_tag" "$gh_pid" -- "P7-proxy-db$profile_tag" "$proxy_db_pid"
  gh_cpu=$(cpu_seconds "$gh_pid") local_cpu=$(cpu_seconds "$proxy_db_pid")
  out=$(slap "$P7_QUERIES") || { echo "$out" >&2; fail "mariadb-slap via $route failed"; }
  gh_cpu_after=$(cpu_seconds "$gh_pid") local_cpu_after=$(cpu_seconds "$proxy_db_pid")
  [ "$route" = direct ] || profile_stop
  cpu_proxy[$route]=$(cpu_ms_per "$gh_cpu" "$gh_cpu_after" "$P7_QUERIES")
  cpu_local[$route]=$(cpu_ms_per "$local_cpu" "$local_cpu_after" "$P7_QUERIES")
  seconds[$route]=$(echo "$out" | sed -n 's/.*Average number of seconds to run all queries: \([0-9.]*\) seconds.*/\1/p' | head -n 1)
  [ -n "${seconds[$route]}" ] || { echo "$out" >&2; fail "mariadb-slap via $route printed no time (above; logs in $work with KEEP_WORK=1)"; }
  qps[$route]=$(awk -v n="$P7_QUERIES" -v s="${seconds[$route]}" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }')
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<EOF

## MySQL side by side ($(date -u '+%Y-%m-%d %H:%M UTC'))

Machine: $(nproc) cores, $(uname -sr); .NET $(dotnet --version), $(mariadbd --version | head -n 1). Load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg).
mariadb-slap, Gatehouse, \`gatehouse proxy db\` and MariaDB share this machine (loopback); both routes use TLS to the server and a client certificate. Query audit: $P7_AUDIT_QUERIES.

| P7 MySQL (MariaDB) | queries/s | seconds for $P7_QUERIES | queries/s / direct | proxy CPU ms / query | \`proxy db\` CPU ms / query |
|---|---:|---:|---:|---:|---:|
EOF
for route in direct local; do
  case $route in direct) name="straight to MariaDB";; local) name="through \`gatehouse proxy db\`";; esac
  case $route in direct) cpu="| | ";; local) cpu="| ${cpu_proxy[$route]} | ${cpu_local[$route]} ";; esac
  echo "| $name | ${qps[$route]} | ${seconds[$route]} | $(ratio "${qps[$route]}" "${qps[direct]}") ${cpu}|"
done
echo
echo "P7 whole run: $(( $(date +%s) - started )) s (build included)."
