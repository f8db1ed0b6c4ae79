#!/usr/bin/env bash
# Runs the Gatehouse benchmarks in Release and then prints, per forwarded-certificate format, the cold/cached ratio
# measured in this run. Arguments go to BenchmarkDotNet (default: --filter '*' --job short).
# The ratio lines come from the ColdCachedRatioExporter (bench/Gatehouse.Benchmarks/ColdCachedRatioExporter.cs),
# which writes BenchmarkDotNet.Artifacts/results/*-ratios.txt next to the usual CSV/markdown reports.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -gt 0 ] || set -- --filter '*' --job short

results=BenchmarkDotNet.Artifacts/results
mkdir -p "$results"
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

dotnet run -c Release --project bench/Gatehouse.Benchmarks -- "$@"

echo
echo "cold/cached per format (this run):"
found=0
for file in "$results"/*-ratios.txt; do
  [ -f "$file" ] && [ "$file" -nt "$marker" ] || continue
  found=1
  sed 's/^/  /' "$file"
done
[ "$found" -eq 1 ] || echo "  (no ratios written: did the filter select the ForwardedCertificateBenchmarks cold and cached benchmarks?)"
