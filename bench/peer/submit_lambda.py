#!/usr/bin/env python3
"""The cold start peer: a Python + boto3 Lambda doing Submit's work for one request, as a team would write it without
us. It speaks Lambda's Runtime API itself (as the managed python runtime's bootstrap does: GET next, POST the answer),
and for each SQS record claims the job in DynamoDB (the same two puts-if-absent in one transaction as ours) and
creates it on SageMaker with the SageMaker request our plan gives for that sample (PLAN, from `--write-requests`),
renamed. It reads no contract and plans nothing: the comparison favours it.
Environment: AWS_LAMBDA_RUNTIME_API, ORCHESTRATOR_TABLE, PEER_PLAN, and the AWS variables (endpoints, region, keys)."""
import json
import os
import urllib.request

import boto3

api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"
table = os.environ["ORCHESTRATOR_TABLE"]
plan = json.load(open(os.environ["PEER_PLAN"]))["request"]
dynamodb = boto3.client("dynamodb")
sagemaker = boto3.client("sagemaker")


def submit(record):
    request = json.loads(record["body"])
    name = f"py-{request['requestId']}"[:63]
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(pk)",
                 "Item": {"pk": {"S": name}, "status": {"S": "Pending"}, "request": {"S": record["body"]}}}},
        {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(pk)",
                 "Item": {"pk": {"S": "request#" + request["requestId"]}, "jobName": {"S": name}}}},
    ])
    sagemaker.create_training_job(**{**plan, "TrainingJobName": name})


while True:
    with urllib.request.urlopen(f"{api}/invocation/next") as invocation:
        request_id = invocation.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(invocation)
    failures = []
    for record in event["Records"]:
        try:
            submit(record)
        except Exception:  # a batch item failure, as ours reports one
            failures.append({"itemIdentifier": record["messageId"]})
    answer = json.dumps({"batchItemFailures": failures}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{api}/invocation/{request_id}/response", data=answer, method="POST")).close()
