"""Turn `chalice package --pkg-format terraform` output into a configuration for Terraform
>= 1.5 and the AWS provider 5 and 6, with the table and its stream, the queues, the AuthToken
key, one role per function and the page-token secret added, and the event source mappings
pointed at them.

Chalice 1.34 pins Terraform < 1.4 and the AWS provider < 5, reads a deprecated `null` data
source, puts the API stage on `aws_api_gateway_deployment.stage_name` (removed in provider
6), cannot write a log group, names the schedule's rule alike in every stage, and writes
event source mappings for a stream and queues by placeholder name, without a dependency on
them; each function below fixes one of those or adds one piece.

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
from chalicelib.delivery import sources
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


TABLE = "aws_dynamodb_table.messages"
SECRET = "random_password.page_token_secret"
KEY = "aws_kms_key.tokens"
STAGE = "aws_api_gateway_stage.rest_api"
ACCOUNT = "data.aws_caller_identity.current"
PARTITION = "data.aws_partition.current"
SCHEDULE_RULE = "aws_cloudwatch_event_rule.scheduler-event"  # Chalice's address
EVENTS_KEY = "aws_kms_key.carrier_events"
EVENTS_TOPIC = "aws_sns_topic.carrier_events"
EVENTS_TOPIC_POLICY = "aws_sns_topic_policy.carrier_events"
EVENTS_SUBSCRIPTION = "aws_sns_topic_subscription.carrier_events"
RECEIPTS_QUEUE_POLICY = "aws_sqs_queue_policy.receipts"
CONFIGURATION_SET = "aws_pinpointsmsvoicev2_configuration_set.herald"
EVENT_DESTINATION = "aws_pinpointsmsvoicev2_event_destination.receipts"
MEDIA_BUCKET = "aws_s3_bucket.media"


def function(name: str) -> str:
    return f"aws_lambda_function.{name}"


def role(name: str) -> str:
    return f"aws_iam_role.{name}"


def policy(name: str) -> str:
    return f"aws_iam_role_policy.{name}"


def policy_document(name: str) -> str:
    return f"data.aws_iam_policy_document.{name}"


def log_group(name: str) -> str:
    return f"aws_cloudwatch_log_group.{name}"


def queue(name: str) -> str:
    return f"aws_sqs_queue.{name}"


def alarm(name: str) -> str:
    return f"aws_cloudwatch_metric_alarm.{name}"


# Every alarm's actions: the user's topic, or none (var.alarm_topic_arn left empty).
ALARM_ACTIONS = '${var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]}'


def function_name(name: str) -> str:
    """herald-<stage> for the API, herald-<stage>-<name> for the others (Chalice's names)."""
    suffix = "" if name == shared.API_FUNCTION else f"-{name}"
    return "${local.function_name}" + suffix


def convert(chalice_tf: dict, stage: str, settings: dict, carrier: str = SANDBOX) -> dict:
    config = {"//": "Written by `make package` from `chalice package --pkg-format terraform`."}
    config.update(copy.deepcopy(chalice_tf))
    # Both replaced: versions.tf holds the settings, and nothing reads Chalice's data sources.
    config.pop("terraform", None)
    config.pop("data", None)
    config["variable"] = _variables(stage, carrier)
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
            name: _policy_document(name, carrier) for name in shared.FUNCTIONS
        },
    }
    resources = config["resource"]
    _check_functions(resources)
    _adjust_chalice_resources(resources, carrier)
    _add(resources, TABLE, _table())
    _add(resources, SECRET, {"length": shared.SECRET_LENGTH, "special": False})
    _add(resources, KEY, _key())
    for work in shared.QUEUES:
        dead_letter = shared.dead_letter(work.name)
        _add(
            resources, queue(dead_letter), _queue(dead_letter, shared.DEAD_LETTER_RETENTION_SECONDS)
        )
        redrive = {
            "deadLetterTargetArn": _ref(queue(dead_letter), "arn"),
            "maxReceiveCount": work.max_receive_count,
        }
        _add(
            resources,
            queue(work.name),
            _queue(
                work.name,
                shared.WORK_RETENTION_SECONDS,
                visibility=shared.visibility_timeout(work, settings),
                redrive=redrive,
            ),
        )
    _add(
        resources,
        queue(shared.STREAM_FAILURES),
        _queue(shared.STREAM_FAILURES, shared.DEAD_LETTER_RETENTION_SECONDS),
    )
    for name, described in shared.functions(carrier).items():
        _add(resources, role(name), _role(described))
        _add(resources, policy(name), _policy(name))
        _add(resources, log_group(name), _log_group(name, settings[name].log_retention_days))
    for address, body in _carrier_events().items():
        _add(resources, address, body)
    if carrier == END_USER_MESSAGING:
        _add(resources, CONFIGURATION_SET, {"name": "${local.configuration_set_name}"})
        _add(resources, EVENT_DESTINATION, _event_destination())
        for address, body in _media_bucket().items():
            _add(resources, address, body)
    config["locals"]["alarm_actions"] = ALARM_ACTIONS
    alarms = shared.alarms(_metrics_stage(resources))
    for described in alarms:
        _add(resources, alarm(described.name), _alarm(described))
    config["output"] = _outputs(config["output"], carrier, alarms)
    return config


