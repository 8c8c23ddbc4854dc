"""Two-way messaging end to end on the pipeline: a handset texts one of the account's
numbers (the sandbox's route, the same queue a real text takes), the app's webhook is called
signed, its TwiML answer goes out as replies, and keywords opt the handset out and in."""

import json

import pytest
from twilio.request_validator import RequestValidator

from chalicelib import messages
from chalicelib.delivery import callbacks
from chalicelib.jobs.batch import Job
from chalicelib.storage import events
from tests.conftest import body, error_of
from tests.pipeline import FROM as OURS
from tests.pipeline import (
    HANDSET,
    create,
    fetched,
    listed,
    received,
    receiver,
    register,
    text,
    twiml,
)


def test_a_text_reaches_the_webhook_signed_and_its_twiml_reply_is_delivered(line, api, account):
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml("<Message>Got it, thanks!</Message>"))]
        register(api, SmsUrl=hook.url + "/sms?source=herald")
        simulated = received(api, line, body_text="Is my order ready?")
        assert simulated["status"] == "receiving" and simulated["sid"].startswith("SM")
        inbound = fetched(api, simulated["sid"])
        assert (inbound["direction"], inbound["status"]) == ("inbound", "received")
        assert (inbound["from"], inbound["to"]) == (HANDSET, OURS)
        assert inbound["body"] == "Is my order ready?" and inbound["date_sent"] is not None

        (call,) = hook.requests
        assert call.path == "/sms?source=herald"
        url = hook.url + call.path
        assert RequestValidator(account["auth_token"]).validate(
            url, call.form, call.headers["X-Twilio-Signature"]
        )
        assert call.headers["User-Agent"] == "TwilioProxy/1.1"
        assert call.form["MessageSid"] == call.form["SmsSid"] == call.form["SmsMessageSid"]
        assert call.form["MessageSid"] == simulated["sid"]
        assert (call.form["From"], call.form["To"]) == (HANDSET, OURS)
        assert call.form["Body"] == "Is my order ready?" and call.form["SmsStatus"] == "received"
        assert (call.form["NumMedia"], call.form["NumSegments"]) == ("0", "1")
        assert call.form["FromCountry"] == call.form["ToCountry"] == "US"

    (reply,) = [m for m in listed(api) if m["direction"] == "outbound-reply"]
    assert (reply["from"], reply["to"], reply["body"]) == (OURS, HANDSET, "Got it, thanks!")
    assert reply["status"] == "delivered" and line.handoffs[reply["sid"]] == 1


def test_a_text_handed_over_twice_is_stored_and_answered_once(line, api, monkeypatch):
    from chalicelib.storage import queues

    sent = []
    real_send = queues.send
    monkeypatch.setattr(
        queues, "send", lambda url, b, **k: (sent.append(b), real_send(url, b, **k))
    )
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml("<Message>once</Message>"))] * 3
        register(api, SmsUrl=hook.url + "/sms")
        simulated = text(api)
        real_send(line.env["HERALD_RECEIPT_QUEUE_URL"], sent[0])  # SNS/SQS deliver it again
        line.drain()
        assert len(hook.requests) == 1
    sids = [m["sid"] for m in listed(api)]
    assert sids.count(body(simulated)["sid"]) == 1
    assert len([m for m in listed(api) if m["direction"] == "outbound-reply"]) == 1


def test_a_webhook_job_run_twice_makes_each_reply_once(line, api):
    with receiver() as hook:
        answer = twiml("<Message>one</Message>", "<Message>two</Message>")
        hook.answers = [(200, "text/xml", answer)] * 2
        register(api, SmsUrl=hook.url + "/sms")
        sid = received(api, line)["sid"]
        job = Job({"kind": "webhook", "account_sid": api.account_sid, "sid": sid}, "m", "r", 2)
        callbacks.run(job)  # the same job handed over again: the app is called again...
        line.drain()
        assert len(hook.requests) == 2
    replies = [m for m in listed(api) if m["direction"] == "outbound-reply"]
    assert sorted(m["body"] for m in replies) == ["one", "two"]  # ...its replies made once


