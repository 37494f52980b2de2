#!/usr/bin/env bash
# Builds the deployment package both ways with the Makefile (as sam build does), plus a plain JIT build for reference,
# and times each cold start (process start -> first response) started as Lambda's dotnet10 runtime starts
# `Handler: bootstrap` (dotnet exec bootstrap.dll, or the bootstrap executable), against the Runtime API emulator with
# one SQS event, DynamoDB on moto and SageMaker on loopback; and the peer, a Python + boto3 function doing the same
# claim and Create. Prints a Markdown table.
# Usage: bash bench/coldstart.sh [RUNS]      (default 11 runs of each build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
out="$PWD/bench/out/coldstart"
rm -rf "$out"
# The default deployment: what `make build-SubmitFunction` publishes with function-build.txt = managed (ReadyToRun).
make build-SubmitFunction ARTIFACTS_DIR="$out/managed" FUNCTION_BUILD=managed >/dev/null
# For reference: the same assembly without ReadyToRun (every method JIT-compiled at first use).
dotnet publish src/TrainingOrchestrator.Bootstrap -c Release -f net10.0 -p:UseAppHost=false -o "$out/jit" >/dev/null
# The other deployable kind: function-build.txt = native-aot.
make build-SubmitFunction ARTIFACTS_DIR="$out/aot" FUNCTION_BUILD=native-aot 2>&1 | tee "$out.aot.log" >/dev/null
if grep -E "warning (IL|AOT)[0-9]+" "$out.aot.log"; then echo "trim/AOT warnings above" >&2; exit 1; fi
dotnet build bench/TrainingOrchestrator.ColdStart -c Release >/dev/null
# The peer: a Python + boto3 function doing the same claim and Create (bench/peer/submit_lambda.py), with the SageMaker
# request our plan gives for the same sample.
dotnet run -c Release --project bench/TrainingOrchestrator.Bench -- --write-requests "$out/requests" >/dev/null
export PEER_PLAN="$out/requests/small.plan.json"
size() { du -sh "$1" | cut -f1; }
# The peer first: the ratios are to it.
dotnet bench/TrainingOrchestrator.ColdStart/bin/Release/net10.0/TrainingOrchestrator.ColdStart.dll "$runs" \
  "peer: Python $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') + boto3 $(python3 -c 'import boto3; print(boto3.__version__)')=python3 $PWD/bench/peer/submit_lambda.py" \
  "managed (default: ReadyToRun, net10.0)=dotnet exec $out/managed/bootstrap.dll" \
  "JIT only (net10.0, for reference)=dotnet exec $out/jit/bootstrap.dll" \
  "Native AOT (net9.0, linux-x64)=$out/aot/bootstrap"
echo
echo "Package sizes: managed $(size "$out/managed"), JIT only $(size "$out/jit") (both run on the dotnet10 runtime), Native AOT $(size "$out/aot/bootstrap") (self-contained); 0 trim/AOT warnings."