def _metrics_stage(resources: dict) -> str:
    """The Stage the functions' metrics carry: the HERALD_STAGE Chalice wrote into them
    (from the stage packaged: var.stage names the resources, it does not change this)."""
    functions = resources["aws_lambda_function"]
    return shared.metrics_stage(
        {
            name: functions[name].get("environment", {}).get("variables", {})
            for name in shared.FUNCTIONS
        }
    )


def _ref(address: str, attribute: str) -> str:
    return "${" + f"{address}.{attribute}" + "}"


def _add(resources: dict, address: str, body: dict) -> None:
    kind, name = address.split(".")
    resources.setdefault(kind, {})[name] = body


def _variables(stage: str, carrier: str) -> dict:
    declared = {
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
    declared["alarm_topic_arn"] = {
        "type": "string",
        "default": "",
        "description": "ARN of an SNS topic (in this region) every alarm notifies when it "
        "fires and when it recovers; empty means the alarms notify no one",
        "validation": [
            {
                "condition": '${var.alarm_topic_arn == "" || can(regex('
                '"^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]+:[A-Za-z0-9_.-]+$", var.alarm_topic_arn))}',
                "error_message": "An SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), "
                "or empty.",
            }
        ],
    }
    if carrier == END_USER_MESSAGING:
        declared["configuration_set_name"] = {
            "type": "string",
            "default": None,
            "description": "End User Messaging configuration set created here, whose events "
            "reach the receipt queue; empty means herald-<stage>",
        }
        declared["origination_identity_arns"] = {
            "type": "list(string)",
            "description": "ARNs of the End User Messaging phone numbers, sender IDs and pools "
            "the sender may send from (and only those)",
            "validation": [
                {
                    "condition": "${length(var.origination_identity_arns) > 0 && alltrue("
                    '[for arn in var.origination_identity_arns : startswith(arn, "arn:")])}',
                    "error_message": "List at least one ARN (arn:…:sms-voice:…).",
                }
            ],
        }
        declared["default_origination_identity"] = {
            "type": "string",
            "default": "",
            "description": "Sender of an account with no sender of its own "
            "(HERALD_EUM_ORIGINATION_IDENTITY); empty means the message's From",
        }
    return declared


def _with_gateway_responses(swagger_text: str) -> str:
    swagger = json.loads(swagger_text)
    swagger[shared.GATEWAY_RESPONSES_KEY] = shared.gateway_responses()
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
        _adjust_function(resources["aws_lambda_function"][name], described)
    for mapping in resources.get("aws_lambda_event_source_mapping", {}).values():
        _point_event_source(mapping)

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
    _add(
        resources,
        STAGE,
        {
            "stage_name": stage_name,
            "rest_api_id": _ref("aws_api_gateway_rest_api.rest_api", "id"),
            "deployment_id": _ref("aws_api_gateway_deployment.rest_api", "id"),
        },
    )


def _value(value: shared.Value) -> str:
    if value.kind == "table_name":
        return _ref(TABLE, "name")
    if value.kind == "page_token_secret":
        return _ref(SECRET, "result")
    if value.kind == "queue_url":
        return _ref(queue(value.name), "url")
    if value.kind == "key_arn":
        return _ref(KEY, "arn")
    if value.kind == "configuration_set_name":
        return _ref(CONFIGURATION_SET, "name")
    if value.kind == "default_origination_identity":
        return "${var.default_origination_identity}"
    if value.kind == "media_bucket":
        return _ref(MEDIA_BUCKET, "bucket")
    raise ValueError(value)


def _adjust_function(resource: dict, described: shared.Function) -> None:
    name = described.name
    resource["function_name"] = function_name(name)
    # Replaces the placeholder `iam_role_arn` of .chalice/config.json.
    resource["role"] = _ref(role(name), "arn")
    variables = resource.setdefault("environment", {}).setdefault("variables", {})
    variables.update({key: _value(value) for key, value in described.variables.items()})
    # The log group and the permissions exist before the function first runs, so Lambda
    # never creates a log group without retention and the first request can log.
    resource["depends_on"] = [log_group(name), policy(name)]


def _consumer(mapping: dict) -> str:
    prefix, suffix = "${aws_lambda_function.", ".arn}"
    reference = mapping["function_name"]
    if not (reference.startswith(prefix) and reference.endswith(suffix)):
        raise RuntimeError(f"an event source mapping for an unknown function: {reference}")
    return reference[len(prefix) : -len(suffix)]


def _point_event_source(mapping: dict) -> None:
    """Point an event source mapping Chalice wrote at the resource this module creates, and
    make it wait for its role's permissions (Lambda checks them when it is created)."""
    consumer = _consumer(mapping)
    source = mapping["event_source_arn"]
    if source == sources.TABLE_STREAM_ARN:
        if consumer != shared.STREAM_CONSUMER:
            raise RuntimeError(f"{consumer} reads the table's stream; deploy/shared.py says not")
        settings = shared.STREAM_MAPPING
        mapping.update(
            event_source_arn=_ref(TABLE, "stream_arn"),
            starting_position=settings["starting_position"],
            batch_size=settings["batch_size"],
            bisect_batch_on_function_error=settings["bisect_batch_on_function_error"],
            maximum_record_age_in_seconds=settings["maximum_record_age_in_seconds"],
            maximum_retry_attempts=settings["maximum_retry_attempts"],
            function_response_types=[shared.REPORT_BATCH_ITEM_FAILURES],
            destination_config={
                "on_failure": {"destination_arn": _ref(queue(shared.STREAM_FAILURES), "arn")}
            },
        )
    else:
        work = _queue_named_by(source)
        if work.consumer != consumer:
            raise RuntimeError(f"{consumer} reads {work.name}; deploy/shared.py says not")
        mapping.update(
            event_source_arn=_ref(queue(work.name), "arn"),
            function_response_types=[shared.REPORT_BATCH_ITEM_FAILURES],
        )
    mapping["depends_on"] = [policy(consumer)]


def _queue_named_by(arn: str) -> shared.Queue:
    for work in shared.QUEUES:
        if arn.startswith("arn:") and ":sqs:" in arn and arn.endswith(":" + work.placeholder):
            return work
    raise RuntimeError(f"an event source deploy/shared.py does not know: {arn}")


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
    root = _ACCOUNT_ROOT
    decrypting_role = _ref(role(shared.DECRYPTING_FUNCTION), "arn")
    return {
        "description": shared.KEY_DESCRIPTION,
        "enable_key_rotation": True,
        "deletion_window_in_days": shared.KEY_DELETION_WINDOW_DAYS,
        "policy": json.dumps(shared.key_policy(root, decrypting_role)),
        # Destroying the key would leave every stored AuthToken ciphertext unreadable.
        "lifecycle": {"prevent_destroy": True},
    }


def _role(described: shared.Function) -> dict:
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
        "name_prefix": f"herald-${{var.stage}}-{described.name}-",
        "description": f"Herald's {described.name} ({described.description}): see its role "
        "policy for everything it may do",
        "assume_role_policy": json.dumps(trust),
    }


