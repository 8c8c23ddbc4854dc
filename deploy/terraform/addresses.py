"""The addresses of what Herald's Terraform configuration holds (Chalice's and those
deploy/terraform adds), the names it gives the functions, and references to attributes."""

from deploy import shared

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


def function_name(name: str) -> str:
    """herald-<stage> for the API, herald-<stage>-<name> for the others (Chalice's names)."""
    suffix = "" if name == shared.API_FUNCTION else f"-{name}"
    return "${local.function_name}" + suffix


def ref(address: str, attribute: str) -> str:
    return "${" + f"{address}.{attribute}" + "}"


def add(resources: dict, address: str, body: dict) -> None:
    kind, name = address.split(".")
    resources.setdefault(kind, {})[name] = body


ACCOUNT_ID = ref(ACCOUNT, "account_id")
ACCOUNT_ROOT = "arn:" + ref(PARTITION, "partition") + ":iam::" + ACCOUNT_ID + ":root"
# Any region: the configuration has no region of its own (var.region may be empty).
SMS_VOICE = "arn:" + ref(PARTITION, "partition") + ":sms-voice:*:" + ACCOUNT_ID + ":"
