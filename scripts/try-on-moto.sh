#!/usr/bin/env bash
# The operating commands (submit, watch, status, logs) on a stand-in deployment on moto: no AWS account, nothing paid.
# The stack holds template.yaml's own queue and table (scripts/stand-in-stack.py). moto cannot run Lambda functions, so
# this script plays Lambda's part with `orchestrator invoke`: what the queue holds goes to Submit, SageMaker's state
# events (the developer guide's sample, renamed to the job) go to StateChange. Everything else is what a user types.
# Needs moto_server, the AWS CLI and python3 with PyYAML (the AWS CLI brings it). Usage: scripts/try-on-moto.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-5123}"
work="$(mktemp -d)"
# ORCHESTRATOR_CLI: an orchestrator.dll already built (the tests pass theirs); otherwise this builds one. No MSBuild
# worker nodes are left behind for later builds to find (or to find killed).
cli="${ORCHESTRATOR_CLI:-src/TrainingOrchestrator.Cli/bin/Debug/net10.0/orchestrator.dll}"
[ -n "${ORCHESTRATOR_CLI:-}" ] || dotnet build src/TrainingOrchestrator.Cli -v quiet -nologo -nodeReuse:false >/dev/null
orchestrator() { dotnet "$cli" "$@"; }
say() { printf '\n$ %s\n' "$*"; }

moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
awsm() { aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
for _ in $(seq 1 100); do curl -sf "$AWS_ENDPOINT_URL/moto-api/data.json" >/dev/null && break; sleep 0.2; done

# "sam deploy", as far as moto goes: the queue and table, the parameters, the outputs the CLI reads.
stack=training-orchestrator
role=arn:aws:iam::123456789012:role/SageMakerExecution
python3 scripts/stand-in-stack.py >"$work/stack.json"
awsm cloudformation create-stack --stack-name "$stack" --template-body "file://$work/stack.json" --parameters \
  "ParameterKey=ExecutionRoleArn,ParameterValue=$role" ParameterKey=DefaultOutputUri,ParameterValue=s3://example-ml-bucket/models/ >/dev/null
output() { awsm cloudformation describe-stacks --stack-name "$stack" --output text --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue"; }
queue="$(output QueueUrl)"
table="$(output TableName)"
awsm events create-event-bus --name "$stack" >/dev/null

# Lambda's part. The functions' environment, as template.yaml sets it.
lambda() {
  ORCHESTRATOR_ROLE_ARN=$role ORCHESTRATOR_OUTPUT_URI=s3://example-ml-bucket/models/ ORCHESTRATOR_ALLOWED_BUCKETS=example-ml-bucket \
  ORCHESTRATOR_NAME_PREFIX=to ORCHESTRATOR_ALLOW_ROLE_OVERRIDE=false ORCHESTRATOR_TABLE="$table" ORCHESTRATOR_EVENT_BUS="$stack" \
  ORCHESTRATOR_EVENT_SOURCE="$stack" ORCHESTRATOR_FUNCTION_TIMEOUT_SECONDS=60 ORCHESTRATOR_QUEUE_URL="$queue" \
    orchestrator invoke "$@" >/dev/null 2>>"$work/lambda.log" || { cat "$work/lambda.log" >&2; exit 1; }
}
# The event source mapping: receive what is on the queue, hand it to Submit as an SQS event, delete it.
deliver_queue() {
  awsm sqs receive-message --queue-url "$queue" --max-number-of-messages 10 --output json >"$work/received.json"
  python3 - "$work/received.json" "$work/sqs-event.json" <<'PY'
import json, sys
messages = json.load(open(sys.argv[1])).get("Messages", []) if open(sys.argv[1]).read().strip() else []
json.dump({"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"}
                       for m in messages]}, open(sys.argv[2], "w"))
PY
  lambda Submit "$work/sqs-event.json"
  python3 -c 'import json,sys; [print(r["receiptHandle"]) for r in json.load(open(sys.argv[1]))["Records"]]' "$work/sqs-event.json" |
    while read -r handle; do awsm sqs delete-message --queue-url "$queue" --receipt-handle "$handle"; done
}
# SageMaker's part: its state-change event for the job, as the developer guide's sample, at a point of its life.
sagemaker_event() { # job status step...
  python3 - "$work/event.json" "$started_ms" "$@" <<'PY'
import json, sys
path, started, job, status, *steps = sys.argv[1:]
event = json.load(open("events/eventbridge-training-job-state-change.completed.json"))
d = event["detail"]
# Real times: SageMaker creates the job when the first event is sent, and each step takes a second.
ms = lambda second: str(int(started) + second * 1000)
d.update(TrainingJobName=job, TrainingJobArn=f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}",
         TrainingJobStatus=status, SecondaryStatus=steps[-1], LastModifiedTime=ms(len(steps)),
         CreationTime=ms(0), TrainingStartTime=ms(0), TrainingEndTime=ms(len(steps) - 1),
         SecondaryStatusTransitions=[{"Status": s, "StartTime": ms(i), **({"EndTime": ms(i + 1)} if i + 1 < len(steps) else {}),
                                      "StatusMessage": f"{s} the job"} for i, s in enumerate(steps)])
