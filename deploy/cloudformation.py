"""Turn `chalice package` output (a SAM template) into Herald's stack.

Chalice's template has the functions (`APIHandler`, `Dispatcher`, `Sender`, `Receipts`,
`Callbacks`, `Scheduler`), their event sources written from app.py's decorators, and the API
(`RestAPI`). The event sources name placeholder queues and a placeholder stream
(chalicelib.delivery.sources); this module points them at the resources it adds: the table
and its stream, the queues and their dead-letter queues, the AuthToken key, one role, policy
and log group per function, the page-token secret, and the carrier events topic (with its
key, its policy and its subscription by the receipt queue). A stage whose carrier is End
User Messaging also gets the configuration set whose event destination is that topic, and
its sender may send from the numbers in the `OriginationIdentityArns` parameter. The
CloudWatch alarms of docs/operations.md come last; they notify the SNS topic in the
`AlarmTopicArn` parameter, and nobody when it is left empty (condition `HasAlarmTopic`).
"""

import copy
import json

from chalice.utils import to_cfn_resource_name

from chalicelib import storage
from chalicelib.carriers import END_USER_MESSAGING, SANDBOX
from chalicelib.delivery import sources
from deploy import shared

TABLE = "MessagesTable"
SECRET = "PageTokenSecret"
KEY = "TokenKey"
EVENTS_KEY = "CarrierEventsKey"
EVENTS_TOPIC = "CarrierEventsTopic"
EVENTS_TOPIC_POLICY = "CarrierEventsTopicPolicy"
EVENTS_SUBSCRIPTION = "CarrierEventsSubscription"
RECEIPTS_QUEUE_POLICY = "ReceiptsQueuePolicy"
CONFIGURATION_SET = "ConfigurationSet"
MEDIA_BUCKET = "MediaBucket"
MEDIA_BUCKET_POLICY = "MediaBucketPolicy"
API = "RestAPI"
ALARM_TOPIC = "AlarmTopicArn"  # the parameter: an SNS topic of the user's, or empty
HAS_ALARM_TOPIC = "HasAlarmTopic"  # the condition: alarms notify only when it is given
ALARM_NAMES = "AlarmNames"  # the output
# Chalice's logical ID of the API function (the others are to_cfn_resource_name(name)).
API_FUNCTION = "APIHandler"
SQS_ARN_PREFIX = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"


def function_id(name: str) -> str:
    return API_FUNCTION if name == shared.API_FUNCTION else to_cfn_resource_name(name)


def role_id(name: str) -> str:
    return function_id(name) + "Role"


def policy_id(name: str) -> str:
    return function_id(name) + "Policy"


def log_group_id(name: str) -> str:
    return function_id(name) + "LogGroup"


def queue_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Queue"


def alarm_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Alarm"


def function_name(name: str) -> dict:
    """`<stack>` for the API, `<stack>-<name>` for the others (as Chalice and the Terraform
    output name them), known before the function exists so its log group can be too."""
    suffix = "" if name == shared.API_FUNCTION else f"-{name}"
    return {"Fn::Sub": "${AWS::StackName}" + suffix}


def convert(chalice_template: dict, stage: str, settings: dict, carrier: str = SANDBOX) -> dict:
    template = copy.deepcopy(chalice_template)
    template["Description"] = f"Herald, a Twilio-compatible Messages API (stage {stage})"
    template["Parameters"] = parameters(stage, carrier)
    resources = template["Resources"]
    _check_functions(resources)
    functions = shared.functions(carrier)
    resources[TABLE] = _table()
    resources[SECRET] = _secret()
    resources[KEY] = _key()
    resources.update(_carrier_events())
    if carrier == END_USER_MESSAGING:
        resources[CONFIGURATION_SET] = _configuration_set()
        resources.update(_media_bucket())
    for work in shared.QUEUES:
        dead_letter = shared.dead_letter(work.name)
        resources[queue_id(dead_letter)] = _queue(shared.DEAD_LETTER_RETENTION_SECONDS)
        resources[queue_id(work.name)] = _queue(
            shared.WORK_RETENTION_SECONDS,
            visibility=shared.visibility_timeout(work, settings),
            redrive={
                "deadLetterTargetArn": {"Fn::GetAtt": [queue_id(dead_letter), "Arn"]},
                "maxReceiveCount": work.max_receive_count,
            },
        )
    resources[queue_id(shared.STREAM_FAILURES)] = _queue(shared.DEAD_LETTER_RETENTION_SECONDS)
    for name, function in functions.items():
        resources[role_id(name)] = _role(function)
        resources[policy_id(name)] = _policy(name, carrier)
        resources[log_group_id(name)] = _log_group(name, settings[name].log_retention_days)
        _adjust_function(resources[function_id(name)], function)
    api = resources[API]["Properties"]["DefinitionBody"]
    api[shared.GATEWAY_RESPONSES_KEY] = shared.gateway_responses()
    template.setdefault("Conditions", {})[HAS_ALARM_TOPIC] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": ALARM_TOPIC}, ""]}]
    }
    alarms = shared.alarms(_metrics_stage(resources))
    for alarm in alarms:
        resources[alarm_id(alarm.name)] = _alarm(alarm)
    template["Outputs"].update(_outputs(carrier, alarms))
    return template


