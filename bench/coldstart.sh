#!/usr/bin/env bash
# Builds the deployment package both ways with the Makefile (as sam build does), plus a plain JIT build for reference,
# and times each cold start (process start -> first response) started as Lambda's dotnet10 runtime starts
# `Handler: bootstrap` (dotnet exec bootstrap.dll, or the bootstrap executable), against the Runtime API emulator with
# one SQS event, DynamoDB on moto and SageMaker on loopback; and the peer, a Python + boto3 function doing the same
# claim and Create. Then the CPU each spends per message once warm. Prints Markdown tables.
# Usage: bash bench/coldstart.sh [RUNS]      (default 11 runs of each build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
out="$PWD/bench/out/coldstart"
rm -rf "$out"
mkdir -p "$out"   # a fresh clone has no bench/out/
# The default deployment: what `make build-SubmitFunction` publishes with function-build.txt = managed (self-contained,
# trimmed, composite ReadyToRun).
make build-SubmitFunction ARTIFACTS_DIR="$out/managed" FUNCTION_BUILD=managed > "$out.managed.log" 2>&1
# For reference: the same assembly on Lambda's own .NET (framework-dependent), ReadyToRun (the default until 2026-12-02)
# and without it (every method JIT-compiled at first use). The deployment's composite ReadyToRun output in obj/ goes
# first: the SDK would take it as up to date and copy it (components of a composite the reference lacks).
rm -rf src/TrainingOrchestrator.Bootstrap/obj/Release/net10.0/linux-x64/R2R
dotnet publish src/TrainingOrchestrator.Bootstrap -c Release -f net10.0 -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -p:UseAppHost=false -o "$out/shared-r2r" >/dev/null
dotnet publish src/TrainingOrchestrator.Bootstrap -c Release -f net10.0 -p:UseAppHost=false -o "$out/jit" >/dev/null
# The other deployable kind: function-build.txt = native-aot.
make build-SubmitFunction ARTIFACTS_DIR="$out/aot" FUNCTION_BUILD=native-aot > "$out.aot.log" 2>&1
# Both deployable kinds are trimmed: a trim or AOT warning is a bug.
if grep -E "warning (IL|AOT)[0-9]+" "$out.managed.log" "$out.aot.log"; then echo "trim/AOT warnings above" >&2; exit 1; fi
dotnet build bench/TrainingOrchestrator.ColdStart -c Release >/dev/null
# The peer: a Python + boto3 function doing the same claim and Create (bench/peer/submit_lambda.py), with the SageMaker
# request our plan gives for the same sample.
dotnet run -c Release --project bench/TrainingOrchestrator.Bench -- --write-requests "$out/requests" >/dev/null
export PEER_PLAN="$out/requests/small.plan.json"
size() { du -sh "$1" | cut -f1; }
# The peer first: the ratios are to it.
peer="peer: Python $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') + boto3 $(python3 -c 'import boto3; print(boto3.__version__)')=python3 $PWD/bench/peer/submit_lambda.py"
managed="managed (default: self-contained, trimmed, composite ReadyToRun; net10.0)=dotnet exec $out/managed/bootstrap.dll"
shared="on Lambda's .NET, ReadyToRun (net10.0, for reference)=dotnet exec $out/shared-r2r/bootstrap.dll"
aot="Native AOT (net10.0, linux-x64)=$out/aot/bootstrap"
coldstart=bench/TrainingOrchestrator.ColdStart/bin/Release/net10.0/TrainingOrchestrator.ColdStart.dll
dotnet "$coldstart" "$runs" "$peer" "$managed" "$shared" \
  "on Lambda's .NET, JIT only (net10.0, for reference)=dotnet exec $out/jit/bootstrap.dll" "$aot"
echo
echo "### Warm: CPU per message"
echo
dotnet "$coldstart" --warm 300 "$peer" "$managed" "$shared" "$aot"
echo
zipped() { (cd "$1" && zip -qr - . | wc -c | awk '{printf "%.1fM", $1 / 1048576}'); }
echo "Package sizes (unzipped, zipped): managed $(size "$out/managed"), $(zipped "$out/managed"); on Lambda's .NET ReadyToRun $(size "$out/shared-r2r"), $(zipped "$out/shared-r2r"); JIT only $(size "$out/jit"), $(zipped "$out/jit"); Native AOT $(size "$out/aot/bootstrap"), $(zipped "$out/aot"). 0 trim/AOT warnings."
