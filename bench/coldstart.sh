#!/usr/bin/env bash
# Builds the bootstrap three ways and times its cold start (process start -> first response) against the Runtime
# API emulator, with one SQS event, DynamoDB on moto and SageMaker on loopback. Prints a Markdown table.
# Usage: bash bench/coldstart.sh [RUNS]      (default 11 runs of each build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
out=bench/out/coldstart
rm -rf "$out"
project=src/TrainingOrchestrator.Bootstrap
# JIT: framework-dependent IL, as the managed dotnet10 runtime would load it.
dotnet publish "$project" -c Release -f net10.0 -o "$out/jit" -p:UseAppHost=true >/dev/null
# ReadyToRun: the same, precompiled for linux-x64 (the JIT still runs for what R2R cannot cover).
dotnet publish "$project" -c Release -f net10.0 -r linux-x64 --self-contained false -p:BootstrapReadyToRun=true -o "$out/r2r" >/dev/null
# Native AOT: a self-contained executable (net9.0: this machine's NuGet copy has no .NET 10 NativeAOT runtime pack).
dotnet publish "$project" -c Release -f net9.0 -r linux-x64 -o "$out/aot" 2>&1 | tee "$out.aot.log" >/dev/null
if grep -E "warning (IL|AOT)[0-9]+" "$out.aot.log"; then echo "trim/AOT warnings above" >&2; exit 1; fi
dotnet build bench/TrainingOrchestrator.ColdStart -c Release >/dev/null
size() { du -sh "$1" | cut -f1; }
dotnet bench/TrainingOrchestrator.ColdStart/bin/Release/net10.0/TrainingOrchestrator.ColdStart.dll "$runs" \
  "JIT (net10.0)=$out/jit/bootstrap" \
  "ReadyToRun (net10.0, linux-x64)=$out/r2r/bootstrap" \
  "Native AOT (net9.0, linux-x64)=$out/aot/bootstrap"
echo
echo "Deployment sizes: JIT $(size "$out/jit"), ReadyToRun $(size "$out/r2r") (both need the dotnet runtime), Native AOT $(size "$out/aot/bootstrap") (self-contained); 0 trim/AOT warnings."