def _metrics_stage(resources: dict) -> str:
    """The Stage the functions' metrics carry: the HERALD_STAGE Chalice wrote into them."""
    return shared.metrics_stage(
        {
            name: resources[function_id(name)]["Properties"]
            .get("Environment", {})
            .get("Variables", {})
            for name in shared.FUNCTIONS
        }
    )


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


_ACCOUNT_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
_ACCOUNT_ID = {"Ref": "AWS::AccountId"}
_SMS_VOICE_ARNS = {"Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*"}
_CARRIER_MESSAGES = {
    "Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:message/*"
}


def _carrier_events() -> dict:
    """The topic End User Messaging publishes delivery events to, and its way into the
    receipt queue."""
    receipts = queue_id("receipts")
    return {
        EVENTS_KEY: {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": shared.EVENTS_KEY_DESCRIPTION,
                "EnableKeyRotation": True,
                "PendingWindowInDays": shared.KEY_DELETION_WINDOW_DAYS,
                "KeyPolicy": shared.events_key_policy(
                    _ACCOUNT_ROOT,
                    _ACCOUNT_ID,
                    _SMS_VOICE_ARNS,
                ),
            },
        },
        EVENTS_TOPIC: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": [EVENTS_KEY, "Arn"]}},
        },
        EVENTS_TOPIC_POLICY: {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": EVENTS_TOPIC}],
                "PolicyDocument": shared.events_topic_policy(
                    {"Ref": EVENTS_TOPIC}, _ACCOUNT_ID, _SMS_VOICE_ARNS
                ),
            },
        },
        RECEIPTS_QUEUE_POLICY: {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": receipts}],
                "PolicyDocument": shared.receipt_queue_policy(
                    {"Fn::GetAtt": [receipts, "Arn"]}, {"Ref": EVENTS_TOPIC}
                ),
            },
        },
        EVENTS_SUBSCRIPTION: {
            "Type": "AWS::SNS::Subscription",
            # Nothing is published before the queue takes it.
            "DependsOn": [RECEIPTS_QUEUE_POLICY],
            "Properties": {
                "TopicArn": {"Ref": EVENTS_TOPIC},
                "Protocol": "sqs",
                "Endpoint": {"Fn::GetAtt": [receipts, "Arn"]},
                "RawMessageDelivery": shared.RAW_MESSAGE_DELIVERY,
            },
        },
    }


def _configuration_set() -> dict:
    return {
        "Type": "AWS::SMSVOICE::ConfigurationSet",
        # End User Messaging checks that it may publish when the destination is created.
        "DependsOn": [EVENTS_TOPIC_POLICY, EVENTS_SUBSCRIPTION],
        "Properties": {
            "ConfigurationSetName": {"Ref": "ConfigurationSetName"},
            "EventDestinations": [
                {
                    "EventDestinationName": shared.EVENT_DESTINATION_NAME,
                    "Enabled": True,
                    "MatchingEventTypes": shared.EVENT_TYPES,
                    "SnsDestination": {"TopicArn": {"Ref": EVENTS_TOPIC}},
                }
            ],
        },
    }


def _media_bucket() -> dict:
    """The private bucket End User Messaging sends MMS media from (chalicelib.storage.
    media_objects): the sender writes each file, SendMediaMessage reads it as the sender."""
    bucket_arn = {"Fn::GetAtt": [MEDIA_BUCKET, "Arn"]}
    return {
        MEDIA_BUCKET: {
            "Type": "AWS::S3::Bucket",
            # Its objects expire on their own; a bucket that still holds some cannot be
            # deleted with the stack, so it stays (empty it, then delete it).
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "ExpireSentMedia",
                            "Status": "Enabled",
                            "ExpirationInDays": shared.MEDIA_RETENTION_DAYS,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
            },
        },
        MEDIA_BUCKET_POLICY: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": MEDIA_BUCKET},
                "PolicyDocument": shared.media_bucket_policy(
                    bucket_arn, {"Fn::Sub": "${" + MEDIA_BUCKET + ".Arn}/*"}
                ),
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
    decrypting_role = {"Fn::GetAtt": [role_id(shared.DECRYPTING_FUNCTION), "Arn"]}
    return {
        "Type": "AWS::KMS::Key",
        # Deleting the key would leave every stored AuthToken ciphertext unreadable: it
        # stays with the table.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": shared.KEY_DESCRIPTION,
            "EnableKeyRotation": True,
            "PendingWindowInDays": shared.KEY_DELETION_WINDOW_DAYS,
            "KeyPolicy": shared.key_policy(root, decrypting_role),
        },
    }


