"""Every path that makes an outbound message passes the API's rules (chalicelib.messages.checks):
a TwiML reply, a keyword answer and the sandbox's handset route, on the pipeline. A reply that
breaks one is not made, and its Twilio code is recorded with the inbound message."""

import base64

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.messages import checks
from chalicelib.storage import events
from tests.conftest import body, error_of
from tests.pipeline import FROM as OURS
from tests.pipeline import HANDSET, create, listed, received, receiver, register, text, twiml

OTHERS = "+15005550007"  # another account's number


@pytest.fixture
def registered_from(monkeypatch):
    monkeypatch.setenv("HERALD_REQUIRE_REGISTERED_FROM", "1")


def refused_replies(api, sid) -> list[int]:
    recorded = events.of_message(api.account_sid, sid)
    return [e["error_code"] for e in recorded if e["kind"] == "reply"]


def replies(api) -> list[dict]:
    return [m for m in listed(api) if m["direction"] == "outbound-reply"]


@pytest.mark.parametrize("flag", ["on", "off"])
def test_a_twiml_reply_cannot_send_from_another_accounts_number(
    line, api, other_api, flag, monkeypatch
):
    """Item 1 of issue 14: the API refuses the other account's From (21606), and so must the
    reply; on End User Messaging that From would become the OriginationIdentity. Whatever
    HERALD_REQUIRE_REGISTERED_FROM says: off, only a number no account holds is taken."""
    if flag == "on":
        monkeypatch.setenv("HERALD_REQUIRE_REGISTERED_FROM", "1")
    else:
        monkeypatch.delenv("HERALD_REQUIRE_REGISTERED_FROM", raising=False)
    register(other_api, PhoneNumber=OTHERS)
    assert error_of(api.create(To="+14155550123", From=OTHERS, Body="x")) == (400, 21606)
    spoof = f'<Message from="{OTHERS}" to="+14155550123">from your bank</Message>'
    own = '<Message to="+14155550123">from us</Message>'
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml(spoof, own))]
        register(api, SmsUrl=hook.url + "/sms")
        sid = received(api, line)["sid"]
    assert refused_replies(api, sid) == [21606]
    (made,) = replies(api)
    assert (made["from"], made["body"], made["status"]) == (OURS, "from us", "delivered")
    assert all(m["from"] != OTHERS for m in listed(api) + listed(other_api))
    assert [s for s, n in line.calls.items() if n] == [made["sid"]]  # one hand-off, ours


def test_a_twiml_reply_may_send_from_the_accounts_other_number(
    line, api, other_api, registered_from
):
    register(api, PhoneNumber="+15005550008")
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml('<Message from="+15005550008">hi</Message>'))]
        register(api, SmsUrl=hook.url + "/sms")
        sid = received(api, line)["sid"]
    assert refused_replies(api, sid) == []
    (made,) = replies(api)
    assert (made["from"], made["to"], made["status"]) == ("+15005550008", HANDSET, "delivered")


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ('<Message to="+1415555O1OO">letters</Message>', 21211),
        ('<Message to="+14155550100 ext 5">extension</Message>', 21211),
        ('<Message from="+1500555OOO6">letters</Message>', 21212),
        ("<Message><Body>x</Body><Media>javascript:alert(1)</Media></Message>", 21620),
        ("<Message><Body>x</Body><Media>file:///etc/passwd</Media></Message>", 21620),
        ("<Message><Body>x</Body><Media>https://cdn.example/a%0d%0a.png</Media></Message>", 21620),
        ('<Message action="javascript:alert(1)">x</Message>', 21609),
        ('<Message action="https://app.example/s%0d%0aX:%201">x</Message>', 21609),
        ('<Message action="data:text/html,hi">x</Message>', 21609),
        (f"<Message>{'x' * 1601}</Message>", 21617),
    ],
)
def test_a_reply_breaking_an_api_rule_is_not_made_and_its_code_is_recorded(
    line, api, message, code
):
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml(message, "<Message>fine</Message>"))]
        register(api, SmsUrl=hook.url + "/sms")
        sid = received(api, line)["sid"]
    assert refused_replies(api, sid) == [code]
    assert [m["body"] for m in replies(api)] == ["fine"]  # the other reply still goes
    assert not any(
        "javascript" in url or "file:" in url
        for m in listed(api)
        for url in _media_urls(api, m["sid"])
    )


def _media_urls(api, sid) -> list[str]:
    from chalicelib import messages

    return messages.fetch(api.account_sid, sid).media_urls


