"""Credentials written in a user's URL are stored sealed, answered masked, and opened only for
the call (chalicelib.storage.url_credentials; issue 14's follow-up, item 1). The pipeline's
side (the receiver still gets Basic auth and a signature it validates; nothing in the queue
jobs, the logs or the inbox) is tests/delivery/test_url_credentials.py."""

import json
import re

import pytest

from chalicelib import messages
from chalicelib.messages.creation import store_new
from chalicelib.messages.model import Message
from chalicelib.messages.status import Direction
from chalicelib.runtime import config
from chalicelib.storage import client, tokens, url_credentials
from tests.conftest import FROM, TO, body, error_of, make

BACKENDS = ("moto", "memory")  # conftest.py: every test on moto and the in-memory DynamoDB

SECRET = "s3cret-pa55"


def everything_stored() -> str:
    """Every item of the table, as text (a test's own small table: a Scan is fine here)."""
    name = config.load().table_name
    items = client.client().scan(TableName=name)["Items"]
    return json.dumps(items)


@pytest.fixture
def kms_calls(monkeypatch):
    """The KMS calls made from here on, by operation name."""
    made: list[str] = []
    real = tokens._client()

    class Counting:
        def __getattr__(self, name):
            method = getattr(real, name)

            def call(**kwargs):
                made.append(name)
                return method(**kwargs)

            return call

    def counting() -> Counting:
        return Counting()

    counting.cache_clear = lambda: None  # tokens.reset() keeps counting
    monkeypatch.setattr(tokens, "_client", counting)
    return made


# ---------------------------------------------------------------- the three forms of a URL


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("https://hook:s3cret@app.example/sms", "https://hook:****@app.example/sms"),
        ("https://hook:p%40ss:w@app.example:8443/a/b?x=1&y=%2F#rc=2&ct=900",
         "https://hook:****@app.example:8443/a/b?x=1&y=%2F#rc=2&ct=900"),
        ("http://sk_live_123@app.example/cb", "http://****@app.example/cb"),
        ("http://hook:@app.example/cb", "http://hook:****@app.example/cb"),
        ("HTTPS://Hook:pw@App.Example/Path", "HTTPS://Hook:****@App.Example/Path"),
    ],
)  # fmt: skip
def test_a_url_is_stored_sealed_shown_masked_and_opened_as_written(account, given, shown):
    sid = account["account_sid"]
    stored = url_credentials.sealed(sid, given)
    user, colon, password = given.split("//")[1].rpartition("@")[0].partition(":")
    secret = password if colon else user  # a user name alone is the secret
    # The ciphertext is random text that may hold a short secret's letters by chance ("pw"
    # did, once): the secret must be nowhere outside it.
    readable = re.sub(re.escape(url_credentials.SEALED) + "[A-Za-z0-9_-]+", "", stored)
    assert secret == "" or secret not in readable
    assert url_credentials.SEALED in stored
    # Only the user info changes: host, port, path, query and fragment byte for byte.
    assert stored.split("@", 1)[1] == given.split("@", 1)[1]
    assert url_credentials.masked(stored) == url_credentials.masked(given) == shown
    tokens.reset()  # nothing cached: KMS decrypts it
    assert url_credentials.opened(sid, stored) == given


@pytest.mark.parametrize(
    "url",
    ["https://app.example/sms", "http://@app.example/cb", "https://app.example/x?u=a:b@c", None],
)
def test_a_url_without_credentials_costs_no_kms_call(account, kms_calls, url):
    if url is not None:
        assert url_credentials.sealed(account["account_sid"], url) == url
        assert url_credentials.opened(account["account_sid"], url) == url
    assert url_credentials.masked(url) == url
    assert kms_calls == []


def test_a_url_stored_before_sealing_is_called_as_written_and_shown_masked(account, kms_calls):
    legacy = "https://hook:plain@app.example/sms"
    assert url_credentials.opened(account["account_sid"], legacy) == legacy
    assert url_credentials.masked(legacy) == "https://hook:****@app.example/sms"
    assert kms_calls == []


def test_another_accounts_ciphertext_does_not_open(account, other_account):
    stored = url_credentials.sealed(account["account_sid"], "https://u:pw@app.example/cb")
    tokens.reset()
    with pytest.raises(tokens.Unreadable):
        url_credentials.opened(other_account["account_sid"], stored)
    assert url_credentials.opened(account["account_sid"], stored) == "https://u:pw@app.example/cb"