@pytest.mark.parametrize(
    ("answer", "code", "replies"),
    [
        ((200, "text/xml", "<Response/>"), None, 0),
        ((200, "text/plain", "Plain answer"), None, 1),
        ((200, "text/xml", "<Response><Message>x</Response>"), 12100, 0),
        ((200, "application/json", '{"reply": "x"}'), 12300, 0),
        ((200, "text/xml", "<Message>not in a Response</Message>"), 12200, 0),
        ((204, "text/xml", ""), None, 0),
    ],
)
def test_every_kind_of_answer(line, api, answer, code, replies):
    with receiver() as hook:
        hook.answers = [answer]
        register(api, SmsUrl=hook.url + "/sms")
        sid = received(api, line)["sid"]
    recorded = [e for e in events.of_message(api.account_sid, sid) if e["kind"] == "twiml"]
    assert [e["error_code"] for e in recorded] == ([code] if code else [])
    made = [m for m in listed(api) if m["direction"] == "outbound-reply"]
    assert len(made) == replies


def test_a_twiml_answer_over_64_kib_is_11750_and_sends_nothing(line, api):
    big = twiml(*["<Message>x</Message>"] * 4000)
    assert len(big) > 64 * 1024
    with receiver() as hook:
        hook.answers = [(200, "text/xml", big)]
        register(api, SmsUrl=hook.url + "/sms")
        sid = received(api, line)["sid"]
    recorded = [e for e in events.of_message(api.account_sid, sid) if e["kind"] == "twiml"]
    assert [e["error_code"] for e in recorded] == [11750]
    assert [m for m in listed(api) if m["direction"] == "outbound-reply"] == []


def test_a_failing_webhook_falls_back_and_the_fallback_answers(line, api):
    with receiver() as hook:
        hook.answers = [500, (200, "text/xml", twiml("<Message>from the fallback</Message>"))]
        register(api, SmsUrl=hook.url + "/primary", SmsFallbackUrl=hook.url + "/fallback")
        sid = received(api, line)["sid"]
        assert [r.path for r in hook.requests] == ["/primary", "/fallback"]
    kinds = [(e["kind"], e.get("answer")) for e in events.of_message(api.account_sid, sid)]
    assert ("webhook", 500) in kinds and ("fallback", 200) in kinds
    (reply,) = [m for m in listed(api) if m["direction"] == "outbound-reply"]
    assert reply["body"] == "from the fallback"


def test_an_unreachable_webhook_is_11200_and_sends_nothing(line, api):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    register(api, SmsUrl=f"http://127.0.0.1:{port}/sms")
    sid = received(api, line)["sid"]
    codes = [e.get("error_code") for e in events.of_message(api.account_sid, sid)]
    assert 11200 in codes
    assert [m for m in listed(api) if m["direction"] == "outbound-reply"] == []


def test_get_webhooks_and_reply_attributes(line, api, account):
    with receiver() as hook:
        reply_xml = (
            '<Message to="+14155550177" action="/reply-status" method="GET">'
            "<Body>to someone else</Body><Media>https://cdn.example/p.png</Media></Message>"
        )
        hook.answers = [(200, "text/xml", twiml(reply_xml))] + [200] * 5
        register(api, SmsUrl=hook.url + "/sms", SmsMethod="GET")
        received(api, line)
        webhook = hook.requests[0]
        assert webhook.method == "GET" and webhook.path.startswith("/sms?")
        assert RequestValidator(account["auth_token"]).validate(
            hook.url + webhook.path, {}, webhook.headers["X-Twilio-Signature"]
        )
        (reply,) = [m for m in listed(api) if m["direction"] == "outbound-reply"]
        assert reply["to"] == "+14155550177" and reply["num_media"] == "1"
        assert reply["sid"].startswith("MM") and reply["status"] == "delivered"
        statuses = [r for r in hook.requests[1:] if r.path.startswith("/reply-status?")]
        assert {r.method for r in statuses} == {"GET"} and len(statuses) == 3
        for request in statuses:
            assert RequestValidator(account["auth_token"]).validate(
                hook.url + request.path, {}, request.headers["X-Twilio-Signature"]
            )


