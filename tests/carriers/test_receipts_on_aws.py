"""End User Messaging end to end on an embedded AWS: the worker hands the message over through
the (stubbed) SendTextMessage, and AWS's delivery events, published to an SNS topic
subscribed to the receipt queue as the templates deploy it, move it to its final status.

The events are shaped exactly as AWS documents them (AWS_SMS_EVENT below); only the fields
that differ per message and per event are replaced.
"""

import copy
import json

import boto3
import pytest

from chalicelib import messages
from chalicelib.carriers import eum_settings, events
from chalicelib.runtime import clock
from tests.carriers.conftest import _stubbing, carrier_events_topic
from tests.pipeline import FROM, TO, create, fetched

# "SMS example log", AWS End User Messaging SMS User Guide (configuration-sets-event-format,
# https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html),
# as published: the event JSON an SNS event destination delivers as the notification's Message.
AWS_SMS_EVENT = {
    "eventType": "TEXT_SUCCESSFUL",
    "eventVersion": "1.0",
    "eventTimestamp": 1686975103470,
    "isFinal": True,
    "originationPhoneNumber": "+12065550152",
    "destinationPhoneNumber": "+14255550156",
    "isInternationalSend": False,
    "mcc": "310",
    "mnc": "800",
    "messageId": "862a8790-60c0-4430-9b2b-658bdexample",
    "messageRequestTimestamp": 1686975103170,
    "messageEncoding": "GSM",
    "messageType": "PROMOTIONAL",
    "messageStatus": "SUCCESSFUL",
    "messageStatusDescription": "Message has been accepted by phone carrier",
    "context": {"account": "bar"},
    "totalMessageParts": 1,
    "totalMessagePrice": 0.09582,
    "totalCarrierFee": 0.0,
}
CONFIGURATION_SET = "herald-test"
PRICE = 0.00581


def aws_event(event_type: str, stored, at_ms: int, price: float = PRICE) -> dict:
    """AWS's example event, for `stored` (a chalicelib.messages Message) at `at_ms`."""
    event = copy.deepcopy(AWS_SMS_EVENT)
    event.update(
        eventType=event_type,
        eventTimestamp=at_ms,
        isFinal=event_type not in ("TEXT_QUEUED", "TEXT_PENDING"),
        originationPhoneNumber=stored.from_,
        destinationPhoneNumber=stored.to,
        messageId=stored.carrier_id,
        messageRequestTimestamp=stored.sent_ms,
        messageType="TRANSACTIONAL",
        messageStatus=event_type.removeprefix("TEXT_"),
        messageStatusDescription=f"{event_type} (test)",
        context={events.CONTEXT_ACCOUNT: stored.account_sid, events.CONTEXT_SID: stored.sid},
        totalMessagePrice=price,
    )
    return event


class Aws:
    """The stage on End User Messaging: its stubbed client, and its carrier events topic."""

    def __init__(self, line, stubber, topic: str):
        self.line, self.stubber, self.topic = line, stubber, topic
        self.sns = boto3.client("sns", endpoint_url=line.endpoint, region_name="us-east-1")

    def publish(self, event: dict) -> None:
        self.sns.publish(TopicArn=self.topic, Message=json.dumps(event))

    def accepts(self, message_id: str, expected: dict | None = None) -> None:
        self.stubber.add_response("send_text_message", {"MessageId": message_id}, expected)


@pytest.fixture
def raw() -> bool:
    """The subscription's raw message delivery: on, as the templates deploy it."""
    return True


@pytest.fixture
def on_aws(line, monkeypatch, raw):
    stubbing = _stubbing(monkeypatch)
    stubber = next(stubbing)
    monkeypatch.setenv(eum_settings.CONFIGURATION_SET_VARIABLE, CONFIGURATION_SET)
    topic = carrier_events_topic(line.endpoint, line.env["HERALD_RECEIPT_QUEUE_URL"], raw)
    yield Aws(line, stubber, topic)
    stubber.assert_no_pending_responses()
    next(stubbing, None)


def handed_over(account_sid: str, sid: str):
    stored = messages.fetch(account_sid, sid)
    assert stored.status == "sent" and stored.carrier_id, stored
    return stored


