"""What only the Terraform output has: its pinned versions and variables, and references that
all resolve (what `terraform validate` would catch first)."""

import json
import re


def test_tf_pins_current_terraform_and_providers(outputs, tf, carrier):
    versions = (outputs.terraform / "versions.tf").read_text()
    assert 'required_version = ">= 1.5.0"' in versions
    # aws_pinpointsmsvoicev2_event_destination: in the AWS provider from 6.48 on.
    aws = ">= 5.0, < 7.0" if carrier == "sandbox" else ">= 6.48.0, < 7.0"
    assert f'version = "{aws}"' in versions
    assert "terraform" not in tf  # only versions.tf sets it: checkov cannot parse it in JSON
    # No null_data_source, and none of Chalice's own data sources.
    assert set(tf["data"]) == {"aws_iam_policy_document", "aws_caller_identity", "aws_partition"}
    assert "stage_name" not in tf["resource"]["aws_api_gateway_deployment"]["rest_api"]
    assert tf["resource"]["aws_api_gateway_stage"]["rest_api"]["stage_name"] == "api"
    # Its variables: tests/deploy/test_carrier_events.py, with CloudFormation's parameters.
    assert tf["provider"]["aws"]["region"] == "${var.region}"


def test_tf_every_reference_is_declared(tf):
    """What `terraform validate` would catch first: a reference to nothing."""
    text = json.dumps(tf)
    declared = {f"{kind}.{name}" for kind, named in tf["resource"].items() for name in named} | {
        f"data.{kind}.{name}" for kind, named in tf["data"].items() for name in named
    }
    references = re.findall(r"(?<![.\w])((?:aws|random)_[a-z0-9_]+)\.([\w-]+)", text)
    assert references
    for kind, name in references:
        assert f"{kind}.{name}" in declared, f"{kind}.{name}"
    for kind, name in re.findall(r"\bdata\.([a-z_]+)\.([\w-]+)", text):
        assert f"data.{kind}.{name}" in declared
    for name in re.findall(r"\blocal\.([a-z_]+)\b", text):
        assert name in tf["locals"], name
    for name in re.findall(r"\bvar\.([a-z_]+)\b", text):
        assert name in tf["variable"], name
