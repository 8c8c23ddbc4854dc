"""The rules every outbound message passes (chalicelib.messages.checks), as the API applies
them, and the ones shared with IncomingPhoneNumbers and the lists: numbers are never
rewritten into other numbers (issue 14, item 2), URLs with credentials are accepted and ones
with control characters refused at once (item 6), media and callback URLs are http(s) (item
7). The other paths (TwiML replies, keyword answers, the sandbox's handset) are in
tests/inbound/test_reply_checks.py; tests/system/test_trust_live.py tries them against a live
server."""

import ast
from pathlib import Path
from urllib.parse import urlencode

import pytest

from chalicelib import storage
from chalicelib.messages import checks
from chalicelib.messages.creation import store_new
from chalicelib.messages.model import Message
from chalicelib.messages.status import Direction
from chalicelib.twilio import addresses
from tests.conftest import FROM, TO, body, error_of, make

VANITY = "+1415555O1OO"  # letter O: libphonenumber reads it as +14155556166


@pytest.mark.parametrize(
    "written",
    [
        VANITY,
        "+1415555o1oo",
        "+1-800-FLOWERS",
        "+14155550100 ext 5",
        "+14155550100 ext. 5",
        "+14155550100;ext=1",
        "+14155550100x5",
        "+14155550100#5",
        "+44 (0)20 7946 0000",  # libphonenumber drops the trunk 0: another string of digits
        "+\u0661\u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0660\u0660",  # Arabic-Indic
        "\uff0b14155550100",  # a full-width plus
        "+14155550100\n",
        "+1\t4155550100",
        "+1/415/555/0100",
        "14155550100",
    ],
)
def test_a_number_that_is_not_plus_and_digits_is_refused_never_rewritten(api, written):
    assert addresses.normalize_number(written) is None
    assert error_of(api.create(To=written, From=FROM, Body="x")) == (400, 21211)
    assert error_of(api.create(To=TO, From=written, Body="x")) == (400, 21212)
    assert error_of(api.create(To=TO, From=FROM, Body="x", FallbackFrom=written)) == (400, 21212)
    assert error_of(api.create(To="whatsapp:" + written, From=FROM, Body="x")) == (400, 21211)


@pytest.mark.parametrize(
    "written",
    ["+14155550100", "+1 (415) 555-0100", "+1.415.555.0100", "+1-415-555-0100", " +14155550100 "],
)
def test_spaces_dashes_dots_and_parentheses_are_what_twilio_accepts(api, written):
    created = make(api, To=written, From=written)
    assert (created["to"], created["from"]) == (TO, TO)


def test_a_list_filter_with_letters_matches_nothing_not_another_number(api):
    make(api, To="+14155556166")
    for name in ("To", "From"):
        query = urlencode({name: VANITY})
        assert body(api.list(query))["messages"] == []
    assert len(body(api.list(urlencode({"To": "+1 (415) 555-6166"})))["messages"]) == 1


def test_an_incoming_phone_number_with_letters_is_refused(api):
    path = api.base + "/IncomingPhoneNumbers.json"
    for written in (VANITY, "+14155550100;ext=1", "+44 (0)20 7946 0000"):
        response = api.request("POST", path, params={"PhoneNumber": written})
        assert error_of(response) == (400, 21421), written
    listed = body(api.request("GET", path + "?" + urlencode({"PhoneNumber": VANITY})))
    assert listed["incoming_phone_numbers"] == []


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "https://cdn.example/a%0d%0a.png",
        "https://cdn.example/a.png%00",
        "https://cdn.example/a b.png",
    ],
)
def test_media_urls_are_http_urls_herald_can_fetch(api, url):
    assert error_of(api.create(To=TO, From=FROM, MediaUrl=url)) == (400, 21620)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "http://app.example/cb%0d%0aX-Injected:%201",
        "http://app.example/cb?x=%0A",
        "http://app.example/cb#rc=1%0d",
        "http://us%0aer:pw@app.example/cb",
        "http://app.example/cb\r\nX: 1",
    ],
)
def test_a_status_callback_with_a_control_character_is_refused_at_create(api, url):
    response = api.create(To=TO, From=FROM, Body="x", StatusCallback=url)
    assert error_of(response) == (400, 21609)
    assert "\r" not in body(response)["message"] and "\n" not in body(response)["message"]


@pytest.mark.parametrize("name", ["SmsUrl", "SmsFallbackUrl", "StatusCallback", "VoiceUrl"])
def test_a_number_url_with_a_control_character_is_refused_at_create(api, name):
    path = api.base + "/IncomingPhoneNumbers.json"
    params = {"PhoneNumber": FROM, "SmsUrl": "https://app.example/sms"}
    params[name] = "https://app.example/x%0d%0aSet-Cookie:%20a=1"
    assert error_of(api.request("POST", path, params=params)) == (400, 21502)


