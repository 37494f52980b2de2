#!/usr/bin/env bash
# Local mode's overhead: `orchestrator run` of a script-mode job against running the same script directly with the
# same python3 and the variables it reads, each measured ROUNDS times interleaved in this one run (medians).
# Two scripts: the script-mode sample (about 0.05 s of work) and bench/local/slow_train.py (2.5 s of CPU first).
# Also JOBS jobs in one `run` (an SQS event file of JOBS requests), which shows the cost per job apart from the
# command's own start, and the one job through `dotnet run --project` (the build check of every call) and through
# ./orchestrator. Prints a markdown table. Usage: bash bench/local-overhead.sh [ROUNDS] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
jobs="${2:-5}"
dotnet build -c Release src/TrainingOrchestrator.Cli -v quiet -nologo -nodeReuse:false >/dev/null
cli=(dotnet src/TrainingOrchestrator.Cli/bin/Release/net10.0/orchestrator.dll)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r samples/script-mode "$scratch/sample"
cp bench/local/slow_train.py "$scratch/sample/src/"
# The sample's request with another entry point, and an SQS event file of $jobs requests (distinct requestIds).
python3 - "$scratch/sample" "$jobs" <<'PY'
import json, sys
folder, jobs = sys.argv[1], int(sys.argv[2])
request = json.load(open(f"{folder}/train.json"))
slow = json.loads(json.dumps(request))
slow["requestId"], slow["training"]["script"]["entryPoint"] = "slow-001", "slow_train.py"
json.dump(slow, open(f"{folder}/slow.json", "w"))
records = []
for i in range(jobs):
    r = json.loads(json.dumps(request))
    r["requestId"] = f"batch-{i:03}"
    records.append({"messageId": f"m-{i}", "body": json.dumps(r)})
json.dump({"Records": records}, open(f"{folder}/batch.json", "w"))
PY
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
direct() {
  local out="$scratch/direct"; rm -rf "$out"; mkdir -p "$out/model" "$out/output"
  local start; start=$(now)
  (cd "$scratch/sample/src" && SM_CHANNEL_TRAINING="$scratch/sample/data/training" SM_MODEL_DIR="$out/model" SM_OUTPUT_DIR="$out/output" \
    python3 "$1" --scale 1.0 >/dev/null)
  seconds "$start" "$(now)"
}
local_run() {
  rm -rf "$scratch/work"
  local start; start=$(now)
  "${@:2}" run "$scratch/sample/$1" --work "$scratch/work" >/dev/null
  seconds "$start" "$(now)"
}
./orchestrator --help >/dev/null # builds it once, before the clock
declare -A times
for _ in $(seq 1 "$rounds"); do
  times[direct_fast]+="$(direct train.py) "
  times[run_fast]+="$(local_run train.json "${cli[@]}") "
  times[wrapper_fast]+="$(local_run train.json ./orchestrator) "
  times[dotnet_run_fast]+="$(local_run train.json dotnet run --project src/TrainingOrchestrator.Cli --) "
  times[direct_slow]+="$(direct slow_train.py) "
  times[run_slow]+="$(local_run slow.json ./orchestrator) "
  times[run_batch]+="$(local_run batch.json ./orchestrator) "
done
m() { printf '%s\n' ${times[$1]} | median; }
df=$(m direct_fast); rf=$(m run_fast); ds=$(m direct_slow); rs=$(m run_slow); rb=$(m run_batch); wf=$(m wrapper_fast); dr=$(m dotnet_run_fast)
row() { awk -v n="$1" -v d="$2" -v r="$3" 'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.2fx |\n", n, d, r, r - d, r / d }'; }
echo "| job | script directly (s) | orchestrator run (s) | overhead (s) | ratio |"
echo "| --- | ---: | ---: | ---: | ---: |"
row "script-mode sample, one job: dotnet run --project ... -- run" "$df" "$dr"
row "script-mode sample, one job: ./orchestrator run" "$df" "$wf"
row "script-mode sample, one job: dotnet orchestrator.dll run" "$df" "$rf"
row "slow_train.py (2.5 s CPU), one job: ./orchestrator run" "$ds" "$rs"
awk -v n="$jobs" -v d="$df" -v b="$rb" -v r="$wf" 'BEGIN {
  per = (b - r) / (n - 1)
  printf "| script-mode sample, %d jobs in one ./orchestrator run: each after the first | %.2f | %.2f | %.2f | %.2fx |\n", n, d, per, per - d, per / d }'
echo
echo "Medians of $rounds rounds, interleaved; $(python3 --version 2>&1) (python3 from PATH, through pyenv here); $(nproc) CPUs."
