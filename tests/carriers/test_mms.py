"""MMS and Feedback on the carriers: End User Messaging sends one media file from S3 and
takes Feedback; the sandbox can fetch media as it would; Feedback given through the API
reaches the carrier through the stream and the send queue."""

import pytest
from moto import mock_aws

from chalicelib.carriers import end_user_messaging as eum
from chalicelib.carriers import eum_request, eum_settings
from chalicelib.carriers.base import Accepted, Refused
from chalicelib.carriers.sandbox import Sandbox
from chalicelib.messages.model import Message, describe
from chalicelib.outbound import media_fetch
from chalicelib.runtime import clock
from chalicelib.storage import media_objects
from tests.conftest import body
from tests.pipeline import create, fetched, receiver

ACCOUNT = "AC" + "a" * 32
SID = "MM" + "b" * 32
TO, FROM = "+14155550100", "+15005550006"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def mms(**changes) -> Message:
    now = clock.now_ms()
    urls = ["https://cdn.example/cat.png"]
    sids, types = describe(SID, urls)
    fields = {
        "account_sid": ACCOUNT, "sid": SID, "to": TO, "from_": FROM, "body": "look",
        "status": "sending", "created_ms": now, "updated_ms": now, "attempts": 1,
        "media_urls": urls, "media_sids": sids, "media_types": types,
    }  # fmt: skip
    return Message(**{**fields, **changes})


def test_one_media_file_goes_from_s3_with_send_media_message(stubber, monkeypatch):
    monkeypatch.setattr(
        media_fetch,
        "fetch_all",
        lambda urls: [media_fetch.Fetched(urls[0], "image/png", PNG)],
    )
    stored = {}
    monkeypatch.setattr(
        media_objects,
        "put",
        lambda key, data, ctype: (
            stored.update(key=key, data=data, ctype=ctype) or f"s3://media-bucket/{key}"
        ),
    )
    message = mms()
    key = f"{ACCOUNT}/{SID}/{message.media_sids[0]}"
    stubber.add_response(
        "send_media_message",
        {"MessageId": "mms-1"},
        {
            "DestinationPhoneNumber": TO,
            "OriginationIdentity": FROM,
            "MessageBody": "look",
            "MediaUrls": [f"s3://media-bucket/{key}"],
            "Context": {
                "herald_account_sid": ACCOUNT,
                "herald_message_sid": SID,
            },
        },
    )
    outcome = eum.EndUserMessaging().send(message)
    assert outcome == Accepted("mms-1", ("image/png",))
    assert stored == {"key": key, "data": PNG, "ctype": "image/png"}
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "text"), [(11200, "HTTP"), (30019, "size"), (12300, "Type")])
def test_media_that_cannot_be_fetched_fails_the_message_without_a_send(
    stubber, monkeypatch, code, text
):
    def refuse(urls):
        raise media_fetch.MediaRefused(code, text)

    monkeypatch.setattr(media_fetch, "fetch_all", refuse)
    outcome = eum.EndUserMessaging().send(mms())
    assert outcome == Refused(code, text)
    stubber.assert_no_pending_responses()


def test_feedback_is_put_and_asked_for(stubber):
    message = mms(media_urls=[], media_sids=[], media_types=[], sid="SM" + "c" * 32)
    message = Message(**{**message.__dict__, "options": {"ProvideFeedback": "true"}})
    request = eum_request.request_for(message, FROM, eum_settings.settings(), clock.now_ms())
    assert request["MessageFeedbackEnabled"] is True
    given = Message(
        **{**message.__dict__, "carrier_id": "eum-9", "feedback": {"outcome": "unconfirmed"}}
    )
    stubber.add_response(
        "put_message_feedback",
        {"MessageId": "eum-9", "MessageFeedbackStatus": "FAILED"},
        {"MessageId": "eum-9", "MessageFeedbackStatus": "FAILED"},
    )
    eum.EndUserMessaging().feedback(given)
    stubber.assert_no_pending_responses()


