#!/usr/bin/env bash
# Checks a deployed stack end to end without launching anything: sends a request that the contract refuses (so no
# SageMaker job and no cost) to the jobs queue, waits for Submit to record the refusal in the table, prints it.
# Usage: scripts/verify-deployment.sh [STACK]        (default: training-orchestrator, as in samconfig.toml)
#        QUEUE_URL=... TABLE=... scripts/verify-deployment.sh   (no CloudFormation lookup)
# The AWS CLI's usual credentials, region and endpoint settings apply.
set -euo pipefail
stack="${1:-training-orchestrator}"
output() {
  aws cloudformation describe-stacks --stack-name "$stack" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue"
}
queue="${QUEUE_URL:-$(output QueueUrl)}"
table="${TABLE:-$(output TableName)}"
request_id="verify-deployment-$(date -u +%Y%m%dT%H%M%SZ)-$RANDOM"
# A train request with no training block: refused with a JSON path, recorded under rejected#<requestId>.
aws sqs send-message --queue-url "$queue" --output text --query MessageId \
  --message-body "{\"version\":1,\"action\":\"train\",\"requestId\":\"$request_id\"}" >/dev/null
echo "sent request $request_id to $queue; waiting for Submit to record it in $table"
for _ in $(seq 1 "${VERIFY_ATTEMPTS:-45}"); do
  item=$(aws dynamodb get-item --table-name "$table" --consistent-read --output json \
    --key "{\"pk\":{\"S\":\"rejected#$request_id\"}}")
  if [ -n "$item" ]; then
    echo "$item"
    echo "ok: the queue, Submit and the table work (the request was refused on purpose: nothing was launched)"
    exit 0
  fi
  sleep 2
done
echo "no record after $((${VERIFY_ATTEMPTS:-45} * 2)) s: look at the Submit logs (sam logs --stack-name $stack --name SubmitFunction)" >&2
exit 1