def test_stop_opts_out_until_start(line, api):
    with receiver() as hook:
        hook.answers = [200] * 10
        register(api, SmsUrl=hook.url + "/sms")
        received(api, line, body_text="Stop")
        confirmation = [m for m in listed(api) if m["direction"] == "outbound-reply"]
        assert len(confirmation) == 1 and "unsubscribed" in confirmation[0]["body"]
        refused = api.create(To=HANDSET, From=OURS, Body="promo")
        assert error_of(refused) == (400, 21610)
        # Another number of Herald's, or another handset, is not affected.
        assert create(api, To="+14155550143", From=OURS)["status"] == "queued"
        received(api, line, body_text="START")
        assert create(api, To=HANDSET, From=OURS)["status"] == "queued"
        assert len(hook.requests) == 2  # the app still hears both texts, as on Twilio


def test_help_is_answered_and_a_twiml_reply_to_an_opted_out_handset_is_not_sent(line, api):
    with receiver() as hook:
        hook.answers = [200, (200, "text/xml", twiml("<Message>sorry to see you go</Message>"))]
        register(api, SmsUrl=hook.url + "/sms")
        received(api, line, body_text="help")
        (helped,) = [m for m in listed(api) if m["direction"] == "outbound-reply"]
        assert "Reply STOP" in helped["body"]
        sid = received(api, line, body_text="STOP")["sid"]
    recorded = [e.get("error_code") for e in events.of_message(api.account_sid, sid)]
    assert 21610 in recorded
    bodies = [m["body"] for m in listed(api) if m["direction"] == "outbound-reply"]
    assert "sorry to see you go" not in bodies


def test_media_reaches_the_webhook(line, api):
    with receiver() as hook:
        register(api, SmsUrl=hook.url + "/sms")
        simulated = received(api, line, body_text="", MediaUrl="https://cdn.example/pic.jpg")
        assert simulated["sid"].startswith("MM")
        (call,) = hook.requests
        assert call.form["NumMedia"] == "1"
        assert call.form["MediaUrl0"] == "https://cdn.example/pic.jpg"
        assert call.form["MediaContentType0"] == "image/jpeg"


def test_the_route_refuses_what_is_not_the_accounts(line, api):
    assert error_of(text(api)) == (400, 21211)  # no number registered yet
    register(api)
    assert error_of(text(api, to="+14155550188")) == (400, 21211)
    assert error_of(text(api, handset="not a number")) == (400, 21212)
    assert error_of(text(api, body_text="")) == (400, 21602)


def test_a_number_without_sms_url_stores_the_text_and_calls_nobody(line, api):
    register(api)
    sid = received(api, line)["sid"]
    assert fetched(api, sid)["status"] == "received"
    assert events.of_message(api.account_sid, sid) == []


def test_no_route_on_a_stage_with_a_real_carrier(line, api, monkeypatch):
    import dataclasses

    from chalicelib.runtime import config

    register(api)
    real = config.delivery
    # (Chalice's test client applies the stage's own variables to each request, so the
    # stage's carrier is set where the route reads it.)
    monkeypatch.setattr(
        config, "delivery", lambda: dataclasses.replace(real(), carrier="end-user-messaging")
    )
    assert error_of(text(api)) == (404, 20404)


def test_history_and_direction_of_an_inbound_message(line, api):
    register(api)
    sid = received(api, line)["sid"]
    message = messages.fetch(api.account_sid, sid)
    assert [h["status"] for h in message.history] == ["received"]
    assert json.dumps(message.to_json())  # serialisable as the API answers it