def _role(function: shared.Function) -> dict:
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


def _policy(name: str, carrier: str) -> dict:
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


def _log_group(name: str, retention_days: int) -> dict:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/" + function_name(name)["Fn::Sub"]},
            "RetentionInDays": retention_days,
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


def _adjust_function(resource: dict, function: shared.Function) -> None:
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
        mapping = shared.STREAM_MAPPING
        properties.update(
            Stream={"Fn::GetAtt": [TABLE, "StreamArn"]},
            StartingPosition=mapping["starting_position"],
            BatchSize=mapping["batch_size"],
            BisectBatchOnFunctionError=mapping["bisect_batch_on_function_error"],
            MaximumRecordAgeInSeconds=mapping["maximum_record_age_in_seconds"],
            MaximumRetryAttempts=mapping["maximum_retry_attempts"],
            FunctionResponseTypes=[shared.REPORT_BATCH_ITEM_FAILURES],
            DestinationConfig={
                "OnFailure": {
                    "Destination": {"Fn::GetAtt": [queue_id(shared.STREAM_FAILURES), "Arn"]}
                }
            },
        )
        return
    if kind == "SQS":
        work = _queue_named_by(properties["Queue"])
        if work.consumer != function:
            raise RuntimeError(f"{function} reads {work.name}; deploy/shared.py says not")
        properties.update(
            Queue={"Fn::GetAtt": [queue_id(work.name), "Arn"]},
            FunctionResponseTypes=[shared.REPORT_BATCH_ITEM_FAILURES],
        )
        return
    raise RuntimeError(f"{function}: no resource for Chalice's event source {json.dumps(event)}")


def _queue_named_by(arn) -> shared.Queue:
    for work in shared.QUEUES:
        if arn == {"Fn::Sub": SQS_ARN_PREFIX + work.placeholder}:
            return work
    raise RuntimeError(f"an SQS event source on a queue deploy/shared.py does not know: {arn}")


def _dimension_value(value):
    if isinstance(value, str):
        return value  # the metrics' Stage
    if value.kind == "queue_name":
        return {"Fn::GetAtt": [queue_id(value.name), "QueueName"]}
    if value.kind == "function_name":
        return {"Ref": function_id(value.name)}
    raise ValueError(value)


def _metric(metric: shared.Metric) -> dict:
    return {
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": [{"Name": metric.dimension, "Value": _dimension_value(metric.value)}],
    }


def _alarm(alarm: shared.Alarm) -> dict:
    # Actions only when the stack is given a topic.
    actions = {"Fn::If": [HAS_ALARM_TOPIC, [{"Ref": ALARM_TOPIC}], {"Ref": "AWS::NoValue"}]}
    properties = {
        "AlarmName": {"Fn::Sub": "${AWS::StackName}-" + alarm.dashed},
        "AlarmDescription": alarm.description,
        "ComparisonOperator": alarm.comparison,
        "Threshold": alarm.threshold,
        "EvaluationPeriods": alarm.periods,
        "DatapointsToAlarm": alarm.datapoints,
        "TreatMissingData": alarm.treat_missing_data,
        "AlarmActions": actions,
        "OKActions": actions,
    }
    if alarm.metric is not None:
        properties.update(
            _metric(alarm.metric),
            Statistic=alarm.metric.statistic,
            Period=alarm.metric.period,
        )
    else:
        inputs = [
            {
                "Id": id_,
                "MetricStat": {
                    "Metric": _metric(metric),
                    "Period": metric.period,
                    "Stat": metric.statistic,
                },
                "ReturnData": False,
            }
            for id_, metric in alarm.inputs
        ]
        result = {
            "Id": shared.EXPRESSION_ID,
            "Expression": alarm.expression,
            "Label": alarm.label,
            "ReturnData": True,
        }
        properties["Metrics"] = [*inputs, result]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def _outputs(carrier: str, alarms: tuple[shared.Alarm, ...]) -> dict:
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
        "Value": {"Fn::Join": [",", [{"Ref": alarm_id(alarm.name)} for alarm in alarms]]},
    }
    for name in shared.all_queue_names():
        outputs[queue_id(name) + "Url"] = {"Value": {"Ref": queue_id(name)}}
    for name in shared.FUNCTIONS:
        if name != shared.API_FUNCTION:  # Chalice writes APIHandlerName and APIHandlerArn
            outputs[function_id(name) + "Name"] = {"Value": {"Ref": function_id(name)}}
    return outputs
