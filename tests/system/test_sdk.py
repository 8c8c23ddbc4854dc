"""The official twilio-python SDK as a real consumer of a real `chalice local` process.

The fixture starts an embedded DynamoDB (moto's server) and `chalice local` on free
127.0.0.1 ports, and stops both when the module's tests are done.
"""

import os
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

import admin
from tests.conftest import live_herald
from tests.pipeline import SANDBOX_OUTCOMES
from tests.system.sdk import client_for

pytestmark = pytest.mark.server

TO = "+14155550100"
FROM = "+15005550006"


@pytest.fixture(scope="module")
def herald():
    """(base_url, account) for a live server; everything it starts is stopped after."""
    # No backoff between throttled attempts, so the always-throttled number fails in time.
    with live_herald(HERALD_RETRY_BASE_SECONDS="0") as (url, account):
        yield url, account, admin.create_key(account["account_sid"])


@pytest.fixture(scope="module")
def client(herald):
    url, account, _ = herald
    return client_for(url, account["account_sid"], account["auth_token"])


def test_a_client_ignores_twilio_edge_and_region_and_leaves_them_set(herald, monkeypatch):
    url, account, _ = herald
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    client = client_for(url, account["account_sid"], account["auth_token"])
    assert isinstance(client.messages.list(limit=1), list)  # answered by the Herald at url
    assert (os.environ["TWILIO_EDGE"], os.environ["TWILIO_REGION"]) == ("sydney", "au1")


FINAL = {"delivered", "undelivered", "failed", "canceled"}


def settled(client, sid: str, statuses=FINAL, timeout: float = 15.0):
    """The message once the live server's delivery pipeline has brought it to `statuses`."""
    deadline = time.monotonic() + timeout
    while True:
        message = client.messages(sid).fetch()
        if message.status in statuses or time.monotonic() > deadline:
            return message
        time.sleep(0.05)


def test_create_fetch_redact_delete(client):
    message = client.messages.create(to=TO, from_=FROM, body="Hello from the SDK")
    assert message.sid.startswith("SM")
    assert message.status == "queued"
    assert message.body == "Hello from the SDK"
    assert message.num_segments == "1"
    assert isinstance(message.date_created, datetime)
    assert message.date_sent is None  # until a carrier takes it

    fetched = settled(client, message.sid)
    assert fetched.sid == message.sid and fetched.to == TO
    assert fetched.status == "delivered" and fetched.date_sent >= message.date_created

    redacted = client.messages(message.sid).update(body="")
    assert redacted.body == ""
    assert client.messages(message.sid).delete() is True
    with pytest.raises(TwilioRestException) as missing:
        client.messages(message.sid).fetch()
    assert missing.value.status == 404 and missing.value.code == 20404


def test_list_and_stream_follow_pages_with_date_filters(client):
    sent = {
        client.messages.create(to="+14155550123", from_=FROM, body=f"m{i}").sid for i in range(7)
    }
    # DateSent filters match what has been sent: page through once they have been.
    for sid in sent:
        assert settled(client, sid).status == "delivered"
    listed = client.messages.list(to="+14155550123", page_size=3)
    assert {m.sid for m in listed} == sent and len(listed) == 7
    streamed = list(client.messages.stream(to="+14155550123", page_size=2, limit=5))
    assert len(streamed) == 5
    today = datetime.now(UTC).date()
    dated = client.messages.list(
        to="+14155550123", date_sent_after=today, date_sent_before=today + timedelta(days=1)
    )
    assert {m.sid for m in dated} == sent
    on_day = client.messages.list(to="+14155550123", date_sent=today, page_size=2)
    assert {m.sid for m in on_day} == sent
    assert client.messages.list(to="+14155550123", date_sent=date(2001, 1, 1)) == []
    first_page = client.messages.page(to="+14155550123", page_size=3)
    second_page = first_page.next_page()
    first, second = [m.sid for m in first_page], [m.sid for m in second_page]
    assert len(first) == len(second) == 3
    assert set(first).isdisjoint(second)


def test_a_burst_lists_whole_without_waiting_while_it_is_delivered(client):
    to = "+14155550124"
    made = [client.messages.create(to=to, from_=FROM, body=f"burst {i}").sid for i in range(12)]
    newest_first = made[::-1]
    # At once, while the pipeline claims, sends and delivers them: each exactly once, in
    # the order they were made (lists never reorder as messages are sent).
    assert [m.sid for m in client.messages.list(to=to, page_size=3)] == newest_first
    assert [m.sid for m in client.messages.stream(to=to, from_=FROM, page_size=2)] == newest_first
    assert [m.sid for m in client.messages.list(to=to, page_size=5, limit=12)] == newest_first