# events.parse reads both: the event itself, or SNS's envelope around it.
@pytest.mark.parametrize("raw", [True, False], ids=["raw-delivery", "sns-envelope"])
def test_a_text_is_handed_over_and_its_events_deliver_it(on_aws, api, account):
    created = create(api)
    request = {
        "DestinationPhoneNumber": TO,
        "OriginationIdentity": FROM,
        "MessageBody": "hello",
        "MessageType": "TRANSACTIONAL",
        "ConfigurationSetName": CONFIGURATION_SET,
        "Context": {
            events.CONTEXT_ACCOUNT: account["account_sid"],
            events.CONTEXT_SID: created["sid"],
        },
    }
    on_aws.accepts("eum-1", request)
    on_aws.line.drain()
    stored = handed_over(account["account_sid"], created["sid"])
    assert stored.carrier_id == "eum-1"
    assert fetched(api, created["sid"])["date_sent"] is not None
    now = clock.now_ms()
    on_aws.publish(aws_event("TEXT_SUCCESSFUL", stored, now))
    on_aws.publish(aws_event("TEXT_DELIVERED", stored, now + 1000))
    on_aws.line.drain()
    message = fetched(api, created["sid"])
    assert (message["status"], message["error_code"]) == ("delivered", None)
    assert message["price"] == f"{-PRICE:.5f}" and message["price_unit"] == "USD"
    stored = messages.fetch(account["account_sid"], created["sid"])
    assert [h["status"] for h in stored.history] == ["queued", "sending", "sent", "delivered"]


def test_duplicate_and_older_events_change_nothing(on_aws, api, account):
    created = create(api)
    on_aws.accepts("eum-2")
    on_aws.line.drain()
    stored = handed_over(account["account_sid"], created["sid"])
    now = clock.now_ms()
    on_aws.publish(aws_event("TEXT_DELIVERED", stored, now))
    on_aws.line.drain()
    before = messages.fetch(account["account_sid"], created["sid"])
    assert before.status == "delivered"
    for event_type in ("TEXT_DELIVERED", "TEXT_SUCCESSFUL", "TEXT_PENDING", "TEXT_UNKNOWN"):
        on_aws.publish(aws_event(event_type, stored, now - 5000, price=1.0))
    on_aws.publish(aws_event("TEXT_DELIVERED", stored, now))
    on_aws.line.drain()
    after = messages.fetch(account["account_sid"], created["sid"])
    assert after == before  # status, price, history, date_updated: all as they were


@pytest.mark.parametrize(("event_type", "mapped"), sorted(events.EVENT_STATUSES.items()))
def test_every_event_type_reaches_its_status(on_aws, api, account, event_type, mapped):
    status, code = mapped
    created = create(api)
    on_aws.accepts(f"eum-{event_type}")
    on_aws.line.drain()
    stored = handed_over(account["account_sid"], created["sid"])
    on_aws.publish(aws_event(event_type, stored, clock.now_ms()))
    on_aws.line.drain()
    message = fetched(api, created["sid"])
    assert (message["status"], message["error_code"]) == ((status or "sent"), code)
    # A final event that never comes: AWS emits TEXT_UNKNOWN after 72 hours.
    if event_type == "TEXT_UNKNOWN":
        assert (message["status"], message["error_code"]) == ("undelivered", 30008)


def test_a_refused_hand_off_fails_the_message_and_no_event_revives_it(on_aws, api, account):
    created = create(api)
    on_aws.stubber.add_client_error(
        "send_text_message",
        service_error_code="ConflictException",
        http_status_code=409,
        modeled_fields={"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT"},
    )
    on_aws.line.drain()
    message = fetched(api, created["sid"])
    assert (message["status"], message["error_code"]) == ("failed", 21610)
    assert message["date_sent"] is None


def test_events_that_are_not_herald_s_are_dropped(on_aws, api, account):
    on_aws.line.drain()  # what creating the account put on the table's stream
    foreign = copy.deepcopy(AWS_SMS_EVENT)  # AWS's own example: its context is not Herald's
    on_aws.publish(foreign)
    on_aws.publish({**foreign, "context": {}})
    assert on_aws.line.drain() == 2
    receipts = on_aws.line.source("receipts")
    assert receipts.poll() == 0  # consumed, not handed back