def test_an_auth_tokens_ciphertext_cannot_stand_in_for_a_urls_nor_the_reverse(account):
    """Same key, same account: the purpose in the encryption context keeps them apart, so a
    function allowed to open URL credentials (the sender) cannot read an AuthToken."""
    sid = account["account_sid"]
    token_ciphertext = tokens.encrypt_token(sid, "0" * 32)
    packed = token_ciphertext.replace("+", "-").replace("/", "_").rstrip("=")
    forged = f"https://u:{url_credentials.SEALED}{packed}@app.example/cb"
    with pytest.raises(tokens.Unreadable):
        url_credentials.opened(sid, forged)
    url_ciphertext = tokens.encrypt(sid, url_credentials.PURPOSE, "u:pw")
    tokens.reset()
    with pytest.raises(tokens.Unreadable):
        tokens.decrypt_token(sid, url_ciphertext)


def test_a_burst_of_creates_with_the_same_credentials_costs_one_encrypt(api, kms_calls):
    for _ in range(20):
        make(api, StatusCallback="https://cb:pw@app.example/status")
    for _ in range(5):
        make(api, StatusCallback="https://app.example/plain")
    assert kms_calls == ["encrypt"]


def test_a_kms_fault_at_create_is_a_503_and_nothing_is_stored(api, monkeypatch):
    def fails(*args, **kwargs):
        raise tokens.Unavailable("ThrottlingException")

    monkeypatch.setattr(tokens, "encrypt", fails)
    response = api.create(To=TO, From=FROM, Body="x", StatusCallback="https://u:pw@h.example/")
    assert error_of(response) == (503, 20503)
    assert response.headers["Retry-After"] == "1"
    assert body(api.list())["messages"] == []
    # Without credentials there is nothing to seal: KMS is not needed.
    assert (
        api.create(To=TO, From=FROM, Body="x", StatusCallback="https://h.example/").status_code
        == 201
    )


# ---------------------------------------------------------------- messages


def test_a_messages_callback_and_media_credentials_are_never_stored_in_plain_text(api):
    callback = f"https://cb:{SECRET}@app.example/status?k=1#rc=2"
    media = f"https://media:{SECRET}m@cdn.example/a.png"
    created = make(api, StatusCallback=callback, MediaUrl=media)
    assert SECRET not in json.dumps(created)
    stored = messages.fetch(api.account_sid, created["sid"])
    sid = api.account_sid
    assert url_credentials.opened(sid, stored.options["StatusCallback"]) == callback
    assert [url_credentials.opened(sid, url) for url in stored.media_urls] == [media]
    assert SECRET not in everything_stored()
    media_list = api.request("GET", f"{api.base}/Messages/{created['sid']}/Media.json")
    assert media_list.status_code == 200 and SECRET not in media_list.body.decode()


