# P3 over a delayed link (sourced by bench/side-by-side.sh when P3_DELAY_MS is set): connection set-up where round
# trips matter, the case the tunnel pool is for. For each delay D (ms, one way) in P3_DELAY_MS, the client's side of
# the network gets D each way: `proxy app` reaches the proxy (direct) and the nginx front (tunnels) through a
# delaying relay (`Gatehouse.LoadGen delay`: every chunk D late, and the first bytes after a connect's round trip),
# while the front's link to the proxy and the proxy's to the sink stay local, as in a data centre.
# Why a relay and not `tc qdisc … netem` on the loopback: this machine's kernel has no netem (only htb, tbf and
# pfifo_fast load), and a netem qdisc on lo would slow every other program's loopback traffic too; the relay slows only
# the connections sent through it. Five local proxies per delay (direct; WebSocket and raw, pool on and off), each
# measured with P3_DELAY_COUNT sequential connections, then stopped. The minimum and p10 are printed too: on a busy
# machine they show the round trips a route pays with the least scheduling noise on top.

declare -A dlat
p3_delayed() {
  local ms=$1 relay_gh relay_ngx app_pids=() route port mode pool
  local direct_port ws_port wsoff_port raw_port rawoff_port
  read -r relay_gh relay_ngx direct_port ws_port wsoff_port raw_port rawoff_port <<<"$(loadgen free-ports --count 7)"
  start_bg "delay-gh-$ms" dotnet "$lg_dll" delay --port "$relay_gh" --to "$gh_port" --ms "$ms"; app_pids+=("$last_pid")
  wait_for_line "$last_pid" "delay listening" "$work/delay-gh-$ms.log"
  start_bg "delay-ngx-$ms" dotnet "$lg_dll" delay --port "$relay_ngx" --to "$ngx_l7_port" --ms "$ms"; app_pids+=("$last_pid")
  wait_for_line "$last_pid" "delay listening" "$work/delay-ngx-$ms.log"
  # Profiles for the relays' addresses, as for the proxy and the front themselves (section 6 of side-by-side.sh).
  quiet dotnet "$gh_dll" login --proxy "127.0.0.1:$relay_gh" --identity "$work/identity" --ca "$work/host-ca.pem"
  quiet env SSL_CERT_FILE="$certs/ca.pem" dotnet "$gh_dll" login --proxy "127.0.0.1:$relay_ngx" --identity "$work/identity"
  cp "$work/host-ca.pem" "$GATEHOUSE_HOME/127.0.0.1_$relay_ngx/host-ca.pem"
  start_bg "app-direct-$ms" env GATEHOUSE_TUNNEL=never dotnet "$gh_dll" proxy app sink --proxy "127.0.0.1:$relay_gh" --port "$direct_port"
  app_pids+=("$last_pid")
  wait_for_line "$last_pid" "Forwarding 127.0.0.1" "$work/app-direct-$ms.log"
  for route in ws wsoff raw rawoff; do
    mode=websocket; [[ $route == raw* ]] && mode=raw
    pool=on; [[ $route == *off ]] && pool=off
    port=${route}_port
    start_bg "app-$route-$ms" env GATEHOUSE_TUNNEL=always GATEHOUSE_TUNNEL_MODE=$mode GATEHOUSE_TUNNEL_POOL=$pool SSL_CERT_FILE="$certs/ca.pem" \
      dotnet "$gh_dll" proxy app sink --proxy "127.0.0.1:$relay_ngx" --port "${!port}"
    app_pids+=("$last_pid")
    wait_for_line "$last_pid" "Forwarding 127.0.0.1" "$work/app-$route-$ms.log"
  done
  for route in direct ws wsoff raw rawoff; do
    port=${route}_port
    dlat[$route-$ms]=$(measure "P3 $route over a link with $ms ms each way: $P3_DELAY_COUNT sequential connections" \
      latency --port "${!port}" --count "$P3_DELAY_COUNT")
  done
  kill "${app_pids[@]}" 2>/dev/null || true
  wait "${app_pids[@]}" 2>/dev/null || true
}

p3_delayed_report() {
  local ms route name p50 p99
  for ms in $P3_DELAY_MS; do
    cat <<EOF

| P3 set-up over a link with $ms ms one-way delay ($P3_DELAY_COUNT sequential connections) | min ms | p10 ms | p50 ms | p99 ms | p50 / direct | p99 / direct |
|---|---:|---:|---:|---:|---:|---:|
EOF
    for route in direct ws wsoff raw rawoff; do
      case $route in direct) name="direct (TLS to the proxy)";; ws) name="WebSocket tunnel via nginx L7, pool on";; raw) name="raw-upgrade tunnel, pool on";;
        wsoff) name="WebSocket tunnel, pool off";; rawoff) name="raw-upgrade tunnel, pool off";; esac
      p50=$(field p50_ms "${dlat[$route-$ms]}"); p99=$(field p99_ms "${dlat[$route-$ms]}")
      echo "| $name | $(field min_ms "${dlat[$route-$ms]}") | $(field p10_ms "${dlat[$route-$ms]}") | $p50 | $p99 | $(ratio "$p50" "$(field p50_ms "${dlat[direct-$ms]}")") | $(ratio "$p99" "$(field p99_ms "${dlat[direct-$ms]}")") |"
    done
  done
}
