"""sam.json, CloudFormation's output, read into the expectation's words."""

import json
import re

from deploy.cloudformation import logical_ids

HANDLERS = {
    "app.app": "api_handler",
    "app.dispatcher": "dispatcher",
    "app.sender": "sender",
    "app.receipt_handler": "receipts",
    "app.callback_sender": "callbacks",
    "app.scheduled_sends": "scheduler",
}


class CloudFormation:
    name = "cloudformation"
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    account_id = {"Ref": "AWS::AccountId"}
    sms_voice_arns = {
        "Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*"
    }

    def __init__(self, sam: dict):
        self.doc = self.sam = sam

    def resources_of(self, kind: str) -> dict:
        return {name: r for name, r in self.sam["Resources"].items() if r["Type"] == kind}

    def functions(self) -> dict:
        """Chalice name -> the function's properties (its handler names it in app.py)."""
        functions = self.resources_of("AWS::Serverless::Function")
        return {HANDLERS[f["Properties"]["Handler"]]: f for f in functions.values()}

    def queue_name(self, logical: str) -> str:
        """A queue's name in the expectation (send, send_dead_letter, …) from its logical ID."""
        assert self.sam["Resources"][logical]["Type"] == "AWS::SQS::Queue", logical
        words = re.findall(r"[A-Z][a-z]+", logical.removesuffix("Queue"))
        return "_".join(word.lower() for word in words)

    def log_group_of(self, function: dict) -> str:
        (logical,) = [
            name
            for name, group in self.resources_of("AWS::Logs::LogGroup").items()
            if group["Properties"]["LogGroupName"]
            == {"Fn::Sub": "/aws/lambda/" + function["Properties"]["FunctionName"]["Fn::Sub"]}
        ]
        return logical

    # --- roles and what they may do ---

    def role_of(self, name: str) -> str:
        (logical, attribute) = self.functions()[name]["Properties"]["Role"]["Fn::GetAtt"]
        assert attribute == "Arn"
        return logical

    def role_arn(self, name: str):
        return {"Fn::GetAtt": [self.role_of(name), "Arn"]}

    def roles(self) -> list[str]:
        return list(self.resources_of("AWS::IAM::Role"))

    def policy_of(self, name: str) -> str:
        """The one policy attached to the function's role."""
        role = self.role_of(name)
        (policy,) = [
            logical
            for logical, p in self.resources_of("AWS::IAM::Policy").items()
            if p["Properties"]["Roles"] == [{"Ref": role}]
        ]
        return policy

    def policy_roles(self) -> list[str]:
        """The role each policy is attached to (one each)."""
        attached = []
        for policy in self.resources_of("AWS::IAM::Policy").values():
            (role,) = policy["Properties"]["Roles"]
            attached.append(role["Ref"])
        return attached

    def managed_policies(self) -> list:
        """Policies a role holds other than its own policy resource: inline or managed."""
        return [
            (logical, key)
            for logical, role in self.resources_of("AWS::IAM::Role").items()
            for key in ("Policies", "ManagedPolicyArns")
            if key in role["Properties"]
        ]

    def statements(self) -> list[tuple[list, object]]:
        """(actions, resources) of every statement of every role's policy."""
        return [
            (statement["Action"], statement["Resource"])
            for policy in self.resources_of("AWS::IAM::Policy").values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def resource(self, function: dict, arn) -> str:
        """A resource of a grant, in the expectation's words."""
        table = logical_ids.TABLE
        if arn == {"Fn::GetAtt": [table, "Arn"]}:
            return "table"
        if arn == {"Fn::GetAtt": [table, "StreamArn"]}:
            return "stream"
        if arn == {"Fn::Sub": "${MediaBucket.Arn}/*"}:
            assert self.sam["Resources"]["MediaBucket"]["Type"] == "AWS::S3::Bucket"
            return "media_objects"
        if arn == {
            "Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:message/*"
        }:
            return "carrier_messages"
        if isinstance(arn, dict) and "Fn::Sub" in arn:
            prefix = "${" + table + ".Arn}/index/"
            assert arn["Fn::Sub"].startswith(prefix), arn
            name = arn["Fn::Sub"][len(prefix) :]
            return "indexes" if name == "*" else f"index/{name}"
        (logical, attribute) = arn["Fn::GetAtt"]
        assert attribute == "Arn", arn
        kind = self.sam["Resources"][logical]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"queue/{self.queue_name(logical)}"
        if kind == "AWS::KMS::Key" and logical == logical_ids.KEY:
            return "key"
        if kind == "AWS::SMSVOICE::ConfigurationSet":
            return "configuration_set"
        if kind == "AWS::Logs::LogGroup" and logical == self.log_group_of(function):
            return "logs"  # the function's own (the Arn attribute ends in ":*": its streams)
        raise AssertionError(f"a grant on {arn}")

    def grants(self, name: str) -> dict:
        function = self.functions()[name]
        grants: dict[str, set] = {}
        document = self.sam["Resources"][self.policy_of(name)]["Properties"]["PolicyDocument"]
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            assert set(statement) == {"Sid", "Effect", "Action", "Resource"}  # no NotAction…
            if statement["Resource"] == {"Ref": "OriginationIdentityArns"}:
                # A list parameter: the statement's whole Resource, and nothing else.
                parameter = self.sam["Parameters"]["OriginationIdentityArns"]
                assert parameter["Type"] == "CommaDelimitedList"
                grants.setdefault("origination_identities", set()).update(statement["Action"])
                continue
            for arn in statement["Resource"]:
                resource = self.resource(function, arn)
                grants.setdefault(resource, set()).update(statement["Action"])
        return grants

    # --- the table ---

    def table_definition(self) -> dict:
        """The table as storage.table_definition writes it (TableName aside)."""
        (table,) = self.resources_of("AWS::DynamoDB::Table").values()
        properties = dict(table["Properties"])
        # CloudFormation's form of the stream: a view type means enabled.
        stream = properties.pop("StreamSpecification")
        assert set(stream) == {"StreamViewType"}
        properties["StreamSpecification"] = {"StreamEnabled": True, **stream}
        keys = ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
        return {key: properties[key] for key in (*keys, "StreamSpecification")}

    def table_protection(self) -> dict:
        table = self.sam["Resources"][logical_ids.TABLE]
        properties = table["Properties"]
        return {
            "kept_when_removed": table["DeletionPolicy"]
            == table["UpdateReplacePolicy"]
            == "Retain",
            "point_in_time_recovery": properties["PointInTimeRecoverySpecification"]
            == {"PointInTimeRecoveryEnabled": True},
            "encrypted": properties["SSESpecification"] == {"SSEEnabled": True},
            "deletion_protection": properties["DeletionProtectionEnabled"],
            "ttl": properties["TimeToLiveSpecification"],
        }

    def table_name(self) -> str:
        """The table's name by default, for the dev stage."""
        properties = self.sam["Resources"][logical_ids.TABLE]["Properties"]
        assert properties["TableName"] == {"Ref": "TableName"}
        return self.sam["Parameters"]["TableName"]["Default"]

    # --- queues and what feeds each function ---

    def queues(self) -> dict:
        """Queue name -> {encrypted, kms_key, dead_letter, receives, visibility, retention}."""
        read = {}
        for logical, queue in self.resources_of("AWS::SQS::Queue").items():
            properties = queue["Properties"]
            redrive = properties.get("RedrivePolicy")
            dead_letter = None
            if redrive is not None:
                (target, attribute) = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
                assert attribute == "Arn"
                dead_letter = self.queue_name(target)
            read[self.queue_name(logical)] = {
                "encrypted": properties["SqsManagedSseEnabled"],
                "kms_key": properties.get("KmsMasterKeyId"),
                "dead_letter": dead_letter,
                "receives": redrive and redrive["maxReceiveCount"],
                "visibility": properties.get("VisibilityTimeout"),
                "retention": properties.get("MessageRetentionPeriod"),
            }
        return read

    def event_sources(self) -> dict:
        """Function -> what invokes it: [{source, …its settings}]."""
        read = {}
        for name, function in self.functions().items():
            events = function["Properties"].get("Events", {}).values()
            if events:
                read[name] = [self._event_source(event) for event in events]
        return read

    def _event_source(self, event: dict) -> dict:
        properties = event["Properties"]
        if event["Type"] == "Schedule":
            assert set(properties) == {"Schedule"}
            return {"source": "schedule", "expression": properties["Schedule"]}
        if event["Type"] == "SQS":
            (logical, attribute) = properties["Queue"]["Fn::GetAtt"]
            assert attribute == "Arn"
            source = f"queue/{self.queue_name(logical)}"
        else:
            assert event["Type"] == "DynamoDB"
            assert properties["Stream"] == {"Fn::GetAtt": [logical_ids.TABLE, "StreamArn"]}
            source = "stream"
        on_failure = properties.get("DestinationConfig", {}).get("OnFailure")
        if on_failure is not None:
            (logical, _) = on_failure["Destination"]["Fn::GetAtt"]
            on_failure = f"queue/{self.queue_name(logical)}"
        return {
            "source": source,
            "response_types": properties["FunctionResponseTypes"],
            "batch_size": properties.get("BatchSize"),
            "starting_position": properties.get("StartingPosition"),
            "bisect": properties.get("BisectBatchOnFunctionError"),
            "retries": properties.get("MaximumRetryAttempts"),
            "record_age": properties.get("MaximumRecordAgeInSeconds"),
            "on_failure": on_failure,
        }

    # --- keys ---

    def keys(self) -> dict:
        """Key -> (kept when removed, rotates, its policy)."""
        named = {logical_ids.KEY: "tokens", logical_ids.EVENTS_KEY: "carrier_events"}
        read = {}
        for logical, key in self.resources_of("AWS::KMS::Key").items():
            kept = key.get("DeletionPolicy") == key.get("UpdateReplacePolicy") == "Retain"
            properties = key["Properties"]
            read[named[logical]] = (kept, properties["EnableKeyRotation"], properties["KeyPolicy"])
        return read

    # --- what each function is told and how it runs ---

    def told(self, name: str) -> dict:
        return self.functions()[name]["Properties"]["Environment"]["Variables"]

    @staticmethod
    def is_literal(value) -> bool:
        return isinstance(value, str)

    def value(self, value) -> str:
        """What a variable (or an output) refers to, in the expectation's words."""
        sam = self.sam
        if value == {"Ref": logical_ids.TABLE}:
            return "table"
        if value == {"Fn::Sub": "{{resolve:secretsmanager:${PageTokenSecret}:SecretString}}"}:
            assert sam["Resources"]["PageTokenSecret"]["Type"] == "AWS::SecretsManager::Secret"
            return "secret"
        if value == {"Ref": "ConfigurationSet"}:
            kind = sam["Resources"]["ConfigurationSet"]["Type"]
            assert kind == "AWS::SMSVOICE::ConfigurationSet"
            return "configuration_set"
        if value == {"Ref": "MediaBucket"}:
            return "media_bucket"
        if value == {"Ref": "DefaultOriginationIdentity"}:
            assert sam["Parameters"]["DefaultOriginationIdentity"]["Default"] == ""
            return "default_origination_identity"
        if value == {"Ref": logical_ids.EVENTS_TOPIC}:
            return "carrier_events_topic"
        if "Ref" in value:
            return f"queue/{self.queue_name(value['Ref'])}"
        assert value == {"Fn::GetAtt": [logical_ids.KEY, "Arn"]}, value
        assert sam["Resources"][logical_ids.KEY]["Type"] == "AWS::KMS::Key"
        return "key"

    def function_settings(self, name: str) -> dict:
        function = self.functions()[name]
        properties = function["Properties"]
        log_group = self.log_group_of(function)
        needs = {log_group: "log_group", self.policy_of(name): "policy"}
        return {
            "architectures": properties["Architectures"],
            "memory": properties["MemorySize"],
            "timeout": properties["Timeout"],
            "name": properties["FunctionName"]["Fn::Sub"].removeprefix("${AWS::StackName}"),
            "log_retention": self.sam["Resources"][log_group]["Properties"]["RetentionInDays"],
            # Its log group (named before the function exists) and its permissions come first.
            "after": sorted(needs[logical] for logical in function["DependsOn"]),
        }

    def runtimes(self) -> set[str]:
        return {f["Properties"]["Runtime"] for f in self.functions().values()}

    # --- the API and the outputs ---

    def api_definition(self) -> dict:
        return self.sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]

    def endpoint_types(self) -> list[str]:
        return [self.sam["Resources"]["RestAPI"]["Properties"]["EndpointConfiguration"]]

    def outputs(self) -> dict:
        return {name: output["Value"] for name, output in self.sam["Outputs"].items()}

    # --- carrier events: End User Messaging -> SNS -> the receipt queue ---

    def events_topic(self) -> tuple:
        """(the topic's reference, the key it is encrypted with)."""
        properties = self.sam["Resources"][logical_ids.EVENTS_TOPIC]["Properties"]
        assert set(properties) == {"KmsMasterKeyId"}
        (logical, attribute) = properties["KmsMasterKeyId"]["Fn::GetAtt"]
        assert attribute == "Arn"
        named = {logical_ids.EVENTS_KEY: "carrier_events"}
        return {"Ref": logical_ids.EVENTS_TOPIC}, named[logical]

    def topic_policy(self) -> tuple:
        """(the topics it is for, its document)."""
        properties = self.sam["Resources"][logical_ids.EVENTS_TOPIC_POLICY]["Properties"]
        return properties["Topics"], properties["PolicyDocument"]

    def subscription(self) -> dict:
        subscription = self.sam["Resources"][logical_ids.EVENTS_SUBSCRIPTION]
        properties = subscription["Properties"]
        assert set(properties) == {"TopicArn", "Protocol", "Endpoint", "RawMessageDelivery"}
        (queue_policy,) = subscription["DependsOn"]
        (queue,) = self.sam["Resources"][queue_policy]["Properties"]["Queues"]
        return {
            "topic": properties["TopicArn"],
            "protocol": properties["Protocol"],
            "endpoint": self.resource({}, properties["Endpoint"]),
            "raw": properties["RawMessageDelivery"],
            "after_queue_policy_of": self.queue_name(queue["Ref"]),
        }

    def queue_policies(self) -> dict:
        """Queue -> (its ARN, its policy): only the receipt queue takes from outside IAM."""
        read = {}
        for policy in self.resources_of("AWS::SQS::QueuePolicy").values():
            (queue,) = policy["Properties"]["Queues"]
            name = self.queue_name(queue["Ref"])
            arn = {"Fn::GetAtt": [queue["Ref"], "Arn"]}
            read[name] = (arn, policy["Properties"]["PolicyDocument"])
        return read

    # --- End User Messaging: its parameters, configuration set and media bucket ---

    PARAMETERS = {
        "TableName": "table_name",
        "AlarmTopicArn": "alarm_topic_arn",
        "ConfigurationSetName": "configuration_set_name",
        "OriginationIdentityArns": "origination_identity_arns",
        "DefaultOriginationIdentity": "default_origination_identity",
    }

    def parameters(self) -> dict:
        """Parameter (in Terraform's words) -> (a list?, its default or None)."""
        return {
            self.PARAMETERS[name]: (
                parameter["Type"] == "CommaDelimitedList",
                parameter.get("Default"),
            )
            for name, parameter in self.sam["Parameters"].items()
        }

    def configuration_sets(self) -> list[dict]:
        read = []
        depends = {
            logical_ids.EVENTS_TOPIC_POLICY: "topic_policy",
            logical_ids.EVENTS_SUBSCRIPTION: "subscription",
        }
        for configuration_set in self.resources_of("AWS::SMSVOICE::ConfigurationSet").values():
            properties = configuration_set["Properties"]
            assert properties["ConfigurationSetName"] == {"Ref": "ConfigurationSetName"}
            destinations = [
                {
                    "name": d["EventDestinationName"],
                    "enabled": d["Enabled"],
                    "types": d["MatchingEventTypes"],
                    "topic": self.value(d["SnsDestination"]["TopicArn"]),
                }
                for d in properties["EventDestinations"]
            ]
            read.append(
                {
                    "name": self.sam["Parameters"]["ConfigurationSetName"]["Default"],
                    "destinations": destinations,
                    "after": sorted(depends[logical] for logical in configuration_set["DependsOn"]),
                }
            )
        return read

    def buckets(self) -> list:
        return list(self.resources_of("AWS::S3::Bucket"))

    def media_bucket(self) -> dict:
        properties = self.sam["Resources"]["MediaBucket"]["Properties"]
        block = properties["PublicAccessBlockConfiguration"]
        (ownership,) = properties["OwnershipControls"]["Rules"]
        (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert set(encryption) == {"ServerSideEncryptionByDefault"}
        (rule,) = properties["LifecycleConfiguration"]["Rules"]
        (policy,) = self.resources_of("AWS::S3::BucketPolicy").values()
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        resources = {
            json.dumps({"Fn::GetAtt": ["MediaBucket", "Arn"]}): "bucket",
            json.dumps({"Fn::Sub": "${MediaBucket.Arn}/*"}): "objects",
        }
        return {
            "public_access_block": {
                "block_public_acls": block["BlockPublicAcls"],
                "block_public_policy": block["BlockPublicPolicy"],
                "ignore_public_acls": block["IgnorePublicAcls"],
                "restrict_public_buckets": block["RestrictPublicBuckets"],
            },
            "ownership": ownership["ObjectOwnership"],
            "encryption": encryption["ServerSideEncryptionByDefault"],
            "expires": (rule["Status"], rule["ExpirationInDays"]),
            "policy": {k: v for k, v in statement.items() if k != "Resource"},
            "policy_on": [resources[json.dumps(arn)] for arn in statement["Resource"]],
        }

    # --- alarms: in tests/deploy/test_alarms.py ---
