#!/usr/bin/env bash
# The README's walk-through, on the sandbox (scripts/sandbox.py): moto, the three functions running as Lambda would, and
# a SageMaker stand-in whose jobs take time and can be stopped. No AWS account, nothing paid. It types what a newcomer
# types: submit and watch a job, read its log, submit another and stop it, list them; then takes the sandbox down,
# unless --keep (then `source .sandbox/env` and go on by hand; `scripts/sandbox.py down` when done).
# Usage: scripts/try-on-moto.sh [--keep] [PORT [SAGEMAKER_PORT]]
set -euo pipefail
cd "$(dirname "$0")/.."
keep=false
if [ "${1:-}" = --keep ]; then keep=true; shift; fi
port="${1:-5123}"
sagemaker_port="${2:-$((port + 1))}"
work=.sandbox
$keep || work="$(mktemp -d)"
# ORCHESTRATOR_CLI: an orchestrator.dll already built (the tests pass theirs); otherwise ./orchestrator builds one.
# Standard error with standard output, as a terminal shows them (where each command acts is said on standard error).
if [ -n "${ORCHESTRATOR_CLI:-}" ]; then orchestrator() { dotnet "$ORCHESTRATOR_CLI" "$@" 2>&1; }; else orchestrator() { ./orchestrator "$@" 2>&1; }; fi
say() { printf '\n$ %s\n' "$*"; }
started=$SECONDS

say scripts/sandbox.py up --training-seconds 10
python3 scripts/sandbox.py up --port "$port" --sagemaker-port "$sagemaker_port" --training-seconds 10 --work "$work"
$keep || trap 'python3 scripts/sandbox.py down --work "$work" >/dev/null; rm -rf "$work"' EXIT
say source .sandbox/env
# shellcheck disable=SC1091
source "$work/env"

say orchestrator submit samples/linear-regression/train.json
orchestrator submit samples/linear-regression/train.json | tee "$work/submit.txt"
job="$(sed -n 's/^sent: .* -> \([^ ]*\) .*/\1/p' "$work/submit.txt")"

say orchestrator watch "$job" --interval 1
set +e; orchestrator watch "$job" --interval 1; watched=$?; set -e
echo "(watch exited $watched)"

say orchestrator logs "$job"
orchestrator logs "$job"

# The same request again is caught before sending; an edited one under the same requestId too.
say orchestrator submit samples/linear-regression/train.json
orchestrator submit samples/linear-regression/train.json
python3 -c 'import json; r = json.load(open("samples/linear-regression/train.json")); r["training"]["hyperparameters"]["epochs"] = 400; print(json.dumps(r))' >"$work/edited.json"
say orchestrator submit edited.json
set +e; orchestrator submit "$work/edited.json"; edited=$?; set -e
echo "(submit exited $edited)"

# A second request (its own requestId), stopped while it trains.
python3 -c 'import json; r = json.load(open("samples/linear-regression/train.json")); r["requestId"] = "linreg-train-002"; print(json.dumps(r))' >"$work/second.json"
say orchestrator submit second.json --wait
orchestrator submit "$work/second.json" --wait --interval 1 >"$work/second.txt" 2>&1 &
waiter=$!
second=linreg-train-002
for _ in $(seq 1 120); do
  case "$(orchestrator status "$second" --json 2>/dev/null || true)" in *'"secondaryStatus": "Training"'*) break ;; esac
  sleep 1
done
say orchestrator stop "$second"
orchestrator stop "$second"
set +e; wait $waiter; stopped=$?; set -e
grep -E 'Stopping|Stopped' "$work/second.txt" | grep -v '│'
echo "(submit --wait exited $stopped)"

say orchestrator status
orchestrator status

$keep && echo "(the sandbox stays up: source $work/env to go on; scripts/sandbox.py down when done)"
echo "(walk-through: $(( SECONDS - started )) s)"
