# Shared by the bench/*side-by-side.sh scripts (sourced): messages, background processes recorded
# and stopped by PID on exit, waiting for a port, running a command quietly, the build, and for the database benches
# the bench cluster and certificates. The sourcing script sets $bench_name,
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

# Builds the CLI and the load generator in Release; sets $gh_dll and $lg_dll. Needs $repo.
# Once per run: the scripts side-by-side.sh starts after its own rows see GATEHOUSE_BENCH_BUILT and skip the build.
build_gatehouse() {
  local project log
  if [ "${GATEHOUSE_BENCH_BUILT:-}" != 1 ]; then
    say "building (Release)"
    for project in src/Gatehouse.Cli/Gatehouse.Cli.csproj bench/Gatehouse.LoadGen/Gatehouse.LoadGen.csproj; do
      if ! log=$(dotnet build "$project" -c Release -nologo -v q 2>&1); then echo "$log" >&2; fail "the build of $project failed (above)."; fi
    done
    export GATEHOUSE_BENCH_BUILT=1
  fi
  # GATEHOUSE_DLL=path/gatehouse.dll measures another build (a copy of the bin folder before a change, for before/after
  # runs back to back with the same script).
  gh_dll=${GATEHOUSE_DLL:-$repo/src/Gatehouse.Cli/bin/Release/net10.0/gatehouse.dll}
  lg_dll=$repo/bench/Gatehouse.LoadGen/bin/Release/net10.0/Gatehouse.LoadGen.dll
}

# --- For the database benches (P6, P7): a cluster named bench in $work/cluster on $gh_port, and certificates in $certs.
gh_config() {
  cat <<CONFIG
cluster_name: bench
data_dir: data
proxy:
  listen: 127.0.0.1:$gh_port
  public_addr: [localhost, 127.0.0.1]
CONFIG
}
gh() { quiet bash -c 'cd "$1" && shift && exec dotnet "$@"' _ "$cluster" "$gh_dll" "$@" --config "$cluster/gatehouse.yaml"; }

# The cluster's first start makes its db client CA, which the database must trust before the proxy can name it:
# exported to $work/db-client-ca.pem, then the proxy stops until the database is registered.
export_db_client_ca() {
  cluster=$work/cluster
  mkdir -p "$cluster"
  gh_config >"$cluster/gatehouse.yaml"
  start_bg gatehouse-first bash -c "cd '$cluster' && exec dotnet '$gh_dll' start --config '$cluster/gatehouse.yaml'"
  wait_for_port "$gh_port" 90
  gh admin ca export --kind db-client --out "$work/db-client-ca.pem"
  kill "$last_pid"; wait "$last_pid" 2>/dev/null || true
}

# A self-signed CA in $certs: subject CN, file name.
ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 -subj "/CN=$1" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout "$certs/$2.key" -out "$certs/$2.pem" 2>/dev/null; }

# A certificate in $certs: name, subject, extensions, the CA's file name.
leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$certs/$1.key" -out "$certs/$1.csr" 2>/dev/null
  printf '%b' "$3" >"$certs/$1.ext"
  openssl x509 -req -in "$certs/$1.csr" -CA "$certs/$4.pem" -CAkey "$certs/$4.key" -CAcreateserial -days 2 -extfile "$certs/$1.ext" -out "$certs/$1.pem" 2>/dev/null
  chmod 600 "$certs/$1.key"
}

# --- PROFILE=1: a CPU profile of one process during one measurement, with Linux perf (cpu-clock samples, so it works
# in a VM without hardware counters) and the runtime's perf map for the JIT-compiled .NET frames. Export
# DOTNET_PerfMapEnabled=1 before starting the processes to be profiled (profile_env does). The summaries (top frames by
# self CPU, and CPU by library) land in $PROFILE_DIR (default bench/profiles, git-ignored).
profile_env() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  command -v perf >/dev/null || fail "PROFILE=1 needs perf (Debian package linux-perf)"
  export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0   # without W^X the JIT-compiled code is where the map says
  PROFILE_DIR=${PROFILE_DIR:-$repo/bench/profiles}
  mkdir -p "$PROFILE_DIR"
}
# profile_start NAME PID... [-- NAME PID...]: samples those processes until profile_stop, one profile per NAME (several
# at once: the proxy and `gatehouse proxy db` during the same measurement).
profile_start() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  profile_names=() profile_pids=()
  while [ $# -gt 0 ]; do
    local name=$1 targets=(); shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do targets+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    perf record -e cpu-clock -F 999 -g -o "$work/$name.perf" -p "$(IFS=,; echo "${targets[*]}")" >"$work/$name.perf.log" 2>&1 &
    profile_names+=("$name") profile_pids+=("$!")
    pids+=("$!")
  done
  sleep 0.5   # perf attaches in well under this; a few samples lost at the start do not change a top list
}
profile_stop() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  local i
  for i in "${!profile_pids[@]}"; do kill -INT "${profile_pids[$i]}" 2>/dev/null || true; done
  for i in "${!profile_pids[@]}"; do wait "${profile_pids[$i]}" 2>/dev/null || true; profile_summary "${profile_names[$i]}"; done
}
profile_summary() {
  local name=$1 out=$PROFILE_DIR/$1.txt
  {
    echo "# $name: CPU samples by library (perf, cpu-clock, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg))"
    perf report -i "$work/$name.perf" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/  */ /g' | head -n 12 || true
    echo "# top frames by self CPU"
    perf report -i "$work/$name.perf" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/  */ /g; s/ - - *$//' | cut -c1-220 | head -n 40 || true
  } >"$out"
  # The samples stay for a closer look (perf report -i FILE; the JIT's symbol maps are /tmp/perf-PID.map).
  mv "$work/$name.perf" "$PROFILE_DIR/$name.perf" 2>/dev/null || true
  say "profile of $name: $out"
}

# CPU seconds some processes have used so far, together (user + system, from /proc): read before and after a
# measurement, the difference divided by the work done is CPU per unit of work, which holds up on a shared machine
# where rates do not. (The fields are counted after the command name, which may hold spaces.)
cpu_seconds() {
  local pid
  for pid in "$@"; do cat "/proc/$pid/stat"; echo; done |
    awk -v hz="$(getconf CLK_TCK)" 'NF { sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%.3f", t / hz }'
}
# Milliseconds of CPU per unit: cpu_per BEFORE AFTER COUNT.
cpu_ms_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.4f", (b - a) * 1000 / n; else print "n/a" }'; }
# PROFILE=1 also counts the socket calls of some processes (perf stat on syscall tracepoints): a count that does not
# depend on the machine's load. syscalls_start NAME PID...: one count per process until syscalls_stop; the counts land
# in $PROFILE_DIR/NAME-PID.syscalls.txt and syscalls_per_mib PID BYTES prints sends and receives per MiB.
syscalls_start() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  local name=$1 pid; shift
  syscall_pids=()
  for pid in "$@"; do
    perf stat -x, -e syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg \
      -p "$pid" -o "$PROFILE_DIR/$name-$pid.syscalls.txt" >/dev/null 2>&1 &
    syscall_pids+=("$!"); pids+=("$!")
  done
  syscalls_name=$name
}
syscalls_stop() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  local pid
  for pid in "${syscall_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
syscalls_per_mib() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  awk -F, -v mib="$(( $2 / 1048576 ))" '/sendto|sendmsg/ { s += $1 } /recvfrom|recvmsg/ { r += $1 }
    END { printf "%.1f sends, %.1f receives", s / mib, r / mib }' "$PROFILE_DIR/$syscalls_name-$1.syscalls.txt"
}
