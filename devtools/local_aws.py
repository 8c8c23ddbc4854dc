"""The AWS resources a local Herald needs, made on the embedded server: the table (with its
stream), the delivery queues, and the KMS key that encrypts AuthTokens for signing.

`provision()` returns the environment the app reads (queue URLs, key id); `make run` and the
tests that run the delivery pipeline call it once per server (or per test, after a reset).
"""

import functools
from pathlib import Path

from chalicelib.delivery import sources
from chalicelib.storage import boto

QUEUES = {
    "HERALD_SEND_QUEUE_URL": sources.SEND_QUEUE,
    "HERALD_CALLBACK_QUEUE_URL": sources.CALLBACK_QUEUE,
    "HERALD_RECEIPT_QUEUE_URL": sources.RECEIPT_QUEUE,
}
# Locally a claim's lease and a job's visibility timeout are short, so that a worker killed
# mid-step is noticed in seconds rather than minutes.
LOCAL_VISIBILITY_SECONDS = 30


def _client(service: str, endpoint: str | None, region: str):
    """A client of the embedded AWS; in make run's HTTP child, for DynamoDB's stream and SQS,
    the in-memory services' door (chalicelib/storage/boto.substitute)."""
    return boto.new_client(service, None, endpoint_url=endpoint, region_name=region)


@functools.cache
def _clients(endpoint: str, region: str):
    return tuple(
        _client(service, endpoint, region) for service in ("sqs", "kms", "dynamodbstreams")
    )


def provision(
    endpoint: str, region: str = "us-east-1", visibility_seconds: int = LOCAL_VISIBILITY_SECONDS
) -> dict:
    """Create the queues and the key (the table is storage.ensure_table's); their settings."""
    sqs, _, _ = _clients(endpoint, region)
    env = {}
    attributes = {"VisibilityTimeout": str(visibility_seconds)}
    for variable, name in QUEUES.items():
        # moto keeps its state per process: another server in this process (a test's) may
        # have made the queue already, with other attributes.
        try:
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except sqs.exceptions.QueueNameExists:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        env[variable] = url
    env["HERALD_KMS_KEY_ID"] = signing_key(endpoint, region)
    return env


def signing_key(endpoint: str | None, region: str = "us-east-1") -> str:
    """A new KMS key for AuthTokens (HERALD_KMS_KEY_ID) on the embedded AWS at `endpoint`,
    or on moto in this process (None, under mock_aws): no account is made without one."""
    _, kms, _ = _clients(endpoint, region)
    return kms.create_key(Description="Herald local AuthTokens")["KeyMetadata"]["KeyId"]


def stream_arn(endpoint: str, table: str, region: str = "us-east-1") -> str:
    dynamodb = _client("dynamodb", endpoint, region)
    return dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def event_sources(app, env: dict, checkpoint: Path | None = None, wait_seconds: float = 0) -> list:
    """The stream and queue sources that feed the Chalice `app`'s delivery handlers, with
    the endpoints and names in `env` (the app's own environment); with `wait_seconds`, each
    poll that finds nothing waits that long for work (make run), without it answers at once
    (the tests drain them step by step)."""
    from devtools.event_sources import QueueSource, StreamSource

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    dynamodb = env["DYNAMODB_ENDPOINT_URL"]
    sqs, _, _ = _clients(env["AWS_ENDPOINT_URL"], region)
    streams = _client("dynamodbstreams", dynamodb, region)
    handlers = app.handler_map
    from chalicelib.runtime import config

    arn = stream_arn(dynamodb, env.get("HERALD_TABLE_NAME") or config.DEFAULT_TABLE, region)
    wait = {"wait_seconds": wait_seconds}
    queues = (
        ("HERALD_SEND_QUEUE_URL", "sender"),
        ("HERALD_RECEIPT_QUEUE_URL", "receipts"),
        ("HERALD_CALLBACK_QUEUE_URL", "callbacks"),
    )
    dispatcher = handlers["dispatcher"]
    return [
        StreamSource(streams, arn, dispatcher, "dispatcher", checkpoint=checkpoint, **wait),
        *(QueueSource(sqs, env[url], handlers[name], name, **wait) for url, name in queues),
    ]
