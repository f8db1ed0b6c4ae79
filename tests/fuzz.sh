#!/usr/bin/env bash
# Long mode of the parser fuzzing (docs/reliability.md, "Fuzzing"): the same targets ./test.sh runs briefly, each with
# GATEHOUSE_FUZZ_INPUTS inputs (10^6 by default). Usage: tests/fuzz.sh TARGET[,TARGET...]|all
#   GATEHOUSE_FUZZ_SEED=N       another seed than the default (the seed is printed; a failure prints the one to reuse)
#   GATEHOUSE_FUZZ_ONLY=I       run input I alone (with the seed of a failure: reproduces it)
# Targets: client-hello dial-frames ping-framing x-forwarded-for header-<format> (ten: aws-alb-passthrough, aws-alb-verify,
# azure-arr, cloudflare, envoy-xfcc, gcp, haproxy, nginx, rfc9440, traefik) x500-rfc2253 x500-der crl openssh-certificate
# forwarded-certificate login-public-key role-yaml postgres-startup postgres-messages postgres-scram mysql-handshake mysql-greeting mysql-commands upgrade-response
set -uo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: tests/fuzz.sh TARGET[,TARGET...]|all}
export GATEHOUSE_FUZZ_TARGET=$target
export GATEHOUSE_FUZZ_INPUTS=${GATEHOUSE_FUZZ_INPUTS:-1000000}
export GATEHOUSE_FUZZ_REPORT=${GATEHOUSE_FUZZ_REPORT:-$PWD/.fuzz-results/summary.txt}
mkdir -p "$(dirname "$GATEHOUSE_FUZZ_REPORT")"
: >"$GATEHOUSE_FUZZ_REPORT"
dotnet build Gatehouse.slnx -c Release -nologo -v q || { echo "fuzz.sh: the build failed"; exit 1; }
status=0
for project in Gatehouse.Tests Gatehouse.Proxy.Tests Gatehouse.Client.Tests; do
  dotnet test "tests/$project" -c Release --no-build --nologo --filter "FullyQualifiedName~.Fuzzing." \
    --logger "console;verbosity=normal" || status=1
done
echo "--- $GATEHOUSE_FUZZ_REPORT"
cat "$GATEHOUSE_FUZZ_REPORT"
[ -s "$GATEHOUSE_FUZZ_REPORT" ] || { echo "fuzz.sh: no target named '$target' ran"; status=1; }
exit $status
