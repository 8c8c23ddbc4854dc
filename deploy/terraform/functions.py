"""Each function in the configuration: its role, its policy document (deploy/shared.py's
grants in Terraform's syntax), its log group, its name and variables, and its event source
mappings pointed at the resources the configuration creates."""

import json

from chalicelib.delivery import sources
from deploy import queues, shared
from deploy.terraform.addresses import (
    CONFIGURATION_SET,
    KEY,
    MEDIA_BUCKET,
    SECRET,
    SMS_VOICE,
    TABLE,
    function_name,
    log_group,
    policy,
    policy_document,
    queue,
    ref,
    role,
)


def _value(value: shared.Value) -> str:
    if value.kind == "table_name":
        return ref(TABLE, "name")
    if value.kind == "page_token_secret":
        return ref(SECRET, "result")
    if value.kind == "queue_url":
        return ref(queue(value.name), "url")
    if value.kind == "key_arn":
        return ref(KEY, "arn")
    if value.kind == "configuration_set_name":
        return ref(CONFIGURATION_SET, "name")
    if value.kind == "default_origination_identity":
        return "${var.default_origination_identity}"
    if value.kind == "media_bucket":
        return ref(MEDIA_BUCKET, "bucket")
    raise ValueError(value)


def adjust_function(resource: dict, described: shared.Function) -> None:
    """Complete the function Chalice wrote: its name, role, variables and dependencies."""
    name = described.name
    resource["function_name"] = function_name(name)
    # Replaces the placeholder `iam_role_arn` of .chalice/config.json.
    resource["role"] = ref(role(name), "arn")
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


def point_event_source(mapping: dict) -> None:
    """Point an event source mapping Chalice wrote at the resource this configuration
    creates, and make it wait for its role's permissions (Lambda checks them when it is
    created)."""
    consumer = _consumer(mapping)
    source = mapping["event_source_arn"]
    if source == sources.TABLE_STREAM_ARN:
        if consumer != shared.STREAM_CONSUMER:
            raise RuntimeError(f"{consumer} reads the table's stream; deploy/shared.py says not")
        settings = queues.STREAM_MAPPING
        mapping.update(
            event_source_arn=ref(TABLE, "stream_arn"),
            starting_position=settings["starting_position"],
            batch_size=settings["batch_size"],
            bisect_batch_on_function_error=settings["bisect_batch_on_function_error"],
            maximum_record_age_in_seconds=settings["maximum_record_age_in_seconds"],
            maximum_retry_attempts=settings["maximum_retry_attempts"],
            function_response_types=[queues.REPORT_BATCH_ITEM_FAILURES],
            destination_config={
                "on_failure": {"destination_arn": ref(queue(queues.STREAM_FAILURES), "arn")}
            },
        )
    else:
        work = _queue_named_by(source)
        if work.consumer != consumer:
            raise RuntimeError(f"{consumer} reads {work.name}; deploy/queues.py says not")
        mapping.update(
            event_source_arn=ref(queue(work.name), "arn"),
            function_response_types=[queues.REPORT_BATCH_ITEM_FAILURES],
        )
    mapping["depends_on"] = [policy(consumer)]


def _queue_named_by(arn: str) -> queues.Queue:
    for work in queues.QUEUES:
        if arn.startswith("arn:") and ":sqs:" in arn and arn.endswith(":" + work.placeholder):
            return work
    raise RuntimeError(f"an event source deploy/queues.py does not know: {arn}")


def role_body(described: shared.Function) -> dict:
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
            return ref(TABLE, "arn")
        if resource.kind == "indexes":
            return ref(TABLE, "arn") + "/index/*"
        if resource.kind == "index":
            return ref(TABLE, "arn") + "/index/" + resource.name
        if resource.kind == "stream":
            return ref(TABLE, "stream_arn")
        if resource.kind == "queue":
            return ref(queue(resource.name), "arn")
        if resource.kind == "key":
            return ref(KEY, "arn")
        if resource.kind == "logs":
            return ref(log_group(name), "arn") + ":*"
        if resource.kind == "origination_identities":
            return "${var.origination_identity_arns}"  # the list itself
        if resource.kind == "configuration_set":
            return ref(CONFIGURATION_SET, "arn")
        if resource.kind == "carrier_messages":
            return SMS_VOICE + "message/*"
        if resource.kind == "media_objects":
            return ref(MEDIA_BUCKET, "arn") + "/*"
        raise ValueError(resource)

    return arn


def policy_document_body(name: str, carrier: str) -> dict:
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


def policy_body(name: str) -> dict:
    return {
        "name": f"herald-{name}",
        "role": ref(role(name), "id"),
        "policy": ref(policy_document(name), "json"),
    }


def log_group_body(name: str, retention_days: int) -> dict:
    return {"name": "/aws/lambda/" + function_name(name), "retention_in_days": retention_days}
