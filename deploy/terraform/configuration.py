"""Turn `chalice package --pkg-format terraform` output into a configuration for Terraform
>= 1.5 and the AWS provider 5 and 6, with the table and its stream, the queues, the AuthToken
key, one role per function and the page-token secret added, and the event source mappings
pointed at them.

Chalice 1.34 pins Terraform < 1.4 and the AWS provider < 5, reads a deprecated `null` data
source, puts the API stage on `aws_api_gateway_deployment.stage_name` (removed in provider
6), cannot write a log group, names the schedule's rule alike in every stage, and writes
event source mappings for a stream and queues by placeholder name, without a dependency on
them; each function of this package fixes one of those or adds one piece.

Every stage gets the carrier events topic (End User Messaging's delivery events, into the
receipt queue). A stage whose carrier is End User Messaging also gets the configuration set
and its event destination (`aws_pinpointsmsvoicev2_event_destination`, which needs the AWS
provider 6.48 or later: versions.tf says so for such a stage only), and its sender may send
from the numbers in `var.origination_identity_arns`.

The CloudWatch alarms of docs/operations.md notify the SNS topic in `var.alarm_topic_arn`,
and nobody when it is left empty (`local.alarm_actions` is then an empty list).
"""

import copy
import json

from chalicelib import storage
from chalicelib.carriers import END_USER_MESSAGING, SANDBOX
from deploy import gateway_errors, queues, shared, token_key
from deploy.alarms import Alarm
from deploy.terraform import alarms, carrier_events, functions, variables
from deploy.terraform.addresses import (
    ACCOUNT_ROOT,
    CONFIGURATION_SET,
    EVENT_DESTINATION,
    EVENTS_TOPIC,
    KEY,
    MEDIA_BUCKET,
    SCHEDULE_RULE,
    SECRET,
    STAGE,
    TABLE,
    add,
    alarm,
    function,
    function_name,
    log_group,
    policy,
    queue,
    ref,
    role,
)

# Written as HCL beside chalice.tf.json: checkov's Terraform-JSON parser fails on the
# `terraform` settings block, and Terraform reads both files as one module.
VERSIONS_TF = """\
# Written by `make package` (deploy/terraform/); Terraform reads it with chalice.tf.json.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "AWS_VERSIONS"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
    }
  }
}
"""

# The AWS provider versions a stage's configuration works with: 5 and 6, or, for End User
# Messaging's event destination resource, 6.48 (the first release we found it in) and later.
AWS_PROVIDER_VERSIONS = {SANDBOX: ">= 5.0, < 7.0", END_USER_MESSAGING: ">= 6.48.0, < 7.0"}


def versions_tf(carrier: str = SANDBOX) -> str:
    return VERSIONS_TF.replace("AWS_VERSIONS", AWS_PROVIDER_VERSIONS[carrier])