def _arn(name: str):
    def arn(resource: shared.Resource) -> str:
        if resource.kind == "table":
            return _ref(TABLE, "arn")
        if resource.kind == "indexes":
            return _ref(TABLE, "arn") + "/index/*"
        if resource.kind == "index":
            return _ref(TABLE, "arn") + "/index/" + resource.name
        if resource.kind == "stream":
            return _ref(TABLE, "stream_arn")
        if resource.kind == "queue":
            return _ref(queue(resource.name), "arn")
        if resource.kind == "key":
            return _ref(KEY, "arn")
        if resource.kind == "logs":
            return _ref(log_group(name), "arn") + ":*"
        if resource.kind == "origination_identities":
            return "${var.origination_identity_arns}"  # the list itself
        if resource.kind == "configuration_set":
            return _ref(CONFIGURATION_SET, "arn")
        if resource.kind == "carrier_messages":
            return _SMS_VOICE + "message/*"
        if resource.kind == "media_objects":
            return _ref(MEDIA_BUCKET, "arn") + "/*"
        raise ValueError(resource)

    return arn


def _policy_document(name: str, carrier: str) -> dict:
    return {
        "statement": [
            {
                "sid": statement["Sid"],
                "effect": statement["Effect"],
                "actions": statement["Action"],
                "resources": statement["Resource"],
            }
            for statement in shared.policy_statements(name, _arn(name), carrier)
        ]
    }


