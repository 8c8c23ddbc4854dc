"""The delivery pipeline end to end on an embedded AWS (moto's DynamoDB with its stream, SQS
and KMS): statuses, signed callbacks, the sandbox's outcomes, and the guarantees."""

import pytest
from twilio.request_validator import RequestValidator

from chalicelib import messages
from tests.conftest import body
from tests.pipeline import FROM, SANDBOX_OUTCOMES, TO, create, fetched, receiver

# The guarantees hold on make run's in-memory AWS (devtools/memory_aws) as on moto's.
ENGINES = ["moto", "memory"]


def test_a_message_is_sent_and_delivered_with_signed_callbacks(line, api, account):
    with receiver() as hook:
        created = create(api, StatusCallback=hook.url + "/status?x=1")
        assert created["status"] == "queued" and created["date_sent"] is None
        line.drain()
        message = fetched(api, created["sid"])
        assert message["status"] == "delivered"
        assert message["date_sent"] is not None and message["error_code"] is None
        assert line.handoffs[created["sid"]] == 1
        statuses = [r.form["MessageStatus"] for r in hook.requests]
        assert sorted(statuses) == ["delivered", "sending", "sent"]
        validator = RequestValidator(account["auth_token"])
        for request in hook.requests:
            url = hook.url + request.path
            assert validator.validate(url, request.form, request.headers["X-Twilio-Signature"])
            assert request.form["MessageSid"] == request.form["SmsSid"] == created["sid"]
            assert request.form["AccountSid"] == account["account_sid"]
            assert request.form["To"] == TO and request.form["From"] == FROM
            assert request.form["ApiVersion"] == "2010-04-01"
        delivered = next(r for r in hook.requests if r.form["MessageStatus"] == "delivered")
        assert len(delivered.form["RawDlrDoneDate"]) == 10
    stored = messages.fetch(account["account_sid"], created["sid"])
    assert [h["status"] for h in stored.history] == ["queued", "sending", "sent", "delivered"]


@pytest.mark.parametrize(("to", "status", "code"), SANDBOX_OUTCOMES)
def test_every_sandbox_outcome(line, api, to, status, code):
    created = create(api, To=to)
    line.drain()
    message = fetched(api, created["sid"])
    assert (message["status"], message["error_code"]) == (status, code)
    assert (message["error_message"] is None) == (code is None)
    # Handed over at most once, whatever the outcome.
    assert line.handoffs[created["sid"]] <= 1
    assert (message["date_sent"] is not None) == (line.handoffs[created["sid"]] == 1)


@pytest.mark.parametrize(
    ("field", "number", "code"),
    [
        ("To", "+15005550001", 21211),
        ("To", "+15005550002", 21612),
        ("To", "+15005550003", 21408),
        ("To", "+15005550004", 21610),
        ("To", "+15005550009", 21614),
        ("From", "+15005550001", 21212),
    ],
)
def test_twilio_test_numbers_answer_the_create(line, api, field, number, code):
    response = api.create(**{"To": TO, "From": FROM, "Body": "hi", field: number})
    assert response.status_code == 400 and body(response)["code"] == code
    line.drain()
    assert body(api.list())["messages"] == [] and not line.calls  # nothing stored or sent


def test_a_create_asks_the_carrier_through_the_port_and_never_skips_it(api, monkeypatch):
    """messages sits below carriers and asks the stage's carrier through a port that
    chalicelib.carriers wires in when it is imported: unwired, a create stops instead of
    storing a message the carrier would have refused."""
    from chalicelib.messages import carrier_port

    monkeypatch.setattr(carrier_port, "_refuse_at_create", None)
    with pytest.raises(RuntimeError, match="no carrier is wired"):
        messages.create(api.account_sid, {"To": ["+15005550001"], "From": [FROM], "Body": ["hi"]})
    assert body(api.list())["messages"] == []


def test_an_idempotent_replay_answers_the_current_state(line, api):
    headers = {"Idempotency-Key": "once"}
    params = {"To": TO, "From": FROM, "Body": "hello"}
    first = api.request("POST", api.base + "/Messages.json", params=params, headers=headers)
    assert body(first)["status"] == "queued"
    line.drain()
    again = api.request("POST", api.base + "/Messages.json", params=params, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert body(again)["sid"] == body(first)["sid"] and body(again)["status"] == "delivered"
    assert line.handoffs[body(first)["sid"]] == 1
