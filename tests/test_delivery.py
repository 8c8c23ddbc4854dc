"""The delivery pipeline end to end on an embedded AWS (moto's DynamoDB with its stream, SQS
and KMS): statuses, signed callbacks, the sandbox's outcomes, and the guarantees."""

import pytest
from twilio.request_validator import RequestValidator

from chalicelib import messages
from devtools import services
from tests.conftest import Api, body
from tests.pipeline import pipeline_on, receiver

TO = "+14155550100"
FROM = "+15005550006"


@pytest.fixture(scope="module")
def endpoint():
    with services.embedded_aws() as url:
        yield url


@pytest.fixture
def line(endpoint, monkeypatch):
    with pipeline_on(endpoint, monkeypatch) as pipeline:
        yield pipeline


@pytest.fixture
def account(line):
    from chalicelib import admin

    return admin.create_account()


@pytest.fixture
def api(line, account):
    from chalice.test import Client

    with Client(line.app.app) as client:
        yield Api(client, account["account_sid"], account["auth_token"])


def create(api, **params) -> dict:
    response = api.create(**{"To": TO, "From": FROM, "Body": "hello", **params})
    assert response.status_code == 201, response.body
    return body(response)


def fetched(api, sid) -> dict:
    return body(api.fetch(sid))


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
