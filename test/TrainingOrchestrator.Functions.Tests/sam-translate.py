"""Translates template.yaml with aws-sam-translator, as `sam deploy` would, and prints the CloudFormation JSON."""
import json
import sys

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no AWS managed policies, so the translator needs no IAM lookup (and no AWS account)."""

    def load(self):
        return {}


template = cfn_yaml.load(sys.argv[1])
# What `sam package` does before the transform: local code becomes an uploaded artifact.
template["Globals"]["Function"]["CodeUri"] = "s3://packaged-by-sam/functions.zip"
print(json.dumps(transform(template, {}, NoManagedPolicies()), default=str, indent=1))