def test_urls_with_credentials_are_accepted_and_kept_as_written(api):
    """Accepted, and called as written (stored sealed and answered masked:
    tests/storage/test_url_credentials.py)."""
    from chalicelib import messages
    from chalicelib.storage.url_credentials import opened

    callback = "https://cb:pa55@app.example/status?k=1#rc=2"
    created = make(api, StatusCallback=callback, MediaUrl="https://m:pw@cdn.example/a.png")
    stored = messages.fetch(api.account_sid, created["sid"])
    assert opened(api.account_sid, stored.options["StatusCallback"]) == callback
    assert [opened(api.account_sid, u) for u in stored.media_urls] == [
        "https://m:pw@cdn.example/a.png"
    ]
    path = api.base + "/IncomingPhoneNumbers.json"
    sms_url = "https://hook:s3cret@app.example/sms"
    number = api.request("POST", path, params={"PhoneNumber": FROM, "SmsUrl": sms_url})
    assert number.status_code == 201
    assert body(number)["sms_url"] == "https://hook:****@app.example/sms"


# ---------------------------------------------------------------- one place


def _outbound(account_sid: str, **changes) -> Message:
    fields = {
        "account_sid": account_sid,
        "sid": "SM" + "c" * 32,
        "to": TO,
        "from_": FROM,
        "body": "x",
        "status": "queued",
        "created_ms": 1,
        "updated_ms": 1,
        "direction": Direction.OUTBOUND_REPLY.value,
    }
    return Message(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"to": "+14155556166x"}, 21211),
        ({"to": "+1 415 555 0100"}, 21211),  # not the stored form: read some other way
        ({"from_": "+1415555O1OO"}, 21212),
        ({"from_": None}, 21603),
        ({"body": "x" * 1601}, 21617),
        ({"media_urls": ["javascript:alert(1)"]}, 21620),
        ({"options": {"StatusCallback": "file:///etc/passwd"}}, 21609),
    ],
)
def test_storing_an_outbound_message_applies_the_rules_whoever_built_it(account, changes, code):
    """A path that forgot to check still cannot store: creation.store_new applies them."""
    with pytest.raises(Exception) as refused:
        store_new(_outbound(account["account_sid"], **changes))
    assert getattr(refused.value, "code", None) == code
    inbound = _outbound(account["account_sid"], direction=Direction.INBOUND.value)
    store_new(inbound)  # an inbound text is the handset's, not ours to check
    with pytest.raises(storage.Exists):
        store_new(inbound)


def test_the_registered_sender_rule_applies_to_stored_replies(account, other_account, monkeypatch):
    from chalicelib.numbers import lifecycle

    lifecycle.create(other_account["account_sid"], {"PhoneNumber": ["+15005550007"]})
    monkeypatch.setenv("HERALD_REQUIRE_REGISTERED_FROM", "1")
    with pytest.raises(Exception) as refused:
        store_new(_outbound(account["account_sid"], from_="+15005550007"))
    assert getattr(refused.value, "code", None) == 21606
    with pytest.raises(Exception) as refused:
        checks.outbound(_outbound(account["account_sid"], from_="+15005550009"))
    assert getattr(refused.value, "code", None) == 21606


def test_without_the_flag_a_stored_reply_is_never_from_another_accounts_number(
    account, other_account, monkeypatch
):
    """A TwiML reply or a keyword's answer (stored past the opt-outs) from the other
    account's number is refused as the API's create is; one from a number no account holds
    is taken, as the API's is, where HERALD_REQUIRE_REGISTERED_FROM is off."""
    from chalicelib.numbers import lifecycle

    monkeypatch.delenv("HERALD_REQUIRE_REGISTERED_FROM", raising=False)
    lifecycle.create(other_account["account_sid"], {"PhoneNumber": ["+15005550007"]})
    for answers_keyword in (False, True):
        with pytest.raises(Exception) as refused:
            reply = _outbound(account["account_sid"], from_="+15005550007")
            store_new(reply, answers_keyword=answers_keyword)
        assert getattr(refused.value, "code", None) == 21606
    store_new(_outbound(account["account_sid"], from_="+15005550009"))


def test_only_creation_stores_new_messages():
    """Every outbound message is stored by chalicelib.messages.creation, which applies
    checks.outbound: no other module may call storage's put of a new message."""
    package = Path(__file__).resolve().parents[2] / "chalicelib"
    callers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name in ("put_new_message", "put_new_message_once"):
                callers.add(path.relative_to(package).as_posix())
    assert callers == {"messages/creation.py"}
