#!/usr/bin/env bash
# Per message, our Submit path against its peer, a Python + boto3 Lambda's botocore validate + serialize of the same
# SageMaker request (bench/peer/botocore_submit.py), each size measured interleaved (ours, the peer's, ours...) for
# ROUNDS rounds in this one run; prints a markdown table of medians and the ratio ours / peer's.
# Usage: bash bench/peer.sh [ROUNDS]      (about a minute with the default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
requests=bench/out/requests
dotnet build -c Release bench/TrainingOrchestrator.Bench -v quiet -nologo >/dev/null
bench=(dotnet bench/TrainingOrchestrator.Bench/bin/Release/net10.0/TrainingOrchestrator.Bench.dll)
"${bench[@]}" --write-requests "$requests"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "| request | body | ours (us) | Python + botocore (us) | ours / peer |"
echo "| --- | --- | --- | --- | --- |"
for size in small typical large; do
  count=$([ "$size" = large ] && echo 2000 || echo 10000)
  ours=() peer=()
  for _ in $(seq 1 "$rounds"); do
    ours+=("$("${bench[@]}" --time "$requests/$size.request.json" "$count")")
    peer+=("$(python3 bench/peer/botocore_submit.py "$requests/$size.request.json" "$requests/$size.plan.json" "$count")")
  done
  o=$(printf '%s\n' "${ours[@]}" | median)
  p=$(printf '%s\n' "${peer[@]}" | median)
  echo "| $size | $(wc -c <"$requests/$size.request.json") B | $o | $p | $(awk -v o="$o" -v p="$p" 'BEGIN { printf "%.2f", o / p }') |"
done
