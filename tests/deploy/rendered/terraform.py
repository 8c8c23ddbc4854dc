"""chalice.tf.json, Terraform's output, read into the expectation's words."""

import json
import re

from tests.deploy.expected import STAGE

TF_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([\w-]+)\.([a-z_]+)\}$")


def tf_ref(text: str) -> tuple[str, str, str]:
    match = TF_REFERENCE.match(text)
    assert match, text
    return match.groups()


class Terraform:
    name = "terraform"
    root = (
        "arn:${data.aws_partition.current.partition}:iam::"
        "${data.aws_caller_identity.current.account_id}:root"
    )
    account_id = "${data.aws_caller_identity.current.account_id}"
    sms_voice_arns = (
        "arn:${data.aws_partition.current.partition}:sms-voice:*:"
        "${data.aws_caller_identity.current.account_id}:*"
    )

    def __init__(self, tf: dict):
        self.doc = self.tf = tf
        self.resources = tf["resource"]

    def functions(self) -> dict:
        return self.resources["aws_lambda_function"]

    # --- roles and what they may do ---

    def role_of(self, name: str) -> str:
        kind, role, attribute = tf_ref(self.functions()[name]["role"])
        assert (kind, attribute) == ("aws_iam_role", "arn")
        return role

    def role_arn(self, name: str) -> str:
        return f"${{aws_iam_role.{self.role_of(name)}.arn}}"

    def roles(self) -> list[str]:
        return list(self.resources["aws_iam_role"])

    def policy_of(self, name: str) -> str:
        role = self.role_of(name)
        (policy,) = [
            logical
            for logical, p in self.resources["aws_iam_role_policy"].items()
            if p["role"] == f"${{aws_iam_role.{role}.id}}"
        ]
        return policy

    def policy_roles(self) -> list[str]:
        attached = []
        for policy in self.resources["aws_iam_role_policy"].values():
            kind, role, attribute = tf_ref(policy["role"])
            assert (kind, attribute) == ("aws_iam_role", "id")
            attached.append(role)
        return attached

    def managed_policies(self) -> list:
        return list(self.resources.get("aws_iam_role_policy_attachment", {}))

    def statements(self) -> list[tuple[list, object]]:
        return [
            (statement["actions"], statement["resources"])
            for document in self.tf["data"]["aws_iam_policy_document"].values()
            for statement in document["statement"]
        ]

    def resource(self, name: str, arn: str) -> str:
        """A resource of a grant, in the expectation's words."""
        table = "${aws_dynamodb_table.messages.arn}"
        if arn == table:
            return "table"
        if arn == "${aws_dynamodb_table.messages.stream_arn}":
            return "stream"
        if arn.startswith(table + "/index/"):
            index = arn[len(table + "/index/") :]
            return "indexes" if index == "*" else f"index/{index}"
        if arn == f"${{aws_cloudwatch_log_group.{name}.arn}}:*":
            return "logs"
        if arn == "${aws_s3_bucket.media.arn}/*":
            return "media_objects"
        if arn == (
            "arn:${data.aws_partition.current.partition}:sms-voice:*:"
            "${data.aws_caller_identity.current.account_id}:message/*"
        ):
            return "carrier_messages"
        kind, resource, attribute = tf_ref(arn)
        assert attribute == "arn", arn
        if kind == "aws_sqs_queue":
            return f"queue/{resource}"
        if (kind, resource) == ("aws_kms_key", "tokens"):
            return "key"
        if (kind, resource) == ("aws_pinpointsmsvoicev2_configuration_set", "herald"):
            return "configuration_set"
        raise AssertionError(f"a grant on {arn}")

    def grants(self, name: str) -> dict:
        policy = self.resources["aws_iam_role_policy"][self.policy_of(name)]
        kind, document, attribute = tf_ref(policy["policy"].replace("data.", "", 1))
        assert (kind, attribute) == ("aws_iam_policy_document", "json")
        grants: dict[str, set] = {}
        for statement in self.tf["data"]["aws_iam_policy_document"][document]["statement"]:
            assert statement["effect"] == "Allow"
            assert set(statement) == {"sid", "effect", "actions", "resources"}
            if statement["resources"] == "${var.origination_identity_arns}":
                # The list variable (one interpolation: its value, unwrapped), and nothing else.
                assert self.tf["variable"]["origination_identity_arns"]["type"] == "list(string)"
                grants.setdefault("origination_identities", set()).update(statement["actions"])
                continue
            for arn in statement["resources"]:
                grants.setdefault(self.resource(name, arn), set()).update(statement["actions"])
        return grants

    # --- the table ---

    def table_definition(self) -> dict:
        """The table as storage.table_definition writes it (TableName aside)."""
        table = self.resources["aws_dynamodb_table"]["messages"]

        def key_schema(hash_key, range_key):
            return [
                {"AttributeName": hash_key, "KeyType": "HASH"},
                {"AttributeName": range_key, "KeyType": "RANGE"},
            ]

        def index(gsi):
            projection = {"ProjectionType": gsi["projection_type"]}
            if "non_key_attributes" in gsi:
                projection["NonKeyAttributes"] = gsi["non_key_attributes"]
            return {
                "IndexName": gsi["name"],
                "KeySchema": key_schema(gsi["hash_key"], gsi["range_key"]),
                "Projection": projection,
            }

        return {
            "BillingMode": table["billing_mode"],
            "AttributeDefinitions": [
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attribute"]
            ],
            "KeySchema": key_schema(table["hash_key"], table["range_key"]),
            "GlobalSecondaryIndexes": [index(gsi) for gsi in table["global_secondary_index"]],
            "StreamSpecification": {
                "StreamEnabled": table["stream_enabled"],
                "StreamViewType": table["stream_view_type"],
            },
        }

    def table_protection(self) -> dict:
        table = self.resources["aws_dynamodb_table"]["messages"]
        return {
            "kept_when_removed": table["lifecycle"] == {"prevent_destroy": True},
            "point_in_time_recovery": table["point_in_time_recovery"] == {"enabled": True},
            "encrypted": table["server_side_encryption"] == {"enabled": True},
            "deletion_protection": table["deletion_protection_enabled"],
            "ttl": {
                "AttributeName": table["ttl"]["attribute_name"],
                "Enabled": table["ttl"]["enabled"],
            },
        }

    def table_name(self) -> str:
        """The table's name by default, for the dev stage."""
        assert self.resources["aws_dynamodb_table"]["messages"]["name"] == "${local.table_name}"
        local = self.tf["locals"]["table_name"]
        assert local == '${coalesce(var.table_name, "herald-${var.stage}-messages")}', local
        return f"herald-{STAGE}-messages"

    # --- queues and what feeds each function ---

    def queues(self) -> dict:
        read = {}
        for name, queue in self.resources["aws_sqs_queue"].items():
            assert queue["name"] == "${local.function_name}-" + name.replace("_", "-")
            redrive = queue.get("redrive_policy")
            dead_letter = receives = None
            if redrive is not None:
                redrive = json.loads(redrive)
                assert set(redrive) == {"deadLetterTargetArn", "maxReceiveCount"}
                kind, dead_letter, attribute = tf_ref(redrive["deadLetterTargetArn"])
                assert (kind, attribute) == ("aws_sqs_queue", "arn")
                receives = redrive["maxReceiveCount"]
            read[name] = {
                "encrypted": queue["sqs_managed_sse_enabled"],
                "kms_key": queue.get("kms_master_key_id"),
                "dead_letter": dead_letter,
                "receives": receives,
                "visibility": queue.get("visibility_timeout_seconds"),
                "retention": queue.get("message_retention_seconds"),
            }
        return read

    def event_sources(self) -> dict:
        read: dict[str, list] = {}
        for mapping in self.resources["aws_lambda_event_source_mapping"].values():
            kind, function, attribute = tf_ref(mapping["function_name"])
            assert (kind, attribute) == ("aws_lambda_function", "arn")
            read.setdefault(function, []).append(self._event_source(mapping))
        rules = self.resources["aws_cloudwatch_event_rule"]
        for target in self.resources["aws_cloudwatch_event_target"].values():
            kind, function, attribute = tf_ref(target["arn"])
            assert (kind, attribute) == ("aws_lambda_function", "arn")
            kind, rule, attribute = tf_ref(target["rule"])
            assert (kind, attribute) == ("aws_cloudwatch_event_rule", "name")
            expression = rules[rule]["schedule_expression"]
            read.setdefault(function, []).append({"source": "schedule", "expression": expression})
        return read

    def _event_source(self, mapping: dict) -> dict:
        if mapping["event_source_arn"] == "${aws_dynamodb_table.messages.stream_arn}":
            source = "stream"
        else:
            kind, queue, attribute = tf_ref(mapping["event_source_arn"])
            assert (kind, attribute) == ("aws_sqs_queue", "arn")
            source = f"queue/{queue}"
        on_failure = mapping.get("destination_config", {}).get("on_failure")
        if on_failure is not None:
            kind, queue, attribute = tf_ref(on_failure["destination_arn"])
            assert (kind, attribute) == ("aws_sqs_queue", "arn")
            on_failure = f"queue/{queue}"
        return {
            "source": source,
            "response_types": mapping["function_response_types"],
            "batch_size": mapping.get("batch_size"),
            "starting_position": mapping.get("starting_position"),
            "bisect": mapping.get("bisect_batch_on_function_error"),
            "retries": mapping.get("maximum_retry_attempts"),
            "record_age": mapping.get("maximum_record_age_in_seconds"),
            "on_failure": on_failure,
        }

    # --- keys ---

    def keys(self) -> dict:
        return {
            name: (
                key.get("lifecycle") == {"prevent_destroy": True},
                key["enable_key_rotation"],
                json.loads(key["policy"]),
            )
            for name, key in self.resources["aws_kms_key"].items()
        }

    # --- what each function is told and how it runs ---

    def told(self, name: str) -> dict:
        return self.functions()[name]["environment"]["variables"]

    @staticmethod
    def is_literal(value) -> bool:
        return not value.startswith("${")

    def value(self, value: str) -> str:
        if value == "${aws_dynamodb_table.messages.name}":
            return "table"
        if value == "${random_password.page_token_secret.result}":
            return "secret"
        if value == "${aws_kms_key.tokens.arn}":
            return "key"
        if value == "${aws_pinpointsmsvoicev2_configuration_set.herald.name}":
            return "configuration_set"
        if value == "${var.default_origination_identity}":
            return "default_origination_identity"
        if value == "${aws_s3_bucket.media.bucket}":
            return "media_bucket"
        if value == "${aws_sns_topic.carrier_events.arn}":
            return "carrier_events_topic"
        kind, queue, attribute = tf_ref(value)
        assert (kind, attribute) == ("aws_sqs_queue", "url")
        return f"queue/{queue}"

    def function_settings(self, name: str) -> dict:
        function = self.functions()[name]
        log_group = self.resources["aws_cloudwatch_log_group"][name]
        assert log_group["name"] == "/aws/lambda/" + function["function_name"]
        needs = {
            f"aws_cloudwatch_log_group.{name}": "log_group",
            f"aws_iam_role_policy.{self.policy_of(name)}": "policy",
        }
        return {
            "architectures": function["architectures"],
            "memory": function["memory_size"],
            "timeout": function["timeout"],
            "name": function["function_name"].removeprefix("${local.function_name}"),
            "log_retention": log_group["retention_in_days"],
            "after": sorted(needs[resource] for resource in function["depends_on"]),
        }

    def runtimes(self) -> set[str]:
        return {f["runtime"] for f in self.functions().values()}

    # --- the API and the outputs ---

    def api_definition(self) -> dict:
        return json.loads(self.tf["locals"]["chalice_api_swagger"])

    def endpoint_types(self) -> list[str]:
        return self.resources["aws_api_gateway_rest_api"]["rest_api"]["endpoint_configuration"][
            "types"
        ]

    def outputs(self) -> dict:
        return {name: output["value"] for name, output in self.tf["output"].items()}

    # --- carrier events: End User Messaging -> SNS -> the receipt queue ---

    def events_topic(self) -> tuple:
        topic = self.resources["aws_sns_topic"]["carrier_events"]
        assert topic["name"] == "${local.function_name}-carrier-events"
        assert set(topic) == {"name", "kms_master_key_id"}
        kind, key, attribute = tf_ref(topic["kms_master_key_id"])
        assert (kind, attribute) == ("aws_kms_key", "arn")
        return "${aws_sns_topic.carrier_events.arn}", key

    def topic_policy(self) -> tuple:
        policy = self.resources["aws_sns_topic_policy"]["carrier_events"]
        return [policy["arn"]], json.loads(policy["policy"])

    def subscription(self) -> dict:
        subscription = self.resources["aws_sns_topic_subscription"]["carrier_events"]
        (queue_policy,) = subscription["depends_on"]
        assert queue_policy.startswith("aws_sqs_queue_policy."), queue_policy
        assert set(subscription) == {
            "topic_arn", "protocol", "endpoint", "raw_message_delivery", "depends_on"
        }  # fmt: skip
        return {
            "topic": subscription["topic_arn"],
            "protocol": subscription["protocol"],
            "endpoint": self.resource("", subscription["endpoint"]),
            "raw": subscription["raw_message_delivery"],
            "after_queue_policy_of": queue_policy.removeprefix("aws_sqs_queue_policy."),
        }

    def queue_policies(self) -> dict:
        read = {}
        for policy in self.resources["aws_sqs_queue_policy"].values():
            kind, name, attribute = tf_ref(policy["queue_url"])
            assert (kind, attribute) == ("aws_sqs_queue", "url")
            read[name] = (f"${{aws_sqs_queue.{name}.arn}}", json.loads(policy["policy"]))
        return read

    # --- End User Messaging: its parameters, configuration set and media bucket ---

    def parameters(self) -> dict:
        """Variable -> (a list?, its default or None)."""
        return {
            name: (variable["type"] == "list(string)", variable.get("default"))
            for name, variable in self.tf["variable"].items()
        }

    def configuration_sets(self) -> list[dict]:
        sets = self.resources.get("aws_pinpointsmsvoicev2_configuration_set", {})
        if not sets:
            assert "configuration_set_name" not in self.tf["locals"]
            return []
        assert self.tf["locals"]["configuration_set_name"] == (
            '${coalesce(var.configuration_set_name, "herald-${var.stage}")}'
        )
        assert self.tf["variable"]["configuration_set_name"]["default"] is None
        (name, configuration_set) = next(iter(sets.items()))
        assert configuration_set == {"name": "${local.configuration_set_name}"}
        reference = f"${{aws_pinpointsmsvoicev2_configuration_set.{name}.name}}"
        depends = {
            "aws_sns_topic_policy.carrier_events": "topic_policy",
            "aws_sns_topic_subscription.carrier_events": "subscription",
        }
        destinations, after = [], set()
        for d in self.resources["aws_pinpointsmsvoicev2_event_destination"].values():
            assert d["configuration_set_name"] == reference
            assert set(d) <= {
                "configuration_set_name", "event_destination_name", "enabled",
                "matching_event_types", "sns_destination", "depends_on",
            }  # fmt: skip
            destinations.append(
                {
                    "name": d["event_destination_name"],
                    "enabled": d.get("enabled", True),  # the provider's default
                    "types": d["matching_event_types"],
                    "topic": self.value(d["sns_destination"]["topic_arn"]),
                }
            )
            # The destination is made (and checked by AWS) once the topic lets it publish.
            after |= {depends[resource] for resource in d["depends_on"]}
        return [{"name": f"herald-{STAGE}", "destinations": destinations, "after": sorted(after)}]

    def buckets(self) -> list:
        return [kind for kind in self.resources if kind.startswith("aws_s3_bucket")]

    def media_bucket(self) -> dict:
        resources = self.resources
        assert resources["aws_s3_bucket"]["media"] == {
            "bucket_prefix": "${local.function_name}-media-"
        }
        block = dict(resources["aws_s3_bucket_public_access_block"]["media"])
        assert block.pop("bucket") == "${aws_s3_bucket.media.id}"
        encryption = resources["aws_s3_bucket_server_side_encryption_configuration"]["media"]
        default = encryption["rule"]["apply_server_side_encryption_by_default"]
        assert encryption["rule"] == {"apply_server_side_encryption_by_default": default}
        rule = resources["aws_s3_bucket_lifecycle_configuration"]["media"]["rule"]
        assert set(rule["expiration"]) == {"days"}
        policy = json.loads(resources["aws_s3_bucket_policy"]["media"]["policy"])
        (statement,) = policy["Statement"]
        on = {"${aws_s3_bucket.media.arn}": "bucket", "${aws_s3_bucket.media.arn}/*": "objects"}
        return {
            "public_access_block": block,
            "ownership": resources["aws_s3_bucket_ownership_controls"]["media"]["rule"][
                "object_ownership"
            ],
            "encryption": {"SSEAlgorithm": default["sse_algorithm"]},
            "expires": (rule["status"], rule["expiration"]["days"]),
            "policy": {k: v for k, v in statement.items() if k != "Resource"},
            "policy_on": [on[arn] for arn in statement["Resource"]],
        }