if status == "Completed":
    d["ModelArtifacts"] = {"S3ModelArtifacts": f"s3://example-ml-bucket/models/{job}/output/model.tar.gz"}
    d["FinalMetricDataList"] = [{"MetricName": "validation:mse", "Value": 0.0012, "Timestamp": ms(len(steps))}]
else:
    d.pop("TrainingEndTime", None)
json.dump(event, open(path, "w"))
PY
  lambda StateChange "$work/event.json"
}

say orchestrator submit samples/linear-regression/train.json --stack $stack
orchestrator submit samples/linear-regression/train.json --stack "$stack" | tee "$work/submit.txt"
job="$(sed -n 's/^sent: .* -> \([^ ]*\) .*/\1/p' "$work/submit.txt")"
request_id="$(python3 -c 'import json; print(json.load(open("samples/linear-regression/train.json"))["requestId"])')"
deliver_queue

say orchestrator status "$job" --stack $stack
orchestrator status "$job" --stack "$stack"

started_ms=$(($(date +%s%N) / 1000000))
sagemaker_event "$job" InProgress Starting Downloading Training
say orchestrator watch "$job" --stack $stack --interval 1
orchestrator watch "$job" --stack "$stack" --interval 1 &
watcher=$!
sleep 3
sagemaker_event "$job" Completed Starting Downloading Training Uploading Completed
set +e; wait $watcher; watched=$?; set -e
echo "(watch exited $watched)"

say orchestrator status --stack $stack
orchestrator status --stack "$stack"

say orchestrator status "$request_id" --stack $stack --json
orchestrator status "$request_id" --stack "$stack" --json

# SageMaker writes the algorithm's output to CloudWatch Logs, one stream per instance.
group=/aws/sagemaker/TrainingJobs
awsm logs create-log-group --log-group-name $group
awsm logs create-log-stream --log-group-name $group --log-stream-name "$job/algo-1-$((started_ms / 1000))"
now=$(($(date +%s) * 1000))
awsm logs put-log-events --log-group-name $group --log-stream-name "$job/algo-1-$((started_ms / 1000))" --log-events \
  "timestamp=$now,message=epoch 1 train:mse=0.9" "timestamp=$((now + 1)),message=epoch 40 train:mse=0.0011 validation:mse=0.0012" >/dev/null
say orchestrator logs "$job" --stack $stack
orchestrator logs "$job" --stack "$stack"

say aws dynamodb get-item --table-name "\$TableName" --key '{"pk":{"S":"'"$job"'"}}' --query 'Item.[status.S,secondaryStatus.S,endTime.S,modelArtifacts.S]'
awsm dynamodb get-item --table-name "$table" --key '{"pk":{"S":"'"$job"'"}}' --query 'Item.[status.S,secondaryStatus.S,endTime.S,modelArtifacts.S]' --output text
