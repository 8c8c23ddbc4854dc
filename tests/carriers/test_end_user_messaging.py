"""The End User Messaging carrier's hand-off: every SendTextMessage request it makes, checked
by botocore's Stubber against the service model, and what each answer becomes.

moto does not implement pinpoint-sms-voice-v2, so nothing here reaches a server: the Stubber
answers, or a `before-send` hook plays the network (a timeout, a refused connection, a 500).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

import admin
from chalicelib import carriers
from chalicelib.accounts import credentials
from chalicelib.carriers import end_user_messaging as eum
from chalicelib.carriers import eum_request, eum_settings, events
from chalicelib.carriers.base import Accepted, Refused, Throttled, TimedOut
from chalicelib.messages.model import Message
from chalicelib.runtime import clock
from devtools import direct_aws

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "a" * 32
SID = "SM" + "b" * 32
SERVICE = "MG" + "c" * 32
TO = "+14254147755"
FROM = "+15005550006"
NUMBER_ARN = "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-1234"
CONTEXT = {events.CONTEXT_ACCOUNT: ACCOUNT, events.CONTEXT_SID: SID}


def message(**changes) -> Message:
    now = clock.now_ms()
    fields = {
        "account_sid": ACCOUNT,
        "sid": SID,
        "to": TO,
        "from_": FROM,
        "body": "hello",
        "status": "sending",
        "created_ms": now,
        "updated_ms": now,
        "attempts": 1,
    }
    return Message(**{**fields, **changes})


def expected(**changes) -> dict:
    """The request for message() on a stage without settings: exactly these parameters."""
    request = {
        "DestinationPhoneNumber": TO,
        "OriginationIdentity": FROM,
        "MessageBody": "hello",
        "MessageType": "TRANSACTIONAL",
        "Context": CONTEXT,
    }
    return {**request, **changes}


def send(msg: Message):
    return carriers.current().send(msg)


# --- the request -----------------------------------------------------------------------


def test_a_hand_off_sends_exactly_the_message(stubbed):
    stubbed.add_response("send_text_message", {"MessageId": "m-1"}, expected())
    assert send(message()) == Accepted("m-1")
    stubbed.assert_no_pending_responses()


def test_the_full_parameter_set(stubber, monkeypatch):
    monkeypatch.setenv(eum_settings.CONFIGURATION_SET_VARIABLE, "herald-prod")
    monkeypatch.setenv(eum_settings.MESSAGE_TYPE_VARIABLE, "promotional")
    msg = message(options={"ValidityPeriod": "600", "MaxPrice": "0.05"})
    request = expected(
        MessageType="PROMOTIONAL",
        ConfigurationSetName="herald-prod",
        TimeToLive=600,
        MaxPrice="0.05",
    )
    stubber.add_response("send_text_message", {"MessageId": "m-2"}, request)
    assert send(msg) == Accepted("m-2")


def test_context_carries_what_a_receipt_needs_to_find_the_message(stubbed):
    stubbed.add_response("send_text_message", {"MessageId": "m-3"}, expected())
    send(message())
    # What AWS echoes back in every event is what events.parse reads.
    receipt = events.parse({"eventType": "TEXT_DELIVERED", "messageId": "m-3", "context": CONTEXT})
    assert (receipt.account_sid, receipt.sid) == (ACCOUNT, SID)


@pytest.fixture
def account_with_senders(aws):
    """An account whose item has a default sender and one for SERVICE."""
    sid = admin.create_account()["account_sid"]
    admin.set_sender(sid, "pool-default")
    admin.set_sender(sid, "pool-service", messaging_service_sid=SERVICE)
    credentials.forget()
    return sid


@pytest.mark.parametrize(
    ("service", "stage_default", "identity"),
    [
        (SERVICE, "stage-pool", "pool-service"),  # the Messaging Service's sender first
        ("MG" + "d" * 32, "stage-pool", "pool-default"),  # then the account's default
        (None, "stage-pool", "pool-default"),
    ],
)
def test_origination_from_the_account(
    stubbed, monkeypatch, account_with_senders, service, stage_default, identity
):
    monkeypatch.setenv(eum_settings.ORIGINATION_VARIABLE, stage_default)
    # A service message whose From Herald has not chosen (one made before services were).
    msg = message(account_sid=account_with_senders, messaging_service_sid=service, from_=None)
    context = {events.CONTEXT_ACCOUNT: account_with_senders, events.CONTEXT_SID: SID}
    request = expected(OriginationIdentity=identity, Context=context)
    stubbed.add_response("send_text_message", {"MessageId": "m"}, request)
    assert send(msg) == Accepted("m")


def test_a_service_message_goes_from_the_number_herald_chose(
    stubbed, monkeypatch, account_with_senders
):
    # The account's sender for the service, or the stage's, would make the recorded From a
    # lie: the number chosen from the service's pool is the OriginationIdentity.
    monkeypatch.setenv(eum_settings.ORIGINATION_VARIABLE, "stage-pool")
    msg = message(account_sid=account_with_senders, messaging_service_sid=SERVICE)
    context = {events.CONTEXT_ACCOUNT: account_with_senders, events.CONTEXT_SID: SID}
    request = expected(OriginationIdentity=FROM, Context=context)
    stubbed.add_response("send_text_message", {"MessageId": "m"}, request)
    assert send(msg) == Accepted("m")


def test_origination_without_account_senders_is_the_stage_default_then_from(
    stubbed, monkeypatch, aws
):
    sid = admin.create_account()["account_sid"]
    context = {events.CONTEXT_ACCOUNT: sid, events.CONTEXT_SID: SID}
    monkeypatch.setenv(eum_settings.ORIGINATION_VARIABLE, NUMBER_ARN)
    stubbed.add_response(
        "send_text_message",
        {"MessageId": "a"},
        expected(OriginationIdentity=NUMBER_ARN, Context=context),
    )
    assert send(message(account_sid=sid)) == Accepted("a")
    monkeypatch.delenv(eum_settings.ORIGINATION_VARIABLE)
    stubbed.add_response("send_text_message", {"MessageId": "b"}, expected(Context=context))
    assert send(message(account_sid=sid)) == Accepted("b")


def test_no_origination_at_all_is_refused_without_a_request(stubbed, aws):
    sid = admin.create_account()["account_sid"]
    outcome = send(message(account_sid=sid, from_=None, messaging_service_sid=SERVICE))
    assert isinstance(outcome, Refused) and outcome.error_code == 21704
    outcome = send(message(account_sid=sid, from_=None))
    assert isinstance(outcome, Refused) and outcome.error_code == 21606
    stubbed.assert_no_pending_responses()


def test_senders_that_cannot_be_read_mean_try_later(stubbed, monkeypatch):
    def unavailable(account_sid):
        raise RuntimeError("DynamoDB is unavailable")

    monkeypatch.setattr(credentials, "account", unavailable)
    assert isinstance(send(message()), Throttled)  # nothing was handed over


def test_more_than_one_media_is_refused_without_a_request(stubber):
    # End User Messaging carries one media file per MMS (tests/carriers/test_mms.py).
    outcome = send(message(media_urls=["https://example.com/a.png", "https://example.com/b.png"]))
    assert isinstance(outcome, Refused) and outcome.error_code == 21623


@pytest.mark.parametrize(
    ("validity", "elapsed_s", "ttl"),
    [
        ("600", 0, 600),
        ("600", 100, 500),  # what is left of it when the worker hands it over
        ("600", 598, 5),  # EUM's minimum
        ("1", 0, 5),
        ("36000", 0, 36000),  # Twilio's maximum fits EUM's 259200
    ],
)
def test_time_to_live_is_what_is_left_of_the_validity_period(
    stubber, monkeypatch, validity, elapsed_s, ttl
):
    now = clock.now_ms()
    monkeypatch.setattr(clock, "now_ms", lambda: now)
    msg = message(created_ms=now - elapsed_s * 1000, options={"ValidityPeriod": validity})
    stubber.add_response("send_text_message", {"MessageId": "m"}, expected(TimeToLive=ttl))
    assert send(msg) == Accepted("m")


def test_time_to_live_counts_a_scheduled_message_from_send_at():
    now = clock.now_ms()
    msg = message(
        created_ms=now - 3_600_000, send_at_ms=now - 10_000, options={"ValidityPeriod": "60"}
    )
    assert eum_request.time_to_live(msg, now) == 50
    assert eum_request.time_to_live(message(), now) is None


@pytest.mark.parametrize(
    ("seconds", "clamped"), [(-30, 5), (0, 5), (5, 5), (259_200, 259_200), (10**6, 259_200)]
)
def test_time_to_live_is_clamped_to_what_eum_accepts(seconds, clamped):
    assert eum_request.clamp_ttl(seconds) == clamped


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("0.05", "0.05"),
        ("1", "1.0"),
        ("0.0079", "0.0079"),
        ("0.123456789", "0.12345"),  # rounded down: a cap is never raised
        ("250", "99.99999"),
        ("1e-7", "0.0"),
        ("0", None),
        ("-1", None),
        ("nan", None),
        (None, None),
    ],
)
def test_max_price_is_passed_in_the_form_eum_takes(stubber, given, sent):
    assert eum_request.max_price(given) == sent
    if sent is not None:
        shape = eum.client().meta.service_model.operation_model("SendTextMessage").input_shape
        pattern = shape.members["MaxPrice"].metadata["pattern"]
        assert re.fullmatch(pattern, sent)
    options = {"MaxPrice": given} if given is not None else {}
    request = expected(MaxPrice=sent) if sent is not None else expected()
    stubber.add_response("send_text_message", {"MessageId": "m"}, request)
    assert send(message(options=options)) == Accepted("m")


# --- what an answer means --------------------------------------------------------------

COUNTRY_BLOCKED = "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_"
NUMBER_BLOCKED = "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_"
QUOTA, CONFLICT, INVALID, MISSING, DENIED = (
    "ServiceQuotaExceededException",
    "ConflictException",
    "ValidationException",
    "ResourceNotFoundException",
    "AccessDeniedException",
)


def because(reason: str, **more) -> dict:
    return {"Reason": reason, **more}


def field(name: str) -> list[dict]:
    return [{"Name": name, "Message": "invalid"}]


ERRORS = [
    # (exception, its modeled fields, HTTP status, outcome, Twilio code)
    ("ThrottlingException", {}, 400, Throttled, None),
    (QUOTA, because("MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"), 402, Throttled, None),
    (CONFLICT, because("DESTINATION_PHONE_NUMBER_OPTED_OUT", ResourceId=TO), 409, Refused, 21610),
    (CONFLICT, because("DESTINATION_PHONE_NUMBER_NOT_VERIFIED"), 409, Refused, 21608),
    (CONFLICT, because("NO_ORIGINATION_IDENTITIES_FOUND"), 409, Refused, 21606),
    (CONFLICT, because("RESOURCE_NOT_ACTIVE", ResourceType="phone-number"), 409, Refused, 21606),
    (CONFLICT, because("NUMBER_CAPABILITIES_MISMATCH"), 409, Refused, 21606),
    (CONFLICT, because("MESSAGE_TYPE_MISMATCH"), 409, Refused, 21606),
    (CONFLICT, because(f"{COUNTRY_BLOCKED}CONFIGURATION"), 409, Refused, 21408),
    (CONFLICT, because(f"{NUMBER_BLOCKED}NUMBER_OVERRIDE"), 409, Refused, 30004),
    (CONFLICT, because("RESOURCE_ALREADY_EXISTS"), 409, Refused, 30008),
    (INVALID, because("DESTINATION_COUNTRY_BLOCKED"), 400, Refused, 21408),
    (INVALID, because("COUNTRY_NOT_ENABLED"), 400, Refused, 21408),
    (INVALID, because("INTERNATIONAL_SENDING_NOT_SUPPORTED"), 400, Refused, 21408),
    (INVALID, because("INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"), 400, Refused, 21606),
    (INVALID, because("SENDER_ID_NOT_REGISTERED"), 400, Refused, 21606),
    (INVALID, because("PRICE_OVER_THRESHOLD"), 400, Refused, 30010),
    (INVALID, because("CANNOT_PARSE", Fields=field("DestinationPhoneNumber")), 400, Refused, 21211),
    (INVALID, because("INVALID_ARN", Fields=field("OriginationIdentity")), 400, Refused, 21212),
    (INVALID, because("CANNOT_PARSE"), 400, Refused, 30008),
    (MISSING, {"ResourceType": "phone-number", "ResourceId": FROM}, 404, Refused, 21606),
    (MISSING, {"ResourceType": "pool", "ResourceId": "pool-x"}, 404, Refused, 21606),
    (MISSING, {"ResourceType": "sender-id", "ResourceId": "HERALD"}, 404, Refused, 21606),
    (MISSING, {"ResourceType": "configuration-set", "ResourceId": "cs"}, 404, Refused, 30008),
    (DENIED, {}, 403, Refused, 20003),
    (DENIED, because("ACCOUNT_DISABLED"), 403, Refused, 30002),
    (DENIED, because("INSUFFICIENT_ACCOUNT_REPUTATION"), 403, Refused, 30002),
    ("InternalServerException", {"RequestId": "r-1"}, 500, TimedOut, None),
    ("ServiceUnavailable", {}, 503, TimedOut, None),
    ("UnrecognizedClientException", {}, 403, Refused, 20003),
]  # fmt: skip


@pytest.mark.parametrize(("code", "fields", "status", "kind", "twilio"), ERRORS)
def test_every_error_becomes_its_outcome(stubber, code, fields, status, kind, twilio):
    stubber.add_client_error(
        "send_text_message",
        service_error_code=code,
        service_message="refused",
        http_status_code=status,
        expected_params=expected(),
        modeled_fields=fields or None,
    )
    outcome = send(message())
    assert isinstance(outcome, kind), outcome
    if kind is Refused:
        assert outcome.error_code == twilio
        assert f"End User Messaging: {code}" in outcome.error_message
    stubber.assert_no_pending_responses()


# --- the network, and the rule that a request is never sent twice ---------------------


@pytest.fixture
def network(monkeypatch):
    """Play the network under a fresh client: `network.answer` (a status and a body, or an
    exception to raise) for every attempt; `network.attempts` counts them."""
    monkeypatch.setenv("HERALD_CARRIER", "end-user-messaging")
    monkeypatch.setattr(eum_request, "account_senders", lambda account_sid: {})
    eum.reset()

    class Network:
        attempts = 0
        answer: object = None

        def send(self, request, **_):
            self.attempts += 1
            if isinstance(self.answer, Exception):
                raise self.answer
            status, body = self.answer
            return direct_aws.botocore_answer(request.url, status, {}, body)

    played = Network()
    eum.client().meta.events.register(
        "before-send.pinpoint-sms-voice-v2.SendTextMessage", played.send
    )
    yield played
    eum.reset()


def test_the_client_never_retries_and_times_out_soon():
    eum.reset()
    made = eum.client().meta.config
    assert made.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (made.connect_timeout, made.read_timeout) == (2, 10)
    eum.reset()


URL = "https://sms-voice.us-east-1.amazonaws.com/"
NETWORK = [
    # Nothing left the machine: safe to try again through the queue.
    (EndpointConnectionError(endpoint_url=URL), Throttled),
    (ConnectTimeoutError(endpoint_url=URL), Throttled),
    # The request may have reached AWS: the message fails 30410, never sent again.
    (ReadTimeoutError(endpoint_url=URL), TimedOut),
    (ConnectionClosedError(endpoint_url=URL), TimedOut),
    ((500, b'{"__type": "InternalServerException", "Message": "oops"}'), TimedOut),
    ((503, b""), TimedOut),
    # Retried by botocore by default; here they come back at once, as what they are.
    ((400, b'{"__type": "ThrottlingException", "Message": "slow down"}'), Throttled),
]


NETWORK_IDS = [
    "refused",
    "connect-timeout",
    "read-timeout",
    "closed",
    "500",
    "503",
    "throttled",
]


@pytest.mark.parametrize(("answer", "kind"), NETWORK, ids=NETWORK_IDS)
def test_a_request_goes_out_once_whatever_happens(network, answer, kind):
    network.answer = answer
    outcome = send(message())
    assert isinstance(outcome, kind), outcome
    assert network.attempts == 1


def test_an_answer_from_the_network_is_accepted_once(network):
    network.answer = (200, b'{"MessageId": "net-1"}')
    assert send(message()) == Accepted("net-1") and network.attempts == 1


# --- the carrier and its settings ------------------------------------------------------


def test_the_carrier_answers_no_create_itself(stubber):
    carrier = carriers.current()
    assert carrier.name == "end-user-messaging"
    assert carrier.refuse_at_create("+15005550001", "+15005550001") is None
    assert carriers.current() is carrier  # one per container


def test_the_stage_switches_carriers_by_configuration_alone(monkeypatch):
    monkeypatch.setenv("HERALD_CARRIER", "sandbox")
    assert carriers.current().name == "sandbox" and carriers.check() == "sandbox"
    monkeypatch.setenv("HERALD_CARRIER", "end-user-messaging")
    assert carriers.current().name == "end-user-messaging"
    assert carriers.check() == "end-user-messaging"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HERALD_CARRIER", "eum", "HERALD_CARRIER"),
        (eum_settings.MESSAGE_TYPE_VARIABLE, "bulk", eum_settings.MESSAGE_TYPE_VARIABLE),
        (eum_settings.ORIGINATION_VARIABLE, "my number", eum_settings.ORIGINATION_VARIABLE),
        (eum_settings.CONFIGURATION_SET_VARIABLE, "a b", eum_settings.CONFIGURATION_SET_VARIABLE),
    ],
)
def test_a_wrong_setting_is_named_at_cold_start(monkeypatch, variable, value, named):
    env = {"HERALD_CARRIER": "end-user-messaging", variable: value, "PATH": "/usr/bin:/bin"}
    with monkeypatch.context() as patch:
        for name, setting in env.items():
            patch.setenv(name, setting)
        with pytest.raises(ValueError, match=named):
            carriers.check()
    # A fresh process, as a Lambda cold start: importing the app stops there.
    result = subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=ROOT,
        env={**env, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"ValueError: {named}" in result.stderr
