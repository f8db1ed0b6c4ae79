#!/usr/bin/env bash
# Start-to-first-connection of a gatehouse command: from exec of `CMD start` to the first answered /v1/ping, three
# times on an initialised data directory (the first start, which makes the CAs, is not counted).
# usage: bench/start-time.sh LABEL CMD...   e.g. bench/start-time.sh single-file ./publish/gatehouse
set -uo pipefail
label=$1; shift
dir=$(mktemp -d); port=$((20000 + RANDOM % 10000)); pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
printf 'cluster_name: bench\ndata_dir: data\nproxy:\n  listen: 127.0.0.1:%s\n  public_addr: 127.0.0.1\n' "$port" > "$dir/gatehouse.yaml"
cmd=("$@")
for i in "${!cmd[@]}"; do [[ ${cmd[$i]} == */* && -e ${cmd[$i]} ]] && cmd[$i]=$(readlink -f "${cmd[$i]}"); done # paths survive the cd
cd "$dir"
run() { # starts the proxy, waits (at most 60 s) for /v1/ping, prints the seconds it took, stops it
  local t0 t1 deadline=$((SECONDS + 60))
  t0=$(date +%s.%N)
  "$@" start >/dev/null 2>&1 & pid=$!
  until curl -sk -o /dev/null "https://127.0.0.1:$port/v1/ping"; do
    [ $SECONDS -lt $deadline ] || { echo "$label: no answer within 60 s" >&2; exit 1; }
    sleep 0.01
  done
  t1=$(date +%s.%N); kill "$pid"; wait "$pid" 2>/dev/null; pid=""
  echo "$t1 - $t0" | bc
}
run "${cmd[@]}" >/dev/null
for _ in 1 2 3; do echo "$label: $(run "${cmd[@]}") s"; done