def test_schedule_and_cancel(client):
    send_at = datetime.now(UTC) + timedelta(hours=1)
    message = client.messages.create(
        to=TO, from_=FROM, body="later", schedule_type="fixed", send_at=send_at
    )
    assert message.status == "scheduled" and message.date_sent is None
    canceled = client.messages(message.sid).update(status="canceled")
    assert canceled.status == "canceled"


def test_media_message(client):
    message = client.messages.create(to=TO, from_=FROM, media_url=["https://example.com/a.png"])
    assert message.sid.startswith("MM") and message.num_media == "1"


def test_api_key_authentication(herald):
    url, account, key = herald
    client = client_for(url, key["sid"], key["secret"], account_sid=account["account_sid"])
    message = client.messages.create(to=TO, from_=FROM, body="via API key")
    assert client.messages(message.sid).fetch().body == "via API key"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"to": "nonsense", "from_": FROM, "body": "x"}, 400, 21211),
        ({"to": TO, "from_": "+1", "body": "x"}, 400, 21212),
        ({"to": TO, "from_": FROM}, 400, 21602),
        ({"to": TO, "from_": FROM, "body": "x" * 1601}, 400, 21617),
    ],
)
def test_bad_input_raises_twilio_rest_exception(client, kwargs, status, code):
    with pytest.raises(TwilioRestException) as error:
        client.messages.create(**kwargs)
    assert error.value.status == status and error.value.code == code


def test_wrong_credentials_raise_20003(herald):
    url, account, _ = herald
    client = client_for(url, account["account_sid"], "0" * 32)
    with pytest.raises(TwilioRestException) as error:
        client.messages.create(to=TO, from_=FROM, body="x")
    assert error.value.status == 401 and error.value.code == 20003
    # list pages go through Page.process_response, which wraps any non-200 itself
    with pytest.raises(TwilioException, match="Unable to fetch page"):
        client.messages.list(limit=1)


def test_cancel_of_a_queued_message_raises_30409(client):
    message = client.messages.create(to=TO, from_=FROM, body="now")
    with pytest.raises(TwilioRestException) as error:
        client.messages(message.sid).update(status="canceled")
    assert error.value.code == 30409


def test_every_sandbox_outcome_as_the_sdk_sees_it(client):
    made = {
        to: client.messages.create(to=to, from_=FROM, body="outcome").sid
        for to, *_ in SANDBOX_OUTCOMES
    }
    for to, status, code in SANDBOX_OUTCOMES:
        wanted = FINAL | {"sent"} if status == "sent" else FINAL
        message = settled(client, made[to], wanted)
        assert (message.status, message.error_code) == (status, code), to
        assert (message.error_message is None) == (code is None)


@pytest.mark.parametrize(
    ("to", "code"),
    [("+15005550001", 21211), ("+15005550002", 21612), ("+15005550003", 21408),
     ("+15005550004", 21610), ("+15005550009", 21614)],
)  # fmt: skip
def test_twilio_test_numbers_raise_at_create(client, to, code):
    with pytest.raises(TwilioRestException) as error:
        client.messages.create(to=to, from_=FROM, body="x")
    assert (error.value.status, error.value.code) == (400, code)


def test_media_and_feedback(client):
    message = client.messages.create(
        to=TO,
        from_=FROM,
        body="a picture",
        media_url=["https://example.com/a.png", "https://example.com/b.jpg"],
        provide_feedback=True,
    )
    media = client.messages(message.sid).media.list()
    assert sorted(m.content_type for m in media) == ["image/jpeg", "image/png"]
    assert {m.parent_sid for m in media} == {message.sid}
    fetched = client.messages(message.sid).media(media[0].sid).fetch()
    assert (fetched.sid, fetched.content_type) == (media[0].sid, media[0].content_type)
    assert client.messages(message.sid).media(media[0].sid).delete() is True
    assert [m.sid for m in client.messages(message.sid).media.list()] == [media[1].sid]
    feedback = client.messages(message.sid).feedback.create(outcome="confirmed")
    assert (feedback.message_sid, feedback.outcome) == (message.sid, "confirmed")
    with pytest.raises(TwilioRestException) as missing:
        client.messages(message.sid).media(media[0].sid).fetch()
    assert missing.value.code == 20404
