#!/usr/bin/env bash
# Installs the real programs the tests talk to (Debian packages; skips what is present),
# builds once, runs every test project and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

peers=(openssl curl openssh-client openssh-server nginx libnginx-mod-stream haproxy postgresql mariadb-server mariadb-client kubectl)
missing=()
for pkg in "${peers[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing test peers: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # policy-rc.d keeps the packages' own services (sshd on :22, postgres on :5432, mariadb on :3306, nginx on :80) from starting:
  # the tests start their own instances on free loopback ports.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    $sudo rm -f /usr/sbin/policy-rc.d
    echo "test.sh: could not install ${missing[*]} with apt-get; install them and run ./test.sh again."
    echo "0 passed, 1 failed"
    exit 1
  fi
  $sudo rm -f /usr/sbin/policy-rc.d
fi

results=.test-results
rm -rf "$results"
if ! dotnet build Gatehouse.slnx -c Release -nologo -v q; then
  echo "test.sh: the build failed (see above)."
  echo "0 passed, 1 failed"
  exit 1
fi

status=0
dotnet test Gatehouse.slnx -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=$?

passed=0; failed=0; skipped=0; projects=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  projects=$((projects + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p"; }
  p=$(get passed); f=$(get failed); e=$(get error); t=$(get total); x=$(get executed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${t:-0} - ${x:-0}))
done
expected=$(ls -d tests/*/ | grep -vc '/Support/$')
if [ "$projects" -lt "$expected" ]; then
  echo "test.sh: only $projects of $expected test projects reported results (a test host crashed?)."
  failed=$((failed + expected - projects))
fi
[ "$failed" -eq 0 ] && [ "$status" -ne 0 ] && failed=1

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
