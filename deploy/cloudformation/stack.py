"""Turn `chalice package` output (a SAM template) into Herald's stack.

Chalice's template has the functions (`APIHandler`, `Dispatcher`, `Sender`, `Receipts`,
`Callbacks`, `Scheduler`), their event sources written from app.py's decorators, and the API
(`RestAPI`). The event sources name placeholder queues and a placeholder stream
(chalicelib.delivery.sources); this package points them at the resources it adds: the table
and its stream, the queues and their dead-letter queues, the AuthToken key, one role, policy
and log group per function, the page-token secret, and the carrier events topic (with its
key, its policy and its subscription by the receipt queue). A stage whose carrier is End
User Messaging also gets the configuration set whose event destination is that topic, and
its sender may send from the numbers in the `OriginationIdentityArns` parameter. The
CloudWatch alarms of docs/operations.md come last; they notify the SNS topic in the
`AlarmTopicArn` parameter, and nobody when it is left empty (condition `HasAlarmTopic`).
"""

import copy

from chalicelib import storage
from chalicelib.carriers import END_USER_MESSAGING, SANDBOX
from deploy import gateway_errors, queues, shared, token_key
from deploy.alarms import Alarm
from deploy.cloudformation import alarms, carrier_events, functions
from deploy.cloudformation.logical_ids import (
    ALARM_NAMES,
    ALARM_TOPIC,
    API,
    CONFIGURATION_SET,
    EVENTS_TOPIC,
    KEY,
    MEDIA_BUCKET,
    SECRET,
    TABLE,
    alarm_id,
    function_id,
    log_group_id,
    policy_id,
    queue_id,
    role_id,
)


def convert(chalice_template: dict, stage: str, settings: dict, carrier: str = SANDBOX) -> dict:
    template = copy.deepcopy(chalice_template)
    template["Description"] = f"Herald, a Twilio-compatible Messages API (stage {stage})"
    template["Parameters"] = parameters(stage, carrier)
    resources = template["Resources"]
    _check_functions(resources)
    described = shared.functions(carrier)
    resources[TABLE] = _table()
    resources[SECRET] = _secret()
    resources[KEY] = _key()
    resources.update(carrier_events.topic())
    if carrier == END_USER_MESSAGING:
        resources[CONFIGURATION_SET] = carrier_events.configuration_set()
        resources.update(carrier_events.media_bucket())
    for work in queues.QUEUES:
        dead_letter = queues.dead_letter(work.name)
        resources[queue_id(dead_letter)] = _queue(queues.DEAD_LETTER_RETENTION_SECONDS)
        resources[queue_id(work.name)] = _queue(
            queues.WORK_RETENTION_SECONDS,
            visibility=queues.visibility_timeout(work, settings),
            redrive={
                "deadLetterTargetArn": {"Fn::GetAtt": [queue_id(dead_letter), "Arn"]},
                "maxReceiveCount": work.max_receive_count,
            },
        )
    resources[queue_id(queues.STREAM_FAILURES)] = _queue(queues.DEAD_LETTER_RETENTION_SECONDS)
    for name, function in described.items():
        resources[role_id(name)] = functions.role(function)
        resources[policy_id(name)] = functions.policy(name, carrier)
        resources[log_group_id(name)] = functions.log_group(name, settings[name].log_retention_days)
        functions.adjust_function(resources[function_id(name)], function)
    api = resources[API]["Properties"]["DefinitionBody"]
    api[gateway_errors.GATEWAY_RESPONSES_KEY] = gateway_errors.gateway_responses()
    added = alarms.add(template)
    template["Outputs"].update(_outputs(carrier, added))
    return template


