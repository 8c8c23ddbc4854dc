"""The AWS resources a local Herald needs, made on the embedded server: the table (with its
stream), the delivery queues, and the KMS key that encrypts AuthTokens for signing.

`provision()` returns the environment the app reads (queue URLs, key id); `make run` and the
tests that run the delivery pipeline call it once per server (or per test, after a reset).
"""

import functools

import boto3

from chalicelib.delivery import sources

QUEUES = {
    "HERALD_SEND_QUEUE_URL": sources.SEND_QUEUE,
    "HERALD_CALLBACK_QUEUE_URL": sources.CALLBACK_QUEUE,
    "HERALD_RECEIPT_QUEUE_URL": sources.RECEIPT_QUEUE,
}
# Locally a claim's lease and a job's visibility timeout are short, so that a worker killed
# mid-step is noticed in seconds rather than minutes.
LOCAL_VISIBILITY_SECONDS = 30


@functools.cache
def _clients(endpoint: str, region: str):
    make = functools.partial(boto3.client, endpoint_url=endpoint, region_name=region)
    return make("sqs"), make("kms"), make("dynamodbstreams")


def provision(
    endpoint: str, region: str = "us-east-1", visibility_seconds: int = LOCAL_VISIBILITY_SECONDS
) -> dict:
    """Create the queues and the key (the table is storage.ensure_table's); their settings."""
    sqs, kms, _ = _clients(endpoint, region)
    env = {}
    for variable, name in QUEUES.items():
        env[variable] = sqs.create_queue(
            QueueName=name, Attributes={"VisibilityTimeout": str(visibility_seconds)}
        )["QueueUrl"]
    env["HERALD_KMS_KEY_ID"] = kms.create_key(Description="Herald local AuthTokens")["KeyMetadata"][
        "KeyId"
    ]
    return env


def stream_arn(endpoint: str, table: str, region: str = "us-east-1") -> str:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    return dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def event_sources(app_module, endpoint: str, env: dict, table: str, region: str = "us-east-1"):
    """The stream and queue sources that feed `app_module`'s handlers."""
    from devtools.event_sources import QueueSource, StreamSource

    sqs, _, streams = _clients(endpoint, region)
    return [
        StreamSource(
            streams, stream_arn(endpoint, table, region), app_module.dispatcher, "dispatcher"
        ),
        QueueSource(sqs, env["HERALD_SEND_QUEUE_URL"], app_module.sender, "sender"),
        QueueSource(sqs, env["HERALD_RECEIPT_QUEUE_URL"], app_module.receipt_handler, "receipts"),
        QueueSource(sqs, env["HERALD_CALLBACK_QUEUE_URL"], app_module.callback_sender, "callbacks"),
    ]
