#!/usr/bin/env python3
"""The peer of the Submit path, per message: what a Python + boto3 Lambda would do with the same request before its
AWS calls, at the least: parse the message body (json.loads) and have botocore validate and serialize the SageMaker
request it becomes (ParamValidator, then the JSON serializer: what every boto3 call does before it sends). Our path
also reads the request against the contract and plans it, which this peer does not do at all, so the comparison
favours the peer. Prints the median microseconds per message.
Usage: botocore_submit.py SIZE.request.json SIZE.plan.json COUNT"""
import json
import sys
import time

import botocore.session
from botocore.serialize import create_serializer
from botocore.validate import ParamValidator

request_path, plan_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = open(request_path, "rb").read()
plan = json.load(open(plan_path))
model = botocore.session.get_session().get_service_model("sagemaker")
operation = model.operation_model(plan["operation"])
validator = ParamValidator()
serializer = create_serializer("json", include_validation=False)


def submit():
    json.loads(body)
    params = plan["request"]
    report = validator.validate(params, operation.input_shape)
    if report.has_errors():
        raise SystemExit(report.generate_report())
    serializer.serialize_to_request(params, operation)


for _ in range(count):
    submit()
batch = max(1, count // 10)
medians = []
for _ in range(15):
    start = time.perf_counter()
    for _ in range(batch):
        submit()
    medians.append((time.perf_counter() - start) * 1e6 / batch)
print(f"{sorted(medians)[len(medians) // 2]:.2f}")
