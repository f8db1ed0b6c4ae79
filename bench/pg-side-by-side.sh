#!/usr/bin/env bash
# P6 of bench/side-by-side.sh (SCENARIOS=P6 runs it; it also runs alone): PostgreSQL through Gatehouse vs straight to
# the server, in ONE run on this machine, reported as ratios (docs/benchmarks.md).
#   throughput: `pgbench -S` (select-only), P6_CLIENTS clients, P6_SECONDS s — straight to PostgreSQL over TLS with a
#               client certificate; plain psql's way through Gatehouse (SSLRequest, SNI, the user's certificate); and
#               through `gatehouse proxy db` (a local port, the TLS from there to the proxy). Query audit on (the default).
#   set-up:     `pgbench -S -C` (a new connection per transaction), one client: pgbench's average connection time.
# A real PostgreSQL (initdb as the postgres account) on free loopback ports in a temporary folder; every process started
# here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
P6_CLIENTS=${P6_CLIENTS:-8}
P6_SECONDS=${P6_SECONDS:-10}
P6_AUDIT_QUERIES=${P6_AUDIT_QUERIES:-true}   # false: measure the relay without db.query events
P6_RATE=${P6_RATE:-}   # TPS: the counted run at a fixed rate (pgbench -R), so CPU per query compares at the same load on every route

bench_name=pg-side-by-side
# shellcheck source=bench/lib.sh
. bench/lib.sh
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] || fail "PostgreSQL is missing (./test.sh installs postgresql)"
for tool in pgbench psql openssl; do command -v "$tool" >/dev/null || fail "$tool is missing (./test.sh installs postgresql)"; done

build_gatehouse
profile_env   # PROFILE=1: CPU profiles of the proxy (plain psql's way), and of the proxy and `proxy db` together (bench/lib.sh)

work=$(mktemp -d /tmp/gatehouse-pg-bench.XXXXXX)
chmod 755 "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM
read -r gh_port pg_port local_port <<<"$(dotnet "$lg_dll" free-ports --count 3)"

export_db_client_ca

# Certificates: the server's, and a client certificate of the bench's own CA for the straight route.
certs=$work/certs
mkdir -p "$certs"
ca "Bench PostgreSQL server CA" server-ca
ca "Bench PostgreSQL client CA" client-ca
leaf server "/CN=127.0.0.1" 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' server-ca
leaf client "/CN=bench" 'extendedKeyUsage=clientAuth\n' client-ca

# PostgreSQL: TLS on, client certificates of either CA (the db client CA for the proxy, the bench's for pgbench).
data=$work/pgdata
mkdir -p "$data"
chown postgres:postgres "$data" 2>/dev/null || true
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$pg_bin/initdb" -D "$data" -U postgres -E UTF8 --locale C.UTF-8 --auth-local trust --no-sync >/dev/null
cp "$certs/server.pem" "$certs/server.key" "$data/"
cat "$work/db-client-ca.pem" "$certs/client-ca.pem" >"$data/client-cas.pem"
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$data'
fsync = off
max_connections = 100
ssl = on
ssl_cert_file = 'server.pem'
ssl_key_file = 'server.key'
ssl_ca_file = 'client-cas.pem'
EOF
printf 'local all all trust\nhostssl all all 127.0.0.1/32 cert\n' >"$data/pg_hba.conf"
chown -R postgres:postgres "$data" 2>/dev/null || true
chmod 600 "$data/server.key"
start_bg postgres bash -c "$(declare -f as_pg); as_pg '$pg_bin/postgres' -D '$data'"
wait_for_port "$pg_port" 60
quiet as_pg psql -h "$data" -p "$pg_port" -U postgres -c "CREATE ROLE bench LOGIN" -c "CREATE DATABASE bench OWNER bench"
quiet as_pg pgbench -i -s 10 -h "$data" -p "$pg_port" -U bench bench

