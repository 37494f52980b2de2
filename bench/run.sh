#!/usr/bin/env bash
# Measures the per-message costs with BenchmarkDotNet and writes docs/performance.md from its results.
# Usage: bash bench/run.sh            (all benchmarks, BenchmarkDotNet's default job: a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts=bench/TrainingOrchestrator.Bench/BenchmarkDotNet.Artifacts
rm -rf "$artifacts"
dotnet run -c Release --project bench/TrainingOrchestrator.Bench -- --filter '*' --artifacts "$artifacts" >/dev/null
{
  echo "# Performance"
  echo
  echo "Produced by \`bash bench/run.sh\` (BenchmarkDotNet, in-process, Release) on $(date -u +%Y-%m-%d) on this project's machine"
  echo "(2 cores; a shared, noisy machine: compare figures of one run, not across runs)."
  echo
  echo "- **Submit path**: read, validate and plan one request, and serialize its SageMaker request: what Submit"
  echo "  does per message before any AWS call. small = a built-in XGBoost training request; typical = a tuning"
  echo "  request (4 ranges); large = a tuning request at the API's limits (60 ranges, 35 fixed hyperparameters,"
  echo "  40 metric definitions). Targets: 20 us and 16 KB per message."
  echo "- **State event**: parse a SageMaker state-change event (the developer guide's sample with five status"
  echo "  transitions) and apply it to a record: what StateChange does per event before its one write. Target: 10 us."
  echo
  for report in "$artifacts"/results/*-report-github.md; do
    echo "## $(basename "$report" -report-github.md)"
    echo
    sed -n '/^|/p' "$report"
    echo
  done
} > docs/performance.md
echo "wrote docs/performance.md"
