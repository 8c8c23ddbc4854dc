"""Each function in the stack: its role, its policy (deploy/shared.py's grants in
CloudFormation's syntax), its log group, its name and variables, and its event sources
pointed at the resources the stack creates."""

import json

from chalicelib.delivery import sources
from deploy import queues, shared
from deploy.cloudformation.logical_ids import (
    CONFIGURATION_SET,
    KEY,
    MEDIA_BUCKET,
    SECRET,
    TABLE,
    log_group_id,
    policy_id,
    queue_id,
    role_id,
)

SQS_ARN_PREFIX = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
_CARRIER_MESSAGES = {
    "Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:message/*"
}


def function_name(name: str) -> dict:
    """`<stack>` for the API, `<stack>-<name>` for the others (as Chalice and the Terraform
    output name them), known before the function exists so its log group can be too."""
    suffix = "" if name == shared.API_FUNCTION else f"-{name}"
    return {"Fn::Sub": "${AWS::StackName}" + suffix}


def role(function: shared.Function) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"Herald's {function.name} ({function.description}): see "
            f"{policy_id(function.name)} for everything it may do",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
        },
    }


def _arn(function: str):
    def arn(resource: shared.Resource):
        if resource.kind == "table":
            return {"Fn::GetAtt": [TABLE, "Arn"]}
        if resource.kind == "indexes":
            return {"Fn::Sub": "${" + TABLE + ".Arn}/index/*"}
        if resource.kind == "index":
            return {"Fn::Sub": "${" + TABLE + ".Arn}/index/" + resource.name}
        if resource.kind == "stream":
            return {"Fn::GetAtt": [TABLE, "StreamArn"]}
        if resource.kind == "queue":
            return {"Fn::GetAtt": [queue_id(resource.name), "Arn"]}
        if resource.kind == "key":
            return {"Fn::GetAtt": [KEY, "Arn"]}
        if resource.kind == "logs":
            # A log group's Arn attribute already ends in ":*", which covers its streams.
            return {"Fn::GetAtt": [log_group_id(function), "Arn"]}
        if resource.kind == "origination_identities":
            return {"Ref": "OriginationIdentityArns"}
        if resource.kind == "configuration_set":
            return {"Fn::GetAtt": [CONFIGURATION_SET, "Arn"]}
        if resource.kind == "carrier_messages":
            return _CARRIER_MESSAGES
        if resource.kind == "media_objects":
            return {"Fn::Sub": "${" + MEDIA_BUCKET + ".Arn}/*"}
        raise ValueError(resource)

    return arn


def policy(name: str, carrier: str) -> dict:
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": f"herald-{name}",
            "Roles": [{"Ref": role_id(name)}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": shared.policy_statements(name, _arn(name), carrier),
            },
        },
    }


def log_group(name: str, retention_days: int) -> dict:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/" + function_name(name)["Fn::Sub"]},
            "RetentionInDays": retention_days,
        },
    }


def _value(value: shared.Value):
    if value.kind == "table_name":
        return {"Ref": TABLE}
    if value.kind == "page_token_secret":
        return {"Fn::Sub": "{{resolve:secretsmanager:${" + SECRET + "}:SecretString}}"}
    if value.kind == "queue_url":
        return {"Ref": queue_id(value.name)}
    if value.kind == "key_arn":
        return {"Fn::GetAtt": [KEY, "Arn"]}
    if value.kind == "configuration_set_name":
        return {"Ref": CONFIGURATION_SET}
    if value.kind == "default_origination_identity":
        return {"Ref": "DefaultOriginationIdentity"}
    if value.kind == "media_bucket":
        return {"Ref": MEDIA_BUCKET}
    raise ValueError(value)


def adjust_function(resource: dict, function: shared.Function) -> None:
    """Complete the function Chalice wrote: its name, role, variables, dependencies and
    event sources."""
    properties = resource["Properties"]
    properties["FunctionName"] = function_name(function.name)
    # Replaces the placeholder `iam_role_arn` of .chalice/config.json.
    properties["Role"] = {"Fn::GetAtt": [role_id(function.name), "Arn"]}
    variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
    variables.update({name: _value(value) for name, value in function.variables.items()})
    # The log group and the permissions exist before the function: it never logs into a
    # group Lambda would create without retention, and an event source mapping (which
    # refers to the function) is created only once the role may read its source.
    resource["DependsOn"] = [log_group_id(function.name), policy_id(function.name)]
    for event in properties.get("Events", {}).values():
        _point_event_source(event, function.name)


def _point_event_source(event: dict, function: str) -> None:
    """Point an event source Chalice wrote at the resource this template creates."""
    kind, properties = event["Type"], event["Properties"]
    if kind == "Schedule":
        return  # SAM makes the EventBridge rule and its invoke permission
    if kind == "DynamoDB" and properties["Stream"] == sources.TABLE_STREAM_ARN:
        if function != shared.STREAM_CONSUMER:
            raise RuntimeError(f"{function} reads the table's stream; deploy/shared.py says not")
        mapping = queues.STREAM_MAPPING
        properties.update(
            Stream={"Fn::GetAtt": [TABLE, "StreamArn"]},
            StartingPosition=mapping["starting_position"],
            BatchSize=mapping["batch_size"],
            BisectBatchOnFunctionError=mapping["bisect_batch_on_function_error"],
            MaximumRecordAgeInSeconds=mapping["maximum_record_age_in_seconds"],
            MaximumRetryAttempts=mapping["maximum_retry_attempts"],
            FunctionResponseTypes=[queues.REPORT_BATCH_ITEM_FAILURES],
            DestinationConfig={
                "OnFailure": {
                    "Destination": {"Fn::GetAtt": [queue_id(queues.STREAM_FAILURES), "Arn"]}
                }
            },
        )
        return
    if kind == "SQS":
        work = _queue_named_by(properties["Queue"])
        if work.consumer != function:
            raise RuntimeError(f"{function} reads {work.name}; deploy/queues.py says not")
        properties.update(
            Queue={"Fn::GetAtt": [queue_id(work.name), "Arn"]},
            FunctionResponseTypes=[queues.REPORT_BATCH_ITEM_FAILURES],
        )
        return
    raise RuntimeError(f"{function}: no resource for Chalice's event source {json.dumps(event)}")


def _queue_named_by(arn) -> queues.Queue:
    for work in queues.QUEUES:
        if arn == {"Fn::Sub": SQS_ARN_PREFIX + work.placeholder}:
            return work
    raise RuntimeError(f"an SQS event source on a queue deploy/queues.py does not know: {arn}")
