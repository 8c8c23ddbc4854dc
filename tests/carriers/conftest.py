"""Fixtures for the carrier tests: End User Messaging's client under botocore's Stubber (moto
has no pinpoint-sms-voice-v2), and the delivery pipeline on an embedded AWS server with an
SNS topic for carrier events subscribed to its receipt queue, as the templates deploy it."""

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.carriers import end_user_messaging as eum
from chalicelib.carriers import eum_request, eum_settings

EUM_VARIABLES = (
    eum_settings.ORIGINATION_VARIABLE,
    eum_settings.MESSAGE_TYPE_VARIABLE,
    eum_settings.CONFIGURATION_SET_VARIABLE,
)


def _stubbing(monkeypatch):
    monkeypatch.setenv("HERALD_CARRIER", "end-user-messaging")
    for variable in EUM_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    stubber = Stubber(eum.client())  # the container's client, made once for all the tests
    stubber.activate()
    yield stubber
    stubber.deactivate()


@pytest.fixture
def stubbed(aws, monkeypatch):
    """The stage on End User Messaging (no EUM settings), its client under a Stubber, which
    checks every request against botocore's service model and answers what a test queued;
    the accounts (and their senders) in a table on moto."""
    yield from _stubbing(monkeypatch)


@pytest.fixture
def stubber(monkeypatch):
    """As `stubbed`, for tests of the request and its answer alone: no table, and no
    account has senders."""
    monkeypatch.setattr(eum_request, "account_senders", lambda account_sid: {})
    yield from _stubbing(monkeypatch)


# --- the pipeline on an embedded AWS ------------------------------------------------------


def carrier_events_topic(aws_url: str, queue_url: str, raw: bool) -> str:
    """An SNS topic subscribed to the receipt queue (raw message delivery on or off): the
    configuration set's event destination. Its ARN."""
    sns = boto3.client("sns", endpoint_url=aws_url, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=aws_url, region_name="us-east-1")
    topic = sns.create_topic(Name="herald-carrier-events")["TopicArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true" if raw else "false"},
    )
    return topic
