#!/usr/bin/env bash
# Writes docs/performance.md: per-message costs (BenchmarkDotNet), cold start of the three builds
# (bench/coldstart.sh), and AWS calls per launch / state event / Reconcile plus batch concurrency (the cost
# suite in test/TrainingOrchestrator.Functions.Tests, at its full counts), local mode's overhead over running a script
# directly (bench/local-overhead.sh), then prints the targets table (bench/targets.py). About 25 minutes.
# Usage: bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts=bench/TrainingOrchestrator.Bench/BenchmarkDotNet.Artifacts
figures=bench/out/figures
rm -rf "$artifacts" "$figures"
mkdir -p "$figures"
dotnet run -c Release --project bench/TrainingOrchestrator.Bench -- --filter '*' --artifacts "$artifacts" >/dev/null
bash bench/coldstart.sh 11 > "$figures/coldstart.md"
peer=$(bash bench/peer.sh 5)
ORCHESTRATOR_SUITE=full ORCHESTRATOR_FIGURES="$PWD/$figures" \
  dotnet test test/TrainingOrchestrator.Functions.Tests --filter "FullyQualifiedName~CostTests" >/dev/null
ORCHESTRATOR_SUITE=full ORCHESTRATOR_FIGURES="$PWD/$figures" \
  dotnet test test/TrainingOrchestrator.Handlers.Tests --filter "FullyQualifiedName~QueueScaleTests" >/dev/null
bash bench/local-overhead.sh 5 5 > "$figures/local-overhead.md"
python3 bench/targets.py "$artifacts/results" bench/out/requests "$figures/coldstart.md" "$figures/performance/concurrency.md" > "$figures/targets.md"
{
  echo "# Performance"
  echo
  echo "Produced by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d) on this project's machine (2 cores, x64; a shared, noisy"
  echo "machine: compare figures of one run, not across runs)."
  echo
  echo "## Targets"
  echo
  echo "Issue 19's targets, each from the figures below (\`bench/targets.py\`); the peer is a Python + boto3 Lambda doing the"
  echo "same work, measured in this same run."
  echo
  cat "$figures/targets.md"
  echo
  echo "## Per message (BenchmarkDotNet, in-process, Release)"
  echo
  echo "- **Submit path**: read, validate and plan one request, and serialize its SageMaker request: what Submit"
  echo "  does per message before any AWS call. small = a built-in XGBoost training request; typical = a tuning"
  echo "  request (5 ranges); large = a tuning request at the API's limits (30 ranges, 35 fixed hyperparameters,"
  echo "  40 metric definitions). PlainParse is the floor: a plain \`JsonDocument\` parse of the same body; Ratio is the"
  echo "  Submit path in those."
  echo "- **State event**: parse a SageMaker state-change event (the developer guide's sample with five status"
  echo "  transitions) and apply it to a record: what StateChange does per event before its one write. Target: 10 us."
  echo "- **Governed Submit path**: the Submit path without a policy against the same request sent as the research team of"
  echo "  samples/policy/three-teams.json (team found, claim checked, default tags, rules on the plan). Target: within 1.10."
  echo
  for report in "$artifacts"/results/*-report-github.md; do
    echo "### $(basename "$report" -report-github.md | sed 's/^.*\.//')"
    echo
    sed -n '/^|/p' "$report"
    echo
  done
  echo "### Against the peer (bench/peer.sh)"
  echo
  echo "The same requests, per message, against what a Python + boto3 Lambda does with them before its AWS calls at the"
  echo "least: \`json.loads\` of the body, then botocore's \`ParamValidator\` and JSON serializer on the SageMaker request"
  echo "our plan gives (bench/peer/botocore_submit.py; it checks nothing of the contract and plans nothing). Measured"
  echo "interleaved, ours then the peer's, 5 rounds of a process each; medians; ours after 3 s of warm-up (tiered compilation)."
  echo
  echo "$peer"
  echo
  echo "## Cold start (bench/coldstart.sh)"
  echo
  echo "The deployment package as the Makefile builds it (\`make build-SubmitFunction\`, both kinds), plus the same code on"
  echo "Lambda's own .NET (framework-dependent, with and without ReadyToRun) for reference, each run a new process started as"
  echo "Lambda's dotnet10 runtime starts \`Handler: bootstrap\` (\`dotnet exec bootstrap.dll\`, or the \`bootstrap\` executable): the"
  echo "Runtime API emulator (\`test/TrainingOrchestrator.Testing/LambdaRuntimeEmulator.cs\`) hands it one SQS event with a"
  echo "training request; it claims the job in DynamoDB (moto) and creates it on a loopback SageMaker. Timed from process start"
  echo "to the response's arrival at the emulator; init is the time to the first \`GET /invocation/next\`. The first row is the"
  echo "peer, a Python + boto3 function doing the same claim and Create (bench/peer/submit_lambda.py: its own Runtime API loop,"
  echo "the SageMaker request our plan gives for the sample, precomputed); ratios are to it. The builds are interleaved (each"
  echo "round runs every build once). The warm table: one process per build, CPU (user + system, all threads) per message"
  echo "over 300 invocations after 30."
  echo
  cat "$figures/coldstart.md"
  echo
  echo "Both deployable builds are net10.0 (Native AOT with .NET 10's ILCompiler). x64 only here."
  echo
  echo "## AWS calls (cost suite: test/TrainingOrchestrator.Functions.Tests/CostTests.cs)"
  echo
  echo "Counted at the clients (each operation once, whatever its retries). Targets: 2 per launched job, 1 conditional"
  echo "write per state event, and Reconcile reads only the unfinished jobs and Describes them."
  echo
  cat "$figures/performance/calls.md"
  echo
  cat "$figures/performance/reconcile.md"
  echo
  echo "## Capacity: the ledger and the queue (CostTests.Under_capacity_limits_..., QueueScaleTests)"
  echo
  echo "A launch under limits, a request that does not fit, and a job's end that admits the next (moto; the policy's"
  echo "parameter, read once a minute per function container, left out); Reconcile's reads with a long queue (in-memory store)."
  echo
  cat "$figures/performance/capacity-calls.md"
  echo
  cat "$figures/performance/capacity-reads.md"
  echo
  echo "## Concurrency"
  echo
  cat "$figures/performance/concurrency.md"
  echo
  echo "## Local mode: overhead over running the script directly (bench/local-overhead.sh)"
  echo
  cat "$figures/local-overhead.md"
} > docs/performance.md
echo "wrote docs/performance.md"
cat "$figures/targets.md"