def _policy(name: str) -> dict:
    return {
        "name": f"herald-{name}",
        "role": _ref(role(name), "id"),
        "policy": _ref(policy_document(name), "json"),
    }


def _log_group(name: str, retention_days: int) -> dict:
    return {"name": "/aws/lambda/" + function_name(name), "retention_in_days": retention_days}


_ACCOUNT_ID = _ref(ACCOUNT, "account_id")
_ACCOUNT_ROOT = "arn:" + _ref(PARTITION, "partition") + ":iam::" + _ACCOUNT_ID + ":root"
# Any region: the configuration has no region of its own (var.region may be empty).
_SMS_VOICE = "arn:" + _ref(PARTITION, "partition") + ":sms-voice:*:" + _ACCOUNT_ID + ":"


def _carrier_events() -> dict:
    """The topic End User Messaging publishes delivery events to, and its way into the
    receipt queue."""
    receipts = queue("receipts")
    return {
        EVENTS_KEY: {
            "description": shared.EVENTS_KEY_DESCRIPTION,
            "enable_key_rotation": True,
            "deletion_window_in_days": shared.KEY_DELETION_WINDOW_DAYS,
            "policy": json.dumps(
                shared.events_key_policy(_ACCOUNT_ROOT, _ACCOUNT_ID, _SMS_VOICE + "*")
            ),
        },
        EVENTS_TOPIC: {
            "name": "${local.function_name}-carrier-events",
            "kms_master_key_id": _ref(EVENTS_KEY, "arn"),
        },
        EVENTS_TOPIC_POLICY: {
            "arn": _ref(EVENTS_TOPIC, "arn"),
            "policy": json.dumps(
                shared.events_topic_policy(_ref(EVENTS_TOPIC, "arn"), _ACCOUNT_ID, _SMS_VOICE + "*")
            ),
        },
        RECEIPTS_QUEUE_POLICY: {
            "queue_url": _ref(receipts, "url"),
            "policy": json.dumps(
                shared.receipt_queue_policy(_ref(receipts, "arn"), _ref(EVENTS_TOPIC, "arn"))
            ),
        },
        EVENTS_SUBSCRIPTION: {
            "topic_arn": _ref(EVENTS_TOPIC, "arn"),
            "protocol": "sqs",
            "endpoint": _ref(receipts, "arn"),
            "raw_message_delivery": shared.RAW_MESSAGE_DELIVERY,
            # Nothing is published before the queue takes it.
            "depends_on": [RECEIPTS_QUEUE_POLICY],
        },
    }


def _event_destination() -> dict:
    return {
        "configuration_set_name": _ref(CONFIGURATION_SET, "name"),
        "event_destination_name": shared.EVENT_DESTINATION_NAME,
        "matching_event_types": shared.EVENT_TYPES,
        "sns_destination": {"topic_arn": _ref(EVENTS_TOPIC, "arn")},
        # End User Messaging checks that it may publish when the destination is created.
        "depends_on": [EVENTS_TOPIC_POLICY, EVENTS_SUBSCRIPTION],
    }