def convert(chalice_tf: dict, stage: str, settings: dict, carrier: str = SANDBOX) -> dict:
    config = {"//": "Written by `make package` from `chalice package --pkg-format terraform`."}
    config.update(copy.deepcopy(chalice_tf))
    # Both replaced: versions.tf holds the settings, and nothing reads Chalice's data sources.
    config.pop("terraform", None)
    config.pop("data", None)
    config["variable"] = variables.declare(stage, carrier)
    config["provider"] = {"aws": {"region": "${var.region}"}}
    default_table = json.dumps(shared.default_table_name("${var.stage}"))
    config["locals"].update(
        function_name="herald-${var.stage}",
        table_name="${coalesce(var.table_name, " + default_table + ")}",
    )
    if carrier == END_USER_MESSAGING:
        default_set = json.dumps(shared.default_configuration_set_name("${var.stage}"))
        config["locals"]["configuration_set_name"] = (
            "${coalesce(var.configuration_set_name, " + default_set + ")}"
        )
    config["locals"]["chalice_api_swagger"] = _with_gateway_responses(
        config["locals"]["chalice_api_swagger"]
    )
    config["data"] = {
        "aws_caller_identity": {"current": {}},
        "aws_partition": {"current": {}},
        "aws_iam_policy_document": {
            name: functions.policy_document_body(name, carrier) for name in shared.FUNCTIONS
        },
    }
    resources = config["resource"]
    _check_functions(resources)
    _adjust_chalice_resources(resources, carrier)
    add(resources, TABLE, _table())
    add(resources, SECRET, {"length": shared.SECRET_LENGTH, "special": False})
    add(resources, KEY, _key())
    for work in queues.QUEUES:
        dead_letter = queues.dead_letter(work.name)
        add(
            resources, queue(dead_letter), _queue(dead_letter, queues.DEAD_LETTER_RETENTION_SECONDS)
        )
        redrive = {
            "deadLetterTargetArn": ref(queue(dead_letter), "arn"),
            "maxReceiveCount": work.max_receive_count,
        }
        add(
            resources,
            queue(work.name),
            _queue(
                work.name,
                queues.WORK_RETENTION_SECONDS,
                visibility=queues.visibility_timeout(work, settings),
                redrive=redrive,
            ),
        )
    add(
        resources,
        queue(queues.STREAM_FAILURES),
        _queue(queues.STREAM_FAILURES, queues.DEAD_LETTER_RETENTION_SECONDS),
    )
    for name, described in shared.functions(carrier).items():
        add(resources, role(name), functions.role_body(described))
        add(resources, policy(name), functions.policy_body(name))
        add(
            resources,
            log_group(name),
            functions.log_group_body(name, settings[name].log_retention_days),
        )
    for address, body in carrier_events.topic().items():
        add(resources, address, body)
    if carrier == END_USER_MESSAGING:
        add(resources, CONFIGURATION_SET, {"name": "${local.configuration_set_name}"})
        add(resources, EVENT_DESTINATION, carrier_events.event_destination())
        for address, body in carrier_events.media_bucket().items():
            add(resources, address, body)
    added = alarms.add(config)
    config["output"] = _outputs(config["output"], carrier, added)
    return config


def _with_gateway_responses(swagger_text: str) -> str:
    swagger = json.loads(swagger_text)
    swagger[gateway_errors.GATEWAY_RESPONSES_KEY] = gateway_errors.gateway_responses()
    return json.dumps(swagger)


def _check_functions(resources: dict) -> None:
    """Every function Chalice wrote has a role here, and every role its function."""
    written = set(resources.get("aws_lambda_function", {}))
    if written != set(shared.FUNCTIONS):
        raise RuntimeError(
            f"Chalice wrote functions {sorted(written)}; deploy/shared.py describes "
            f"{sorted(shared.FUNCTIONS)}"
        )


def _adjust_chalice_resources(resources: dict, carrier: str) -> None:
    for name, described in shared.functions(carrier).items():
        functions.adjust_function(resources["aws_lambda_function"][name], described)
    for mapping in resources.get("aws_lambda_event_source_mapping", {}).values():
        functions.point_event_source(mapping)

    # Chalice names the rule `scheduler-event` whatever the app or stage: two stages in one
    # account would share it.
    rule_kind, rule_name = SCHEDULE_RULE.split(".")
    rule = resources[rule_kind][rule_name]
    rule["name"] = function_name(shared.SCHEDULED)
    rule["description"] = "Herald: dispatch the scheduled messages that are due"

    api = resources["aws_api_gateway_rest_api"]["rest_api"]
    api["name"] = "herald-${var.stage}"
    api["lifecycle"] = {"create_before_destroy": True}

    deployment = resources["aws_api_gateway_deployment"]["rest_api"]
    stage_name = deployment.pop("stage_name")
    deployment.pop("stage_description", None)
    # A changed API definition makes a new deployment; the stage then moves to it.
    deployment["triggers"] = {"redeployment": "${sha1(local.chalice_api_swagger)}"}
    add(
        resources,
        STAGE,
        {
            "stage_name": stage_name,
            "rest_api_id": ref("aws_api_gateway_rest_api.rest_api", "id"),
            "deployment_id": ref("aws_api_gateway_deployment.rest_api", "id"),
        },
    )


