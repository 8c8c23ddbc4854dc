"""Turn `chalice package --pkg-format terraform` output into a configuration for Terraform
>= 1.5 and the AWS provider 5 and 6, with the table, IAM and page-token secret added.

Chalice 1.34 pins Terraform < 1.4 and the AWS provider < 5, reads a deprecated `null` data
source, puts the API stage on `aws_api_gateway_deployment.stage_name` (removed in provider
6) and cannot write a log group; each function below fixes one of those or adds one piece.
"""

import copy
import json

from chalicelib import storage
from deploy import shared

# Written as HCL beside chalice.tf.json: checkov's Terraform-JSON parser fails on the
# `terraform` settings block, and Terraform reads both files as one module.
VERSIONS_TF = """\
# Written by `make package` (deploy/terraform.py); Terraform reads it with chalice.tf.json.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
    }
  }
}
"""

FUNCTION = "aws_lambda_function.api_handler"
TABLE = "aws_dynamodb_table.messages"
ROLE = "aws_iam_role.api_handler"
POLICY = "aws_iam_role_policy.api_handler"
LOG_GROUP = "aws_cloudwatch_log_group.api_handler"
SECRET = "random_password.page_token_secret"
STAGE = "aws_api_gateway_stage.rest_api"


def convert(chalice_tf: dict, stage: str, log_retention_days: int) -> dict:
    config = {"//": "Written by `make package` from `chalice package --pkg-format terraform`."}
    config.update(copy.deepcopy(chalice_tf))
    # Both replaced: versions.tf holds the settings, and nothing reads Chalice's data sources.
    config.pop("terraform", None)
    config.pop("data", None)
    config["variable"] = _variables(stage)
    config["provider"] = {"aws": {"region": "${var.region}"}}
    default_table = json.dumps(shared.default_table_name("${var.stage}"))
    config["locals"].update(
        function_name="herald-${var.stage}",
        table_name="${coalesce(var.table_name, " + default_table + ")}",
    )
    config["locals"]["chalice_api_swagger"] = _with_gateway_responses(
        config["locals"]["chalice_api_swagger"]
    )
    config["data"] = {"aws_iam_policy_document": {"api_handler": _policy_document()}}
    _adjust_chalice_resources(config["resource"])
    _add(config["resource"], TABLE, _table())
    _add(config["resource"], ROLE, _role())
    _add(config["resource"], POLICY, _policy())
    _add(config["resource"], LOG_GROUP, _log_group(log_retention_days))
    _add(config["resource"], SECRET, {"length": shared.SECRET_LENGTH, "special": False})
    config["output"] = _outputs(config["output"])
    return config


def _ref(address: str, attribute: str) -> str:
    return "${" + f"{address}.{attribute}" + "}"


def _add(resources: dict, address: str, body: dict) -> None:
    kind, name = address.split(".")
    resources.setdefault(kind, {})[name] = body


def _variables(stage: str) -> dict:
    return {
        "stage": {
            "type": "string",
            "default": stage,
            "description": "Names the resources (function herald-<stage>, table "
            "herald-<stage>-messages); the settings are those of the Chalice stage packaged",
        },
        "table_name": {
            "type": "string",
            "default": None,
            "description": "Name of the messages table; empty means herald-<stage>-messages",
        },
        "region": {
            "type": "string",
            "default": None,
            "description": "AWS region; empty means the provider's usual lookup (AWS_REGION…)",
        },
    }


def _with_gateway_responses(swagger_text: str) -> str:
    swagger = json.loads(swagger_text)
    swagger[shared.GATEWAY_RESPONSES_KEY] = shared.gateway_responses()
    return json.dumps(swagger)


