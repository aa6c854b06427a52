"""Expands template.yaml with AWS's SAM translator, offline and without credentials.

The translator only needs AWS to look up managed policy ARNs by name; a fixed map answers that
(every ARN it may need is built from the policy name). Prints the number of CloudFormation
resources; exits non-zero with the translator's messages when the template does not expand.
"""
import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    def load(self):
        return {}

    def __getattr__(self, name):
        raise AttributeError(name)


def main(path):
    # boto3 only needs a region name to build ARNs; no credentials and no network are used.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    # `sam package` replaces local CodeUri folders with S3 locations before the transform runs;
    # do the same with a placeholder so the translator sees what CloudFormation would.
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri", "."), str):
            if not str(props.get("CodeUri", ".")).startswith("s3://"):
                props["CodeUri"] = f"s3://gatehouse-offline-check/{logical_id}.zip"
    params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    try:
        out = transform(template, params, OfflinePolicyLoader())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print("sam-translator:", cause.message, file=sys.stderr)
        return 1
    resources = out.get("Resources", {})
    print(f"sam-translator: {path} expands to {len(resources)} CloudFormation resources")
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            json.dump(out, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