def _table() -> dict:
    definition = shared.table_definition()
    keys = {key["KeyType"]: key["AttributeName"] for key in definition["KeySchema"]}
    stream = definition["StreamSpecification"]
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
        "stream_enabled": stream["StreamEnabled"],
        "stream_view_type": stream["StreamViewType"],
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
    converted = {"name": index["IndexName"], "hash_key": keys["HASH"]}
    if "RANGE" in keys:
        converted["range_key"] = keys["RANGE"]
    converted["projection_type"] = index["Projection"]["ProjectionType"]
    if "NonKeyAttributes" in index["Projection"]:
        converted["non_key_attributes"] = index["Projection"]["NonKeyAttributes"]
    return converted


def _queue(
    name: str, retention: int, visibility: int | None = None, redrive: dict | None = None
) -> dict:
    body = {
        "name": function_name(shared.API_FUNCTION) + "-" + name.replace("_", "-"),
        "sqs_managed_sse_enabled": True,
        "message_retention_seconds": retention,
    }
    if visibility is not None:
        body["visibility_timeout_seconds"] = visibility
    if redrive is not None:
        # A JSON template: Terraform fills in the reference, the provider reads the JSON.
        body["redrive_policy"] = json.dumps(redrive)
    return body


def _key() -> dict:
    root = ACCOUNT_ROOT
    return {
        "description": token_key.KEY_DESCRIPTION,
        "enable_key_rotation": True,
        "deletion_window_in_days": token_key.KEY_DELETION_WINDOW_DAYS,
        "policy": json.dumps(
            token_key.key_policy(root, lambda function: ref(role(function), "arn"))
        ),
        # Destroying the key would leave every stored AuthToken ciphertext unreadable.
        "lifecycle": {"prevent_destroy": True},
    }


def _outputs(chalice_outputs: dict, carrier: str, added: tuple[Alarm, ...]) -> dict:
    outputs = dict(chalice_outputs)
    outputs["CarrierEventsTopicArn"] = {
        "value": ref(EVENTS_TOPIC, "arn"),
        "description": "The SNS topic End User Messaging publishes delivery events to",
    }
    if carrier == END_USER_MESSAGING:
        outputs["ConfigurationSetName"] = {"value": ref(CONFIGURATION_SET, "name")}
        outputs["MediaBucketName"] = {"value": ref(MEDIA_BUCKET, "bucket")}
    outputs["EndpointURL"] = {"value": ref(STAGE, "invoke_url") + "/"}
    outputs["TableName"] = {"value": ref(TABLE, "name")}
    outputs["TableArn"] = {"value": ref(TABLE, "arn")}
    outputs["KmsKeyId"] = {
        "value": ref(KEY, "arn"),
        "description": "HERALD_KMS_KEY_ID for the admin command (its user needs kms:Encrypt "
        "on this key)",
    }
    names = ", ".join(ref(alarm(described.name), "alarm_name")[2:-1] for described in added)
    outputs["AlarmNames"] = {
        "value": '${join(",", [' + names + "])}",
        "description": "The configuration's CloudWatch alarms (comma separated)",
    }
    for name in queues.all_queue_names():
        outputs[_camel(name) + "QueueUrl"] = {"value": ref(queue(name), "url")}
    for name in shared.FUNCTIONS:
        label = "APIHandler" if name == shared.API_FUNCTION else _camel(name)
        outputs[label + "Name"] = {"value": ref(function(name), "function_name")}
    outputs["APIHandlerArn"] = {"value": ref(function(shared.API_FUNCTION), "arn")}
    return outputs


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