{
  gh_config
  cat <<EOF
resources:
  databases:
    - name: bench
      addr: 127.0.0.1:$pg_port
      labels: { env: bench }
      tls: { mode: verify-full, ca_file: $certs/server-ca.pem }
      audit_queries: $P6_AUDIT_QUERIES
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

declare -A conn
conn[direct]="host=127.0.0.1 port=$pg_port user=bench dbname=bench sslmode=verify-full sslrootcert=$certs/server-ca.pem sslcert=$certs/client.pem sslkey=$certs/client.key"
conn[psql]="host=bench.db.localhost hostaddr=127.0.0.1 port=$gh_port user=bench dbname=bench sslmode=verify-full sslrootcert=$work/host-ca.pem sslcert=$work/identity/cert.pem sslkey=$work/identity/key.pem"
conn[local]="host=127.0.0.1 port=$local_port user=bench dbname=bench sslmode=disable"

declare -A tps lat setup cpu_proxy cpu_local
profile_tag=${PROFILE_TAG:+-$PROFILE_TAG}   # PROFILE_TAG=before: P6-psql-proxy-before.txt
for route in direct psql local; do
  say "$route: warm-up, pgbench -S ($P6_CLIENTS clients, $P6_SECONDS s), then -C for the set-up"
  # Warm-up long enough for the runtime's tier-1 JIT of the relay to be done before the counted run (a profile with a
  # 1 s warm-up had a third of the proxy's CPU in the JIT).
  quiet pgbench -S -n -c "$P6_CLIENTS" -j 2 -T 5 "${conn[$route]}"
  case $route in psql) profile_start "P6-psql-proxy$profile_tag" "$gh_pid";;
    local) profile_start "P6-local-proxy$profile_tag" "$gh_pid" -- "P6-local-proxy-db$profile_tag" "$proxy_db_pid";; esac
  gh_cpu=$(cpu_seconds "$gh_pid") local_cpu=$(cpu_seconds "$proxy_db_pid")
  out=$(pgbench -S -n -c "$P6_CLIENTS" -j 2 -T "$P6_SECONDS" ${P6_RATE:+-R "$P6_RATE"} "${conn[$route]}" 2>&1) || { echo "$out" >&2; fail "pgbench via $route failed"; }
  gh_cpu_after=$(cpu_seconds "$gh_pid") local_cpu_after=$(cpu_seconds "$proxy_db_pid")
  [ "$route" = direct ] || profile_stop
  queries=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | head -n 1)
  cpu_proxy[$route]=$(cpu_ms_per "$gh_cpu" "$gh_cpu_after" "$queries")
  cpu_local[$route]=$(cpu_ms_per "$local_cpu" "$local_cpu_after" "$queries")
  tps[$route]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)
  [ -n "${tps[$route]}" ] || { echo "$out" >&2; fail "pgbench via $route printed no tps (above; logs in $work with KEEP_WORK=1)"; }
  lat[$route]=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' | head -n 1)
  out=$(pgbench -S -n -C -c 1 -T 5 "${conn[$route]}" 2>&1) || { echo "$out" >&2; fail "pgbench -C via $route failed"; }
  setup[$route]=$(echo "$out" | sed -n 's/^average connection time = \([0-9.]*\) ms/\1/p' | head -n 1)
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<EOF

## PostgreSQL side by side ($(date -u '+%Y-%m-%d %H:%M UTC'))

Machine: $(nproc) cores, $(uname -sr); .NET $(dotnet --version), $(psql --version). Load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg).
pgbench, Gatehouse, \`gatehouse proxy db\` and PostgreSQL share this machine (loopback); every route uses TLS to the server and a client certificate. Query audit: $P6_AUDIT_QUERIES.${P6_RATE:+ At a fixed rate: $P6_RATE TPS (pgbench -R).}

| P6 PostgreSQL | pgbench -S TPS | latency avg ms | TPS / direct | set-up ms (pgbench -C average) | set-up / direct | proxy CPU ms / query | \`proxy db\` CPU ms / query |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
for route in direct psql local; do
  case $route in direct) name="straight to PostgreSQL";; psql) name="plain psql's way through Gatehouse (one port)";; local) name="through \`gatehouse proxy db\`";; esac
  case $route in direct) cpu="| | ";; psql) cpu="| ${cpu_proxy[$route]} | ";; local) cpu="| ${cpu_proxy[$route]} | ${cpu_local[$route]} ";; esac
  echo "| $name | ${tps[$route]} | ${lat[$route]} | $(ratio "${tps[$route]}" "${tps[direct]}") | ${setup[$route]} | $(ratio "${setup[$route]}" "${setup[direct]}") ${cpu}|"
done
echo
echo "P6 whole run: $(( $(date +%s) - started )) s (build included)."
