"""The two SQSs the in-memory SQS's tests hold side by side: moto's (a boto3 client under
mock_aws) and devtools.memory_aws.sqs.MemorySQS, each on a fake clock the test moves.

`both(scenario)` runs `scenario(sqs, clock)` on each and asserts that what it observed is
the same; a scenario observes only what is deterministic (bodies, counts, digests, codes),
never message ids or receipt handles. MemorySQS is made with moto's account and endpoint,
so that queue URLs and ARNs are the same on both sides.
"""

import contextlib
import json
from unittest import mock

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from devtools.memory_aws.sqs import MemorySQS
from tests.conftest import MOTO

ENDPOINT = "https://sqs.us-east-1.amazonaws.com"
ACCOUNT = "123456789012"
START = 1_750_000_000.0


class Clock:
    """Seconds since the epoch, moved by the test; `wait` is a long poll's wait that sleeps
    exactly as long as asked, at once, and notes how long that was."""

    def __init__(self, now: float = START):
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wait(self, condition, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return False


@contextlib.contextmanager
def moto_sqs(clock: Clock):
    import moto.sqs.models as models

    with (
        mock_aws(config=MOTO),
        mock.patch.object(models, "unix_time", lambda dt=None: clock()),
        mock.patch.object(models, "unix_time_millis", lambda dt=None: clock() * 1000),
    ):
        yield boto3.client("sqs", region_name="us-east-1")


def memory_sqs(clock: Clock | None = None) -> MemorySQS:
    clock = clock or Clock()
    return MemorySQS(ENDPOINT, account=ACCOUNT, clock=clock, waiting=clock.wait)


def both(scenario):
    """What `scenario(sqs, clock)` observed, the same on moto's SQS and on MemorySQS."""
    clock = Clock()
    with moto_sqs(clock) as sqs:
        theirs = scenario(sqs, clock)
    clock = Clock()
    ours = scenario(memory_sqs(clock), clock)
    assert ours == theirs, f"MemorySQS: {ours!r}\nmoto: {theirs!r}"
    return ours


def outcome(call, *args, **kwargs):
    """ "ok", or the error as botocore presents it: (Code, QueryErrorCode, Type, status)."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        found = error.response["Error"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return found["Code"], found.get("QueryErrorCode"), found.get("Type"), status
    return "ok"


def received(answer: dict) -> list[dict]:
    """A ReceiveMessage answer's messages without their ids and receipt handles, and
    without their SenderId's value (moto's is a made-up IAM user's, ours the account)."""
    found = []
    for message in answer.get("Messages", []):
        message = {k: v for k, v in message.items() if k not in ("MessageId", "ReceiptHandle")}
        if "SenderId" in message.get("Attributes", {}):
            message["Attributes"] = {**message["Attributes"], "SenderId": "someone"}
        found.append(message)
    return found


def bodies(answer: dict) -> list[str]:
    return [message["Body"] for message in answer.get("Messages", [])]


def counts(sqs, url: str) -> tuple[int, int, int]:
    """(visible, in flight, delayed)."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return tuple(int(found[name]) for name in names)


def queue(sqs, name: str, **attributes) -> str:
    settings = {
        key: json.dumps(value) if isinstance(value, dict) else str(value)
        for key, value in attributes.items()
    }
    return sqs.create_queue(QueueName=name, Attributes=settings)["QueueUrl"]


def arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
