"""Issue 14's items 1, 2, 6 and 7 tried as a user would: over HTTP against a live Herald built
as `make run` builds it (tests.conftest.live_herald), with two accounts, the sandbox's handset
and an app's webhook on 127.0.0.1 that answers TwiML."""

import base64
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

import admin
from tests.conftest import live_herald
from tests.pipeline import receiver

pytestmark = pytest.mark.server

FIRST = "+15005550006"  # the first account's number
SECOND = "+15005550007"  # the second account's
HANDSET = "+14155550142"


class User:
    """One account's calls to the live server, as curl would make them."""

    def __init__(self, url: str, account: dict):
        self.url, self.sid = url, account["account_sid"]
        pair = f"{account['account_sid']}:{account['auth_token']}".encode()
        self.auth = "Basic " + base64.b64encode(pair).decode()
        self.token = account["auth_token"]

    def call(self, method: str, path: str, **params) -> tuple[int, dict]:
        data = urlencode(params, doseq=True).encode() if method == "POST" else None
        query = "?" + urlencode(params) if method == "GET" and params else ""
        request = urllib.request.Request(
            f"{self.url}{path}{query}",
            data=data,
            method=method,
            headers={"Authorization": self.auth},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def api(self, method: str, path: str, **params) -> tuple[int, dict]:
        return self.call(method, f"/2010-04-01/Accounts/{self.sid}{path}", **params)

    def messages(self) -> list[dict]:
        return self.api("GET", "/Messages.json", PageSize=100)[1]["messages"]

    def detail(self, sid: str) -> dict:
        return self.call("GET", f"/inbox/api/Accounts/{self.sid}/Messages/{sid}.json")[1]


def eventually(check, timeout: float = 30.0):
    """The value of `check()` once it is truthy (the pipeline runs in the server's process)."""
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def herald():
    with live_herald(HERALD_REQUIRE_REGISTERED_FROM="1") as (url, account):
        yield User(url, account), User(url, admin.create_account())


def test_a_webhook_cannot_reply_from_another_accounts_number_nor_store_bad_urls(herald):
    first, second = herald
    made = first.api("POST", "/IncomingPhoneNumbers.json", PhoneNumber=FIRST)
    assert made[0] == 201, made
    code = second.api("POST", "/Messages.json", To="+14155550123", From=FIRST, Body="x")
    assert (code[0], code[1]["code"]) == (400, 21606)
    answer = (
        "<Response>"
        f'<Message from="{FIRST}" to="+14155550123">Your bank: call us</Message>'
        "<Message><Body>pic</Body><Media>javascript:alert(1)</Media></Message>"
        '<Message action="javascript:alert(1)">act</Message>'
        '<Message to="+1415555O1OO">letters</Message>'
        '<Message action="/status">thanks</Message>'
        "</Response>"
    )
    with receiver() as hook:
        hook.answers = [(200, "text/xml", answer)]
        sms_url = hook.url.replace("http://", "http://hook:s3cret@") + "/sms"
        status, number = second.api(
            "POST", "/IncomingPhoneNumbers.json", PhoneNumber=SECOND, SmsUrl=sms_url
        )
        # Stored encrypted, answered masked (docs/differences.md), called as written.
        masked = hook.url.replace("http://", "http://hook:****@") + "/sms"
        assert (status, number["sms_url"]) == (201, masked)
        status, texted = second.api(
            "POST", "/Sandbox/Inbound.json", From=HANDSET, To=SECOND, Body="hi"
        )
        assert status == 201
        delivered = eventually(
            lambda: [
                m
                for m in second.messages()
                if m["direction"] == "outbound-reply" and m["status"] == "delivered"
            ]
        )
        assert [m["body"] for m in delivered] == ["thanks"]
        assert eventually(lambda: len(hook.requests) == 4)  # the webhook, three callbacks
        webhook = hook.requests[0]
        assert (
            webhook.headers["Authorization"] == "Basic " + base64.b64encode(b"hook:s3cret").decode()
        )
        validator = RequestValidator(second.token)
        assert validator.validate(
            hook.url + "/sms", webhook.form, webhook.headers["X-Twilio-Signature"]
        )
    assert all(m["from"] != FIRST for m in second.messages())
    assert first.messages() == []
    detail = second.detail(texted["sid"])
    refused = [e["error_code"] for e in detail["events"] if e["kind"] == "reply"]
    assert sorted(refused) == [21211, 21606, 21609, 21620]
    assert "s3cret" not in json.dumps(detail) and "javascript" not in json.dumps(detail)
    assert {"21606", "21609", "21620"} <= set(detail["errors"])


def test_numbers_and_urls_as_a_user_types_them(herald):
    first, _ = herald

    def create(**params) -> tuple[int, dict]:
        return first.api("POST", "/Messages.json", **{"From": FIRST, "Body": "x", **params})

    for to in ("+1415555O1OO", "+14155550100;ext=1", "+44 (0)20 7946 0000"):
        status, refused = create(To=to)
        assert (status, refused["code"]) == (400, 21211), to
    injected = "http://app.example/cb%0d%0aX-Injected:%201"
    status, refused = create(To="+14155550100", StatusCallback=injected)
    assert (status, refused["code"]) == (400, 21609)
    status, refused = first.api(
        "POST", "/Sandbox/Inbound.json", From=HANDSET, To=FIRST, MediaUrl="javascript:alert(1)"
    )
    assert (status, refused["code"]) == (400, 21620)
    with receiver() as hook:
        callback = hook.url.replace("http://", "http://cb:pa55word@") + "/cb"
        status, created = create(To="+1 (415) 555-0100", StatusCallback=callback)
        assert (status, created["to"]) == (201, "+14155550100")
        assert eventually(lambda: len(hook.requests) == 3)
        validator = RequestValidator(first.token)
        basic = "Basic " + base64.b64encode(b"cb:pa55word").decode()
        for request in hook.requests:
            assert request.headers["Authorization"] == basic
            signature = request.headers["X-Twilio-Signature"]
            assert validator.validate(hook.url + "/cb", request.form, signature)
