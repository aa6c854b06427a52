"""Expands template.yaml with AWS's SAM translator, offline and without credentials.

The translator only needs AWS to look up managed policy ARNs by name; a fixed map answers that
(every ARN it may need is built from the policy name). Exits non-zero with the translator's
messages when the template does not expand.

    python3 .ci/sam-translate.py template.yaml [out.json]
        Expands with the parameter defaults; prints the number of resources.
    python3 .ci/sam-translate.py template.yaml --sets sets.json --out-dir DIR
        sets.json maps a set name to parameter overrides ({"waf-off": {"EnableWaf": "false"}});
        writes DIR/<name>.json for each set and prints one JSON line per set:
        {"set": name, "resources": N}. The translator runs once per set, in this one process.
"""
import copy
import json
import logging
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}


class OfflinePolicyLoader:
    def load(self):
        return {}

    def __getattr__(self, name):
        raise AttributeError(name)


def packaged(template):
    # `sam package` replaces local CodeUri folders with S3 locations before the transform runs;
    # do the same with a placeholder so the translator sees what CloudFormation would.
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri", "."), str):
            if not str(props.get("CodeUri", ".")).startswith("s3://"):
                props["CodeUri"] = f"s3://gatehouse-offline-check/{logical_id}.zip"
    return template


def expand(template, overrides):
    """The translator's output for these parameter values, or None after printing its messages."""
    try:
        return transform(copy.deepcopy(template), {**PSEUDO, **overrides}, OfflinePolicyLoader())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print("sam-translator:", cause.message, file=sys.stderr)
        return None


def main(argv):
    # boto3 only needs a region name to build ARNs; no credentials and no network are used.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The translator times itself into a dummy publisher and warns about it when a second transform
    # runs in the same process; that is noise, not a finding about the template.
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    # Offline there is no feature toggle config (AWS's hosted transform has its own); the translator
    # warns once per lookup and uses its defaults.
    logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)
    path = argv[1] if len(argv) > 1 else "template.yaml"
    with open(path) as f:
        template = packaged(yaml_parse(f.read()))

    if "--sets" in argv:
        sets_file = argv[argv.index("--sets") + 1]
        out_dir = argv[argv.index("--out-dir") + 1]
        with open(sets_file) as f:
            sets = json.load(f)
        os.makedirs(out_dir, exist_ok=True)
        status = 0
        for name, overrides in sets.items():
            out = expand(template, overrides)
            if out is None:
                print(f"sam-translator: parameter set {name} does not expand", file=sys.stderr)
                status = 1
                continue
            with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
                json.dump(out, f, indent=1, default=str)
            print(json.dumps({"set": name, "resources": len(out.get("Resources", {}))}))
        return status

    out = expand(template, {})
    if out is None:
        return 1
    print(f"sam-translator: {path} expands to {len(out.get('Resources', {}))} CloudFormation resources")
    if len(argv) > 2:
        with open(argv[2], "w") as f:
            json.dump(out, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
