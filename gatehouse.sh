#!/usr/bin/env bash
# Builds the gatehouse command (incrementally) and runs it with the given arguments.
# `./gatehouse.sh start` runs the proxy on the embedded default: ./gatehouse-data (SQLite store, generated CAs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet build "$here/src/Gatehouse.Cli/Gatehouse.Cli.csproj" -c Release -nologo -v q >&2
exec dotnet "$here/src/Gatehouse.Cli/bin/Release/net10.0/gatehouse.dll" "$@"