def _media_bucket() -> dict:
    """The private bucket End User Messaging sends MMS media from (chalicelib.storage.
    media_objects): the sender writes each file, SendMediaMessage reads it as the sender."""
    bucket = _ref(MEDIA_BUCKET, "id")
    return {
        MEDIA_BUCKET: {"bucket_prefix": "${local.function_name}-media-"},
        "aws_s3_bucket_public_access_block.media": {
            "bucket": bucket,
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
        "aws_s3_bucket_ownership_controls.media": {
            "bucket": bucket,
            "rule": {"object_ownership": "BucketOwnerEnforced"},
        },
        "aws_s3_bucket_server_side_encryption_configuration.media": {
            "bucket": bucket,
            "rule": {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}},
        },
        "aws_s3_bucket_lifecycle_configuration.media": {
            "bucket": bucket,
            "rule": {
                "id": "expire-sent-media",
                "status": "Enabled",
                "filter": {},
                "expiration": {"days": shared.MEDIA_RETENTION_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
            },
        },
        "aws_s3_bucket_policy.media": {
            "bucket": bucket,
            "policy": json.dumps(
                shared.media_bucket_policy(
                    _ref(MEDIA_BUCKET, "arn"), _ref(MEDIA_BUCKET, "arn") + "/*"
                )
            ),
            # Both change the bucket's policy settings; one at a time.
            "depends_on": ["aws_s3_bucket_public_access_block.media"],
        },
    }


def _dimension_value(value) -> str:
    if isinstance(value, str):
        return value  # the metrics' Stage
    if value.kind == "queue_name":
        return _ref(queue(value.name), "name")
    if value.kind == "function_name":
        return _ref(function(value.name), "function_name")
    raise ValueError(value)


def _metric(metric: shared.Metric) -> dict:
    return {
        "namespace": metric.namespace,
        "metric_name": metric.name,
        "dimensions": {metric.dimension: _dimension_value(metric.value)},
    }


def _alarm(described: shared.Alarm) -> dict:
    body = {
        "alarm_name": "${local.function_name}-" + described.dashed,
        "alarm_description": described.description,
        "comparison_operator": described.comparison,
        "threshold": described.threshold,
        "evaluation_periods": described.periods,
        "datapoints_to_alarm": described.datapoints,
        "treat_missing_data": described.treat_missing_data,
        "alarm_actions": "${local.alarm_actions}",
        "ok_actions": "${local.alarm_actions}",
    }
    if described.metric is not None:
        body.update(
            _metric(described.metric),
            statistic=described.metric.statistic,
            period=described.metric.period,
        )
        return body
    inputs = [
        {
            "id": id_,
            "return_data": False,
            "metric": {**_metric(metric), "stat": metric.statistic, "period": metric.period},
        }
        for id_, metric in described.inputs
    ]
    result = {
        "id": shared.EXPRESSION_ID,
        "expression": described.expression,
        "label": described.label,
        "return_data": True,
    }
    body["metric_query"] = [*inputs, result]
    return body


def _outputs(chalice_outputs: dict, carrier: str, alarms: tuple[shared.Alarm, ...]) -> dict:
    outputs = dict(chalice_outputs)
    outputs["CarrierEventsTopicArn"] = {
        "value": _ref(EVENTS_TOPIC, "arn"),
        "description": "The SNS topic End User Messaging publishes delivery events to",
    }
    if carrier == END_USER_MESSAGING:
        outputs["ConfigurationSetName"] = {"value": _ref(CONFIGURATION_SET, "name")}
        outputs["MediaBucketName"] = {"value": _ref(MEDIA_BUCKET, "bucket")}
    outputs["EndpointURL"] = {"value": _ref(STAGE, "invoke_url") + "/"}
    outputs["TableName"] = {"value": _ref(TABLE, "name")}
    outputs["TableArn"] = {"value": _ref(TABLE, "arn")}
    outputs["KmsKeyId"] = {
        "value": _ref(KEY, "arn"),
        "description": "HERALD_KMS_KEY_ID for the admin command (its user needs kms:Encrypt "
        "on this key)",
    }
    names = ", ".join(_ref(alarm(described.name), "alarm_name")[2:-1] for described in alarms)
    outputs["AlarmNames"] = {
        "value": '${join(",", [' + names + "])}",
        "description": "The configuration's CloudWatch alarms (comma separated)",
    }
    for name in shared.all_queue_names():
        outputs[_camel(name) + "QueueUrl"] = {"value": _ref(queue(name), "url")}
    for name in shared.FUNCTIONS:
        label = "APIHandler" if name == shared.API_FUNCTION else _camel(name)
        outputs[label + "Name"] = {"value": _ref(function(name), "function_name")}
    outputs["APIHandlerArn"] = {"value": _ref(function(shared.API_FUNCTION), "arn")}
    return outputs


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
