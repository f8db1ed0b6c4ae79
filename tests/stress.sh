#!/usr/bin/env bash
# Runs the end-to-end suite N times (default 10; `tests/stress.sh 3`) while stress-ng keeps every core busy, then
# prints each test that failed with how many runs it failed in, and one summary line. Installs stress-ng (Debian) when
# missing, as ./test.sh installs the peers. STRESS_FILTER passes a `dotnet test --filter` expression through (to stress
# a part of the suite); STRESS_WORKERS sets stress-ng's CPU workers (default: two per core).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "stress.sh: the number of runs must be a positive integer, not '$runs'." >&2; exit 2; }
workers=${STRESS_WORKERS:-$(( $(nproc) * 2 ))}

if ! command -v stress-ng >/dev/null; then
  echo "stress.sh: installing stress-ng (apt-get)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends stress-ng >/dev/null; }; then
    echo "stress.sh: could not install stress-ng with apt-get; install it and run again." >&2
    exit 1
  fi
fi
# The peers the suite talks to, and the build: ./test.sh's first half, without running its tests.
if ! dotnet build Gatehouse.slnx -c Release -nologo -v q >/dev/null; then
  echo "stress.sh: the build failed; run ./test.sh to see why." >&2
  exit 1
fi

results=.stress-results
rm -rf "$results"
mkdir -p "$results"
stress_pid=""
stop_stress() { [ -n "$stress_pid" ] && kill "$stress_pid" 2>/dev/null; [ -n "$stress_pid" ] && wait "$stress_pid" 2>/dev/null; stress_pid=""; }
trap stop_stress EXIT
trap 'exit 130' INT TERM

filter=()
[ -n "${STRESS_FILTER:-}" ] && filter=(--filter "$STRESS_FILTER")
green=0
for run in $(seq 1 "$runs"); do
  stress-ng --cpu "$workers" --timeout 3h --quiet &
  stress_pid=$!
  started=$SECONDS
  dotnet test tests/Gatehouse.EndToEnd -c Release --no-build --nologo "${filter[@]}" \
    --logger "trx;LogFileName=run-$run.trx" --results-directory "$results" >"$results/run-$run.log" 2>&1
  status=$?
  stop_stress
  trx=$results/run-$run.trx
  counters=$(grep -o '<Counters [^>]*>' "$trx" 2>/dev/null | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p"; }
  passed=$(get passed); f=$(get failed); e=$(get error); failed=$(( ${f:-0} + ${e:-0} ))
  if [ -z "$counters" ]; then
    echo "run $run: no results (the test host crashed?); see $results/run-$run.log"
    echo "(no results: test host)" >>"$results/failures.txt"
    continue
  fi
  # One line per failed test: its name, from the trx (testName attribute of a Failed result).
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed -n 's/.*testName="\([^"]*\)".*/\1/p' >>"$results/failures.txt"
  echo "run $run: ${passed:-0} passed, $failed failed in $((SECONDS - started)) s (load average $(cut -d' ' -f1 /proc/loadavg))"
  [ "$failed" -eq 0 ] && [ "$status" -eq 0 ] && green=$((green + 1))
done

if [ -s "$results/failures.txt" ]; then
  echo "failures per test:"
  sort "$results/failures.txt" | uniq -c | sort -rn
fi
echo "$green of $runs runs green under stress-ng ($workers CPU workers); logs and trx files in $results/"
[ "$green" -eq "$runs" ]