def test_an_idempotent_create_with_credentials_stores_no_password_and_replays(api):
    params = {
        "To": TO,
        "From": FROM,
        "Body": "x",
        "StatusCallback": f"https://u:{SECRET}@h.example/",
    }
    path = api.base + "/Messages.json"
    first = api.request("POST", path, params=params, headers={"Idempotency-Key": "k-1"})
    again = api.request("POST", path, params=params, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert body(first)["sid"] == body(again)["sid"]
    assert SECRET not in everything_stored()


def test_a_reply_made_by_any_path_is_stored_sealed(account):
    """store_new is what TwiML replies go through (chalicelib.inbound.replies)."""
    reply = Message(
        account_sid=account["account_sid"], sid="SM" + "d" * 32, to=TO, from_=FROM, body="x",
        status="queued", created_ms=1, updated_ms=1,
        direction=Direction.OUTBOUND_REPLY.value,
        options={"StatusCallback": f"https://a:{SECRET}@app.example/status"},
        media_urls=[f"https://m:{SECRET}@cdn.example/a.png"],
    )  # fmt: skip
    store_new(reply)
    assert SECRET not in everything_stored()


def test_a_refused_urls_error_message_masks_its_password(api):
    response = api.create(To=TO, From=FROM, Body="x", StatusCallback=f"ftp://u:{SECRET}@h.example/")
    assert error_of(response) == (400, 21609)
    assert SECRET not in body(response)["message"]
    path = api.base + "/IncomingPhoneNumbers.json"
    url = f"https://u:{SECRET}@h.example/x%0d%0a"
    response = api.request("POST", path, params={"PhoneNumber": FROM, "SmsUrl": url})
    assert error_of(response) == (400, 21502)
    assert SECRET not in body(response)["message"]


# ---------------------------------------------------------------- IncomingPhoneNumbers

NUMBER_URLS = {
    "SmsUrl": ("sms_url", f"https://hook:{SECRET}@app.example/sms"),
    "SmsFallbackUrl": ("sms_fallback_url", f"https://fall:{SECRET}@app.example/fallback"),
    "StatusCallback": ("status_callback", f"https://cb:{SECRET}@app.example/status"),
}
MASKED = {
    "sms_url": "https://hook:****@app.example/sms",
    "sms_fallback_url": "https://fall:****@app.example/fallback",
    "status_callback": "https://cb:****@app.example/status",
}


def _number_path(api, sid=None) -> str:
    return api.base + (f"/IncomingPhoneNumbers/{sid}.json" if sid else "/IncomingPhoneNumbers.json")


def _answered(response) -> dict:
    assert response.status_code in (200, 201), response.body
    assert SECRET not in response.body.decode()
    return body(response)


def test_a_numbers_credentials_are_sealed_and_every_answer_masks_them(api):
    params = {"PhoneNumber": FROM, **{name: url for name, (_, url) in NUMBER_URLS.items()}}
    created = _answered(api.request("POST", _number_path(api), params=params))
    fetched = _answered(api.request("GET", _number_path(api, created["sid"])))
    listed = _answered(api.request("GET", _number_path(api)))["incoming_phone_numbers"]
    for answer in (created, fetched, *listed):
        assert {field: answer[field] for field in MASKED} == MASKED
    assert SECRET not in everything_stored()  # the resource and its owner item
    from chalicelib.storage import numbers

    owner = numbers.get_owner(FROM)
    for _, (field, url) in NUMBER_URLS.items():
        assert url_credentials.opened(api.account_sid, owner[field]) == url


def test_an_update_that_gives_a_masked_url_back_keeps_the_stored_credentials(api):
    from chalicelib.storage import numbers

    sms_url = NUMBER_URLS["SmsUrl"][1]
    created = _answered(
        api.request("POST", _number_path(api), params={"PhoneNumber": FROM, "SmsUrl": sms_url})
    )
    # A client that reads the number and writes back what it read.
    back = {"SmsUrl": created["sms_url"], "SmsMethod": "GET", "FriendlyName": "shop"}
    updated = _answered(api.request("POST", _number_path(api, created["sid"]), params=back))
    assert updated["sms_url"] == MASKED["sms_url"] and updated["sms_method"] == "GET"
    owner = numbers.get_owner(FROM)
    assert url_credentials.opened(api.account_sid, owner["sms_url"]) == sms_url
    # A new password replaces the old one; the user name shows which is set.
    new = "https://other:n3w-pa55@app.example/sms"
    updated = _answered(
        api.request("POST", _number_path(api, created["sid"]), params={"SmsUrl": new})
    )
    assert updated["sms_url"] == "https://other:****@app.example/sms"
    owner = numbers.get_owner(FROM)
    assert url_credentials.opened(api.account_sid, owner["sms_url"]) == new
    assert "n3w-pa55" not in everything_stored()


# ---------------------------------------------------------------- media, in the sender


def _mms(account_sid: str, url: str) -> Message:
    return Message(
        account_sid=account_sid, sid="MM" + "e" * 32, to=TO, from_=FROM, body="look",
        status="sending", created_ms=1, updated_ms=1, attempts=1,
        media_urls=[url_credentials.sealed(account_sid, url)],
    )  # fmt: skip


def test_the_sender_opens_a_media_urls_credentials_to_fetch_it(account):
    from chalicelib.outbound import media_fetch

    url = f"https://m:{SECRET}@cdn.example/a.png"
    message = _mms(account["account_sid"], url)
    assert SECRET not in message.media_urls[0]
    assert media_fetch.callable_urls(message) == [url]


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        (tokens.Unavailable("ThrottlingException"), "throttled"),
        (tokens.Unreadable("InvalidCiphertextException"), "refused 11200"),
    ],
)
def test_a_media_url_that_cannot_be_opened_is_never_fetched(account, monkeypatch, fault, outcome):
    """A KMS fault: the hand-off is Throttled (tried again later, nothing handed over);
    credentials that never open for this account: the message fails 11200. Either way
    nothing is fetched without them."""
    from chalicelib.carriers.base import Refused, Throttled
    from chalicelib.carriers.sandbox import Sandbox
    from chalicelib.outbound import media_fetch

    message = _mms(account["account_sid"], "https://m:pw@cdn.example/a.png")
    monkeypatch.setenv("HERALD_SANDBOX_FETCH_MEDIA", "1")

    def fails(*args):
        raise fault

    def never(urls):
        raise AssertionError(f"fetched {urls}")

    monkeypatch.setattr(tokens, "decrypt", fails)
    monkeypatch.setattr(media_fetch, "fetch_all", never)
    got = Sandbox().send(message)
    if outcome == "throttled":
        assert isinstance(got, Throttled) and "KMS" in got.reason
    else:
        assert isinstance(got, Refused) and got.error_code == 11200
