#!/usr/bin/env bash
# Builds the gatehouse command when its sources changed, then runs it with the given arguments.
# `./gatehouse.sh start` runs the proxy on the embedded default: ./gatehouse-data (SQLite store, generated CAs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dll="$here/src/Gatehouse.Cli/bin/Release/net10.0/gatehouse.dll"
if [ ! -f "$dll" ] || [ -n "$(find "$here/src" "$here/Directory.Build.props" "$here/Directory.Packages.props" -newer "$dll" \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/obj/*' -print -quit)" ]; then
  if ! log=$(dotnet build "$here/src/Gatehouse.Cli/Gatehouse.Cli.csproj" -c Release -nologo -v q 2>&1); then
    echo "$log" >&2
    echo "gatehouse.sh: the build failed (above)." >&2
    exit 1
  fi
fi
exec dotnet "$dll" "$@"
