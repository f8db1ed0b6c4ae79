#!/usr/bin/env bash
# Builds gatehouse as one self-contained, ReadyToRun file for linux-x64 (a server needs no .NET SDK or runtime),
# into ./publish/gatehouse (or the folder given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-publish}"
dotnet publish src/Gatehouse.Cli/Gatehouse.Cli.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:PublishReadyToRun=true -p:IncludeNativeLibrariesForSelfExtract=true \
  -p:DebugType=none -nologo -v q -o "$out"
echo "deploy/publish-single-file.sh: wrote $out/gatehouse ($(du -h "$out/gatehouse" | cut -f1))"