def _check_functions(resources: dict) -> None:
    """Every function Chalice wrote has a role here, and every role its function: a new
    decorator in app.py without its grants in deploy/shared.py stops the packaging."""
    written = {
        logical
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    expected = {function_id(name) for name in shared.FUNCTIONS}
    if written != expected:
        raise RuntimeError(
            f"Chalice wrote functions {sorted(written)}; deploy/shared.py describes "
            f"{sorted(expected)}"
        )


def parameters(stage: str, carrier: str = SANDBOX) -> dict:
    declared = {
        "TableName": {
            "Type": "String",
            "Default": shared.default_table_name(stage),
            "AllowedPattern": "[a-zA-Z0-9_.-]{3,255}",
            "Description": "Name of the messages table (kept when the stack is deleted)",
        },
    }
    declared[ALARM_TOPIC] = {
        "Type": "String",
        "Default": "",
        "AllowedPattern": "^$|^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}$",
        "Description": "ARN of an SNS topic (in this region) every alarm notifies when it "
        "fires and when it recovers; empty: the alarms notify no one",
    }
    if carrier == END_USER_MESSAGING:
        declared["ConfigurationSetName"] = {
            "Type": "String",
            "Default": shared.default_configuration_set_name(stage),
            "AllowedPattern": "[A-Za-z0-9_-]{1,64}",
            "Description": "End User Messaging configuration set this stack creates, whose "
            "events reach the receipt queue",
        }
        declared["OriginationIdentityArns"] = {
            "Type": "CommaDelimitedList",
            "Description": "ARNs of the End User Messaging phone numbers, sender IDs and "
            "pools the sender may send from (and only those)",
        }
        declared["DefaultOriginationIdentity"] = {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^$|^[A-Za-z0-9_:/+-]{1,256}$",
            "Description": "Sender of an account with no sender of its own "
            "(HERALD_EUM_ORIGINATION_IDENTITY); empty: the message's From",
        }
    return declared


def _table() -> dict:
    definition = shared.table_definition()
    # CreateTable's StreamSpecification; CloudFormation has no StreamEnabled: a view type
    # means a stream.
    stream = definition.pop("StreamSpecification")
    if stream["StreamEnabled"]:
        definition["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    return {
        "Type": "AWS::DynamoDB::Table",
        # The table outlives the stack and any replacement: messages are the users' data.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": {"Ref": "TableName"},
            **definition,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # SSEEnabled uses the AWS-managed KMS key (alias/aws/dynamodb).
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": True,
            "TimeToLiveSpecification": {
                "AttributeName": storage.TTL_ATTRIBUTE,
                "Enabled": True,
            },
        },
    }


def _queue(retention: int, visibility: int | None = None, redrive: dict | None = None) -> dict:
    properties = {
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": retention,
    }
    if visibility is not None:
        properties["VisibilityTimeout"] = visibility
    if redrive is not None:
        properties["RedrivePolicy"] = redrive
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def _key() -> dict:
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    return {
        "Type": "AWS::KMS::Key",
        # Deleting the key would leave every stored AuthToken ciphertext unreadable: it
        # stays with the table.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": token_key.KEY_DESCRIPTION,
            "EnableKeyRotation": True,
            "PendingWindowInDays": token_key.KEY_DELETION_WINDOW_DAYS,
            "KeyPolicy": token_key.key_policy(
                root, lambda function: {"Fn::GetAtt": [role_id(function), "Arn"]}
            ),
        },
    }


def _secret() -> dict:
    return {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Description": "Herald's HMAC key for PageTokens (resolved into the function "
            "at deploy time; a new value takes effect at the next deploy)",
            "GenerateSecretString": {
                "PasswordLength": shared.SECRET_LENGTH,
                "ExcludePunctuation": True,
            },
        },
    }


def _outputs(carrier: str, added: tuple[Alarm, ...]) -> dict:
    outputs = {
        "CarrierEventsTopicArn": {
            "Description": "The SNS topic End User Messaging publishes delivery events to",
            "Value": {"Ref": EVENTS_TOPIC},
        },
        "TableName": {"Value": {"Ref": TABLE}},
        "TableArn": {"Value": {"Fn::GetAtt": [TABLE, "Arn"]}},
        "KmsKeyId": {
            "Description": "HERALD_KMS_KEY_ID for the admin command (its user needs "
            "kms:Encrypt on this key)",
            "Value": {"Fn::GetAtt": [KEY, "Arn"]},
        },
    }
    if carrier == END_USER_MESSAGING:
        outputs["ConfigurationSetName"] = {"Value": {"Ref": CONFIGURATION_SET}}
        outputs["MediaBucketName"] = {"Value": {"Ref": MEDIA_BUCKET}}
    outputs[ALARM_NAMES] = {
        "Description": "The stack's CloudWatch alarms (comma separated)",
        "Value": {"Fn::Join": [",", [{"Ref": alarm_id(alarm.name)} for alarm in added]]},
    }
    for name in queues.all_queue_names():
        outputs[queue_id(name) + "Url"] = {"Value": {"Ref": queue_id(name)}}
    for name in shared.FUNCTIONS:
        if name != shared.API_FUNCTION:  # Chalice writes APIHandlerName and APIHandlerArn
            outputs[function_id(name) + "Name"] = {"Value": {"Ref": function_id(name)}}
    return outputs