def test_a_reply_with_no_number_rewritten(line, api):
    """`to="+1415555O1OO"` is not read as +14155556166 (libphonenumber's vanity letters)."""
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml('<Message to="+1415555O1OO">x</Message>'))]
        register(api, SmsUrl=hook.url + "/sms")
        received(api, line)
    assert all(m["to"] != "+14155556166" for m in listed(api))


def test_keyword_answers_pass_the_same_checks(line, api, registered_from, monkeypatch):
    seen = []
    real = checks.outbound
    monkeypatch.setattr(
        checks, "outbound", lambda m, **k: (seen.append((m.body[:20], k)), real(m, **k))[1]
    )
    register(api)
    received(api, line, body_text="HELP")
    (answer,) = replies(api)
    assert answer["from"] == OURS and "Reply STOP" in answer["body"]
    assert seen == [(answer["body"][:20], {"answers_keyword": True})]


def test_the_sandbox_handset_route_reads_numbers_and_media_as_the_api_does(line, api):
    register(api)
    register(api, PhoneNumber="+14155556166")  # what +1415555O1OO would have become
    assert error_of(text(api, to="+1415555O1OO")) == (400, 21211)
    assert error_of(text(api, handset="+1415555O1OO")) == (400, 21212)
    assert error_of(text(api, handset=HANDSET + ";ext=1")) == (400, 21212)
    for url in ("javascript:alert(1)", "file:///etc/passwd", "https://cdn.example/x%0a.png"):
        assert error_of(text(api, MediaUrl=url)) == (400, 21620), url
    assert error_of(text(api, MediaUrl=[f"https://cdn.example/{n}.png" for n in range(11)])) == (
        400,
        21623,
    )
    accepted = text(api, handset="+1 (415) 555-0142", MediaUrl="https://cdn.example/a.png")
    assert accepted.status_code == 201 and body(accepted)["from"] == HANDSET
    line.drain()
    assert [m["to"] for m in listed(api)] == [OURS]  # nothing reached +14155556166


# ---------------------------------------------------------------- credentials in URLs


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_webhook_with_credentials_gets_them_as_basic_auth_and_a_signature_it_validates(
    line, api, account
):
    with receiver() as hook:
        hook.answers = [(200, "text/xml", twiml('<Message action="/status">ok</Message>'))]
        with_credentials = hook.url.replace("http://", "http://hook:s3cret%21@") + "/sms?k=1"
        number = register(api, SmsUrl=with_credentials)
        # Stored sealed, answered masked (tests/storage/test_url_credentials.py).
        assert number["sms_url"] == hook.url.replace("http://", "http://hook:****@") + "/sms?k=1"
        sid = received(api, line)["sid"]
        webhook, *statuses = hook.requests
        assert webhook.path == "/sms?k=1"
        assert webhook.headers["Authorization"] == _basic("hook", "s3cret!")
        validator = RequestValidator(account["auth_token"])
        # The receiver's own URL, which has no credentials in it.
        signature = webhook.headers["X-Twilio-Signature"]
        assert validator.validate(hook.url + "/sms?k=1", webhook.form, signature)
        # The reply's `action`, relative to the webhook's URL, keeps its credentials.
        assert [r.path for r in statuses] == ["/status"] * 3
        for request in statuses:
            assert request.headers["Authorization"] == _basic("hook", "s3cret!")
            signature = request.headers["X-Twilio-Signature"]
            assert validator.validate(hook.url + "/status", request.form, signature)
    recorded = [e for e in events.of_message(api.account_sid, sid) if e["kind"] == "webhook"]
    assert [e["url"] for e in recorded] == [hook.url + "/sms"]  # no credentials, no query
    assert "s3cret" not in repr(events.of_message(api.account_sid, sid))


def test_a_status_callback_with_credentials_is_called_with_them(line, api, account, capfd):
    with receiver() as hook:
        callback = hook.url.replace("http://", "http://cb:pa55word@") + "/cb#rc=0"
        sid = create(api, StatusCallback=callback)["sid"]
        line.drain()
        assert len(hook.requests) == 3
        validator = RequestValidator(account["auth_token"])
        for request in hook.requests:
            assert request.path == "/cb"
            assert request.headers["Authorization"] == _basic("cb", "pa55word")
            signature = request.headers["X-Twilio-Signature"]
            assert validator.validate(hook.url + "/cb", request.form, signature)
    tried = [e for e in events.of_message(api.account_sid, sid) if e["kind"] == "status-callback"]
    assert {(e["url"], e["answer"]) for e in tried} == {(hook.url + "/cb", 200)}
    written = "".join(capfd.readouterr())
    assert "pa55word" not in written and "cb:" not in written
