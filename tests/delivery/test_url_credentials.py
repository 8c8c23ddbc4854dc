"""On the pipeline: credentials in users' URLs are sent as written (Basic auth, and a signature
over the URL without them) and never appear in plain text anywhere Herald keeps or says
anything (issue 14's follow-up, item 1); a passing KMS fault never makes a callback or a
webhook go out unsigned or without its credentials: the job comes back (item 2)."""

import base64
import json

import pytest
from twilio.request_validator import RequestValidator

import admin
from chalicelib.accounts import credentials as auth
from chalicelib.delivery import dispatch
from chalicelib.runtime import config
from chalicelib.storage import client, events, queues, schema, tokens, url_credentials
from tests.logs import total
from tests.pipeline import create, fetched, received, receiver, register, twiml

SECRETS = {
    "callback": "cb-s3cret",
    "media": "m-s3cret",
    "webhook": "wh-s3cret",
    "handset": "hs-s3cret",
}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def with_credentials(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{user}:{password}@")


def everything_stored() -> str:
    items = client.client().scan(TableName=config.load().table_name)["Items"]
    return json.dumps(items)


@pytest.fixture
def seen(monkeypatch):
    """Every stream event the dispatcher reads and every job queued, as text."""
    texts: list[str] = []
    real_handle, real_send, real_many = dispatch.handle, queues.send, queues.send_many

    def handle(event):
        texts.append(json.dumps(event, default=str))
        return real_handle(event)

    def send(url, body, delay_seconds=0):
        texts.append(json.dumps(body))
        return real_send(url, body, delay_seconds)

    def send_many(url, bodies):
        texts.append(json.dumps(bodies))
        return real_many(url, bodies)

    monkeypatch.setattr(dispatch, "handle", handle)
    monkeypatch.setattr(queues, "send", send)
    monkeypatch.setattr(queues, "send_many", send_many)
    return texts


def inbox_json(api, sid: str) -> str:
    response = api.request("GET", f"/inbox/api/Accounts/{api.account_sid}/Messages/{sid}.json")
    assert response.status_code == 200, response.body
    return response.body.decode()


def test_credentials_go_to_the_receiver_and_nowhere_else(
    line, api, account, seen, capfd, monkeypatch
):
    monkeypatch.setenv("HERALD_SANDBOX_FETCH_MEDIA", "1")
    validator = RequestValidator(account["auth_token"])
    with receiver() as hook, receiver() as media:
        media.answers = [(200, "image/png", "png")]
        callback = with_credentials(hook.url, "cb", SECRETS["callback"]) + "/status?k=1#rc=0"
        media_url = with_credentials(media.url, "m", SECRETS["media"]) + "/a.png"
        sent = create(api, StatusCallback=callback, MediaUrl=media_url)
        line.drain()
        (fetch,) = media.requests
        assert fetch.method == "GET" and fetch.headers["Authorization"] == basic(
            "m", SECRETS["media"]
        )
        statuses = [r for r in hook.requests if r.path == "/status?k=1"]
        assert sorted(r.form["MessageStatus"] for r in statuses) == ["delivered", "sending", "sent"]
        for request in statuses:
            assert request.headers["Authorization"] == basic("cb", SECRETS["callback"])
            signature = request.headers["X-Twilio-Signature"]
            assert validator.validate(hook.url + "/status?k=1", request.form, signature)

        # A webhook with credentials, a text whose MediaUrl has some, and a reply whose
        # relative `action` takes the webhook's.
        hook.requests.clear()
        hook.answers = [(200, "text/xml", twiml('<Message action="/reply">ok</Message>'))]
        sms_url = with_credentials(hook.url, "wh", SECRETS["webhook"]) + "/sms"
        number = register(api, SmsUrl=sms_url)
        handset_media = with_credentials(media.url, "hs", SECRETS["handset"]) + "/b.png"
        inbound = received(api, line, MediaUrl=handset_media)
        webhook, *replies = hook.requests
        assert webhook.headers["Authorization"] == basic("wh", SECRETS["webhook"])
        assert validator.validate(
            hook.url + "/sms", webhook.form, webhook.headers["X-Twilio-Signature"]
        )
        assert webhook.form["MediaUrl0"] == handset_media  # what the handset sent
        assert [r.path for r in replies] == ["/reply"] * 3
        for request in replies:
            assert request.headers["Authorization"] == basic("wh", SECRETS["webhook"])
            signature = request.headers["X-Twilio-Signature"]
            assert validator.validate(hook.url + "/reply", request.form, signature)

    reply_sid = replies[0].form["MessageSid"]
    answers = [
        json.dumps(number),
        json.dumps(fetched(api, sent["sid"])),
        api.list().body.decode(),
        api.request("GET", api.base + "/IncomingPhoneNumbers.json").body.decode(),
        *(inbox_json(api, sid) for sid in (sent["sid"], inbound["sid"], reply_sid)),
    ]
    assert number["sms_url"] == with_credentials(hook.url, "wh", "****") + "/sms"
    kept = {
        "the table": everything_stored(),
        "the stream and the queue jobs": "\n".join(seen),
        "the logs": "".join(capfd.readouterr()),
        "the answers and the inbox": "\n".join(answers),
    }
    assert seen and kept["the logs"]
    for where, text in kept.items():
        for secret in SECRETS.values():
            assert secret not in text, f"{secret} in {where}"


def failing(real, times: int, calls: list):
    """`real`, raising tokens.Unavailable (a throttled KMS) on its first `times` calls."""

    def call(*args):
        calls.append(args[0])
        if len(calls) <= times:
            raise tokens.Unavailable("ThrottlingException")
        return real(*args)

    return call


def test_a_kms_fault_on_a_urls_credentials_sends_nothing_and_the_job_comes_back(
    line, api, account, monkeypatch
):
    calls: list = []
    monkeypatch.setattr(tokens, "decrypt", failing(tokens.decrypt, 2, calls))
    with receiver() as hook:
        create(api, StatusCallback=with_credentials(hook.url, "cb", "pw") + "/cb")
        line.drain()
    assert len(calls) >= 3  # two faults, then the URL opened
    # Each status once (a job that came back may arrive after a later one).
    statuses = sorted(r.form["MessageStatus"] for r in hook.requests)
    assert statuses == ["delivered", "sending", "sent"]
    assert all(r.headers.get("Authorization") == basic("cb", "pw") for r in hook.requests)


@pytest.mark.parametrize("kind", ["status callback", "webhook"])
def test_a_kms_fault_on_the_auth_token_never_sends_unsigned(line, api, account, monkeypatch, kind):
    """Item 2: it used to go out unsigned (a receiver that validates refuses it); now the
    job comes back through the queue and goes out signed once KMS answers."""
    calls: list = []
    monkeypatch.setattr(tokens, "decrypt_token", failing(tokens.decrypt_token, 3, calls))
    validator = RequestValidator(account["auth_token"])
    with receiver() as hook:
        if kind == "webhook":
            register(api, SmsUrl=hook.url + "/sms")
            received(api, line)
        else:
            create(api, StatusCallback=hook.url + "/cb")
            line.drain()
    assert len(calls) > 3 and hook.requests
    for request in hook.requests:
        url = hook.url + request.path
        assert validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", ""))


def test_a_kms_that_stays_down_gives_the_callback_up_unsent(line, api, account, monkeypatch):
    calls: list = []
    monkeypatch.setattr(tokens, "decrypt_token", failing(tokens.decrypt_token, 10**6, calls))
    with receiver() as hook:
        sid = create(api, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
    assert hook.requests == []  # never unsigned
    given_up = [
        e for e in events.of_message(api.account_sid, sid) if "given up" in str(e.get("error"))
    ]
    assert len(given_up) == 3  # sending, sent, delivered: each recorded, none lost silently
    assert all("KMS" in e["error"] for e in given_up)


def test_another_accounts_credentials_copied_onto_a_number_are_not_sent(line, api, account):
    other = admin.create_account()
    theirs = url_credentials.sealed(other["account_sid"], "http://u:theirs@127.0.0.1:9/sms")
    with receiver() as hook:
        register(api, SmsUrl=hook.url + "/sms")
        # Someone with write access to the table copies the other account's ciphertext in.
        from tests.pipeline import FROM

        copied = theirs.replace("127.0.0.1:9", hook.url.removeprefix("http://"))
        client.client().update_item(
            TableName=config.load().table_name,
            Key=schema.owner_key(FROM),
            UpdateExpression="SET sms_url = :url",
            ExpressionAttributeValues={":url": {"S": copied}},
        )
        inbound = received(api, line)
    assert hook.requests == []
    (webhook,) = [
        e for e in events.of_message(api.account_sid, inbound["sid"]) if e["kind"] == "webhook"
    ]
    assert webhook["error"] == "unreadable credentials"


def test_an_account_without_an_encrypted_token_is_sent_unsigned_and_told_how_to_rekey(
    line, api, account, capfd
):
    """Item 2's other case: an account made by a create-account older than the rule has no
    ciphertext. Its callbacks still go (unsigned, as before), each counted and logged with
    the command that re-keys it; that command, as the line says it, makes them signed."""
    sid, token = account["account_sid"], account["auth_token"]
    client.client().update_item(
        TableName=config.load().table_name,
        Key=schema.account_key(sid),
        UpdateExpression="REMOVE token_ciphertext",
    )
    auth.forget()
    with receiver() as hook:
        create(api, StatusCallback=hook.url + "/cb")
        line.drain()
        assert len(hook.requests) == 3
        assert not any("X-Twilio-Signature" in r.headers for r in hook.requests)
        lines = [json.loads(x) for x in capfd.readouterr().out.splitlines() if x.startswith("{")]
        unsigned = [x for x in lines if x["event"] == "callback.unsigned"]
        # Each counted once: the callbacks invocations' lines carry the sum (one a batch).
        assert len(unsigned) == 3 and total(lines, "CallbacksUnsigned") == 3
        command = unsigned[0]["reason"].split("`")[1]
        assert command.startswith(".venv/bin/python -m admin create-account")
        typed = command.replace("<its AuthToken>", token).split()
        assert admin.main(typed[3:]) == 0
        auth.forget()  # as every container does within auth.CACHE_SECONDS
        hook.requests.clear()
        create(api, StatusCallback=hook.url + "/cb")
        line.drain()
    validator = RequestValidator(token)
    assert len(hook.requests) == 3
    for request in hook.requests:
        signature = request.headers.get("X-Twilio-Signature", "")
        assert validator.validate(hook.url + "/cb", request.form, signature)