def _adjust_chalice_resources(resources: dict) -> None:
    function = resources["aws_lambda_function"]["api_handler"]
    function["function_name"] = "${local.function_name}"
    # Replaces the placeholder `iam_role_arn` of .chalice/config.json.
    function["role"] = _ref(ROLE, "arn")
    function["environment"] = {
        "variables": {
            shared.TABLE_VARIABLE: _ref(TABLE, "name"),
            shared.SECRET_VARIABLE: _ref(SECRET, "result"),
        }
    }
    # The log group and the permissions exist before the function first runs, so Lambda
    # never creates a log group without retention and the first request can log.
    function["depends_on"] = [LOG_GROUP, POLICY]

    api = resources["aws_api_gateway_rest_api"]["rest_api"]
    api["name"] = "herald-${var.stage}"
    api["lifecycle"] = {"create_before_destroy": True}

    deployment = resources["aws_api_gateway_deployment"]["rest_api"]
    stage_name = deployment.pop("stage_name")
    deployment.pop("stage_description", None)
    # A changed API definition makes a new deployment; the stage then moves to it.
    deployment["triggers"] = {"redeployment": "${sha1(local.chalice_api_swagger)}"}
    _add(
        resources,
        STAGE,
        {
            "stage_name": stage_name,
            "rest_api_id": _ref("aws_api_gateway_rest_api.rest_api", "id"),
            "deployment_id": _ref("aws_api_gateway_deployment.rest_api", "id"),
        },
    )


def _table() -> dict:
    definition = shared.table_definition()
    keys = {key["KeyType"]: key["AttributeName"] for key in definition["KeySchema"]}
    return {
        "name": "${local.table_name}",
        "billing_mode": definition["BillingMode"],
        "hash_key": keys["HASH"],
        "range_key": keys["RANGE"],
        "attribute": [
            {"name": a["AttributeName"], "type": a["AttributeType"]}
            for a in definition["AttributeDefinitions"]
        ],
        "global_secondary_index": [_index(index) for index in definition["GlobalSecondaryIndexes"]],
        "point_in_time_recovery": {"enabled": True},
        # Enabled means the AWS-managed KMS key (alias/aws/dynamodb).
        "server_side_encryption": {"enabled": True},
        "deletion_protection_enabled": True,
        "ttl": {"attribute_name": storage.TTL_ATTRIBUTE, "enabled": True},
        # The table is the users' data: `terraform destroy` must not take it along.
        "lifecycle": {"prevent_destroy": True},
    }


def _index(index: dict) -> dict:
    keys = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}
    converted = {
        "name": index["IndexName"],
        "hash_key": keys["HASH"],
        "range_key": keys["RANGE"],
        "projection_type": index["Projection"]["ProjectionType"],
    }
    if "NonKeyAttributes" in index["Projection"]:
        converted["non_key_attributes"] = index["Projection"]["NonKeyAttributes"]
    return converted


def _role() -> dict:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return {
        "name_prefix": "herald-${var.stage}-",
        "description": "Herald's function: see the api_handler role policy for what it may do",
        "assume_role_policy": json.dumps(trust),
    }


def _policy_document() -> dict:
    statements = shared.policy_statements(
        table_arn=_ref(TABLE, "arn"),
        index_arns=_ref(TABLE, "arn") + "/index/*",
        log_streams_arn=_ref(LOG_GROUP, "arn") + ":*",
    )
    return {
        "statement": [
            {
                "sid": statement["Sid"],
                "effect": statement["Effect"],
                "actions": statement["Action"],
                "resources": statement["Resource"],
            }
            for statement in statements
        ]
    }


def _policy() -> dict:
    return {
        "name": "herald-function",
        "role": _ref(ROLE, "id"),
        "policy": "${data.aws_iam_policy_document.api_handler.json}",
    }


def _log_group(retention_days: int) -> dict:
    return {"name": "/aws/lambda/${local.function_name}", "retention_in_days": retention_days}


def _outputs(chalice_outputs: dict) -> dict:
    outputs = dict(chalice_outputs)
    outputs["EndpointURL"] = {"value": _ref(STAGE, "invoke_url") + "/"}
    outputs["TableName"] = {"value": _ref(TABLE, "name")}
    outputs["TableArn"] = {"value": _ref(TABLE, "arn")}
    return outputs
