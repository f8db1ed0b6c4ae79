# Shared by bench/side-by-side.sh and bench/ssh-side-by-side.sh (sourced): messages, background processes recorded
# and stopped by PID on exit, waiting for a port, running a command quietly. The sourcing script sets $bench_name,
# then $work (its temporary folder) before starting anything, and calls `trap cleanup EXIT`.

say() { echo "$bench_name: $*" >&2; }
fail() { say "$*"; exit 1; }

pids=()
# Stops every background process started with start_bg, then removes $work (KEEP_WORK=1 keeps it).
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}

# Starts "$@" in the background with its output in $work/$name.log; records its PID in $last_pid.
start_bg() {
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

wait_for_port() {
  local port=$1 deadline=$((SECONDS + ${2:-30}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "nothing listens on 127.0.0.1:$port within the deadline (logs in $work; KEEP_WORK=1 keeps them)"
    sleep 0.1
  done
}

# Runs a command quietly; its output is shown only when it fails.
quiet() {
  local out
  out=$("$@" 2>&1) || { echo "$out" >&2; fail "failed: $*"; }
}
