#!/usr/bin/env python3
"""Prints a CloudFormation template (JSON) that stands in for the deployed stack on moto: template.yaml's own jobs
queue and jobs table, its parameters, and its QueueUrl, TableName and PolicyParameterName outputs. moto cannot run the SAM functions;
scripts/try-on-moto.sh plays them with `orchestrator invoke`. Needs PyYAML (the AWS CLI and cfn-lint bring it)."""
import json
import pathlib
import sys

import yaml


class TemplateLoader(yaml.SafeLoader):
    pass


# CloudFormation's short forms (!Ref, !If, ...) as their long forms, which is what they mean.
def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        return {name: value.split(".") if suffix == "GetAtt" else value}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


TemplateLoader.add_multi_constructor("!", _tag)

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
template = yaml.load((root / "template.yaml").read_text(), Loader=TemplateLoader)
resources = {name: template["Resources"][name] for name in ("JobsQueue", "JobsDeadLetterQueue", "JobsTable")}
print(json.dumps({
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "TrainingOrchestrator's queue and table (from template.yaml), standing in for the stack on moto",
    "Parameters": template["Parameters"],
    "Conditions": template.get("Conditions", {}),
    "Resources": resources,
    "Outputs": {
        "QueueUrl": {"Value": {"Ref": "JobsQueue"}},
        "TableName": {"Value": {"Ref": "JobsTable"}},
        "PolicyParameterName": template["Outputs"]["PolicyParameterName"],
    },
}, indent=2))