def test_the_media_bucket_holds_each_file_under_its_own_key(monkeypatch):
    monkeypatch.setenv("HERALD_MEDIA_BUCKET", "herald-media-test")
    with mock_aws():
        media_objects.reset()
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="herald-media-test")
        uri = media_objects.put("AC1/SM1/ME1", PNG, "image/png")
        assert uri == "s3://herald-media-test/AC1/SM1/ME1"
        stored = s3.get_object(Bucket="herald-media-test", Key="AC1/SM1/ME1")
        assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"
    media_objects.reset()


def test_no_bucket_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("HERALD_MEDIA_BUCKET", raising=False)
    with pytest.raises(media_objects.Unconfigured):
        media_objects.put("k", b"", "image/png")


# --- fetching, against real servers on 127.0.0.1 ------------------------------------------------


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setenv("HERALD_ALLOW_PRIVATE_URLS", "1")
    with receiver() as hook:
        yield hook


def test_fetch_returns_each_file_and_its_type(served):
    served.answers = [(200, "image/png", "png-bytes"), (200, "audio/mpeg; x=1", "mp3")]
    got = media_fetch.fetch_all([served.url + "/a.png", served.url + "/b.mp3"])
    assert [(f.content_type, f.data) for f in got] == [
        ("image/png", b"png-bytes"),
        ("audio/mpeg", b"mp3"),
    ]
    assert [r.method for r in served.requests] == ["GET", "GET"]


@pytest.mark.parametrize(
    ("answer", "code"),
    [(404, 11200), ((200, "text/html", "<html/>"), 12300), ((200, "", "?"), 12300)],
)
def test_fetch_refusals(served, answer, code):
    served.answers = [answer]
    with pytest.raises(media_fetch.MediaRefused) as refused:
        media_fetch.fetch_all([served.url + "/x"])
    assert refused.value.code == code


def test_fetch_bounds_the_total_size(served, monkeypatch):
    monkeypatch.setattr(media_fetch, "MAX_TOTAL_BYTES", 10)
    served.answers = [(200, "image/png", "123456"), (200, "image/png", "7890123")]
    with pytest.raises(media_fetch.MediaRefused) as refused:
        media_fetch.fetch_all([served.url + "/1", served.url + "/2"])
    assert refused.value.code == 30019


def test_a_private_media_url_is_refused_on_deployed_stages(served, monkeypatch):
    monkeypatch.setenv("HERALD_ALLOW_PRIVATE_URLS", "0")
    with pytest.raises(media_fetch.MediaRefused) as refused:
        media_fetch.fetch_all([served.url + "/x.png"])
    assert refused.value.code == 11200 and served.requests == []


# --- through the pipeline, on the sandbox -------------------------------------------------------


def test_the_sandbox_can_fetch_media_as_end_user_messaging_would(line, api, monkeypatch):
    monkeypatch.setenv("HERALD_SANDBOX_FETCH_MEDIA", "1")
    with receiver() as hook:
        hook.answers = [(200, "image/webp", "webp"), (404, "text/plain", "gone")]
        good = create(api, MediaUrl=hook.url + "/photo")["sid"]  # no extension to guess from
        line.drain()
        bad = create(api, MediaUrl=hook.url + "/missing.png")["sid"]
        line.drain()
    assert fetched(api, good)["status"] == "delivered"
    (entry,) = body(api.request("GET", f"{api.base}/Messages/{good}/Media.json"))["media_list"]
    assert entry["content_type"] == "image/webp"  # what the server said, not a guess
    message = fetched(api, bad)
    assert (message["status"], message["error_code"]) == ("failed", 11200)


def test_feedback_reaches_the_carrier_through_the_queue(line, api, monkeypatch):
    passed = []
    monkeypatch.setattr(Sandbox, "feedback", lambda self, message: passed.append(message))
    sid = create(api, ProvideFeedback="true")["sid"]
    line.drain()
    response = api.request(
        "POST", f"{api.base}/Messages/{sid}/Feedback.json", params={"Outcome": "confirmed"}
    )
    assert response.status_code == 200
    line.drain()
    (message,) = passed
    assert message.sid == sid and message.feedback["outcome"] == "confirmed"
    assert message.carrier_id.startswith("sandbox-")
