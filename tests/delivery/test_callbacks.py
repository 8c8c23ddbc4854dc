"""Status callback receivers that are down, failing, slow, redirecting or private: retried as
Twilio's `#rc=` fragment says (once by default), never followed elsewhere, never blocking a
status; every attempt recorded with the message and every request signed."""

import socket

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.storage import events
from tests.pipeline import create, fetched, receiver

# A number whose message goes straight from `sending` to `failed` (two callbacks).
REFUSED = "+15005550015"


def attempts(api, sid) -> list[dict]:
    return [e for e in events.of_message(api.account_sid, sid) if e["kind"] == "status-callback"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_receiver_that_is_down_is_retried_once_and_the_status_moves_on(line, api):
    sid = create(api, To=REFUSED, StatusCallback=f"http://127.0.0.1:{closed_port()}/cb")["sid"]
    line.drain()
    assert fetched(api, sid)["status"] == "failed"
    tried = attempts(api, sid)
    # Two status changes (sending, failed), each tried twice: once, and one retry.
    assert sorted((a["status"], a["attempt"]) for a in tried) == [
        ("failed", 1), ("failed", 2), ("sending", 1), ("sending", 2)
    ]  # fmt: skip
    assert all(a.get("error") == "refused" and a.get("answer") is None for a in tried)


def test_the_rc_fragment_sets_the_retries_and_is_never_sent(line, api, account):
    with receiver() as hook:
        hook.answers = [500] * 20
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb?k=v#rc=3&ct=900")["sid"]
        line.drain()
        # Each of the two callbacks: the first try and three retries.
        assert len(hook.requests) == 8
        validator = RequestValidator(account["auth_token"])
        for request in hook.requests:
            assert request.path == "/cb?k=v"
            signature = request.headers["X-Twilio-Signature"]
            assert validator.validate(hook.url + "/cb?k=v", request.form, signature)
    tried = attempts(api, sid)
    assert sorted((a["status"], a["attempt"]) for a in tried) == [
        (status, n) for status in ("failed", "sending") for n in (1, 2, 3, 4)
    ]
    assert {a.get("answer") for a in tried} == {500}


def test_rc_zero_means_no_retry(line, api):
    with receiver() as hook:
        hook.answers = [500] * 4
        create(api, To=REFUSED, StatusCallback=hook.url + "/cb#rc=0")
        line.drain()
        assert len(hook.requests) == 2


def test_a_server_error_then_success_is_one_retry(line, api):
    with receiver() as hook:
        hook.answers = [503]
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
        assert len(hook.requests) == 3  # sending: 503 then 200; failed: 200
        assert {r.headers["I-Twilio-Idempotency-Token"] for r in hook.requests} == {
            f"{sid}-sending",
            f"{sid}-failed",
        }
        assert {r.headers["User-Agent"] for r in hook.requests} == {"TwilioProxy/1.1"}


def test_a_slow_receiver_times_out_and_is_retried(line, api):
    with receiver() as hook:
        hook.answers = [("slow", 1.5)]
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb#tt=400")["sid"]
        line.drain()
    tried = attempts(api, sid)
    assert [a.get("error") for a in tried if a.get("error")] == ["timeout"]
    assert all(a["latency_ms"] < 1400 for a in tried)
    assert fetched(api, sid)["status"] == "failed"


def test_a_redirect_is_not_followed_nor_retried(line, api):
    with receiver() as hook:
        hook.answers = [("redirect", "http://169.254.169.254/latest/meta-data/")] * 2
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
        assert len(hook.requests) == 2  # one per status, no retry, nothing followed
    assert [a.get("answer") for a in attempts(api, sid)] == [302, 302]


def test_a_deployed_stage_never_calls_a_private_address(line, api, monkeypatch):
    monkeypatch.setenv("HERALD_ALLOW_PRIVATE_URLS", "0")
    with receiver() as hook:
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
        assert hook.requests == []
    tried = attempts(api, sid)
    assert len(tried) == 2 and all(a.get("error") == "private address" for a in tried)
    assert fetched(api, sid)["status"] == "failed"


def test_attempts_are_recorded_without_query_strings(line, api):
    with receiver() as hook:
        sid = create(api, StatusCallback=hook.url + "/cb?token=secret")["sid"]
        line.drain()
    tried = attempts(api, sid)
    assert {a["status"] for a in tried} == {"sending", "sent", "delivered"}
    assert all(a["url"] == hook.url + "/cb" and a["signed"] is True for a in tried)
    assert all(a.get("answer") == 200 and isinstance(a["latency_ms"], int) for a in tried)


@pytest.mark.parametrize("url", ["", None])
def test_no_status_callback_means_no_callback_job(line, api, url):
    params = {} if url is None else {"StatusCallback": url}
    sid = create(api, **params)["sid"]
    line.drain()
    assert attempts(api, sid) == [] and fetched(api, sid)["status"] == "delivered"


def test_a_2xx_with_a_body_over_64_kib_is_delivered_and_not_read(line, api):
    """Only a callback answer's status counts (Twilio's too): a 200 with a big page once
    counted as failed ("too large") and was retried."""
    big = "x" * (200 * 1024)
    with receiver() as hook:
        hook.answers = [(200, "text/html", big)] * 3
        sid = create(api, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
        assert len(hook.requests) == 3  # sending, sent, delivered: none retried
    tried = attempts(api, sid)
    assert sorted(a["status"] for a in tried) == ["delivered", "sending", "sent"]
    assert all(a.get("answer") == 200 and a.get("error") is None for a in tried), tried


def test_with_record_attempts_failures_only_failed_attempts_are_written(line, api, monkeypatch):
    """End User Messaging stages' default: a callback answered 2xx costs no write; one that
    failed is still recorded, for the inbox and for whoever looks into it."""
    monkeypatch.setenv("HERALD_RECORD_ATTEMPTS", "failures")
    with receiver() as hook:
        hook.answers = [503]
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
        assert len(hook.requests) == 3  # one 503 then 200 again; the other 200
    # Whichever of the two callbacks met the 503 (a batch's jobs run at once): that one
    # attempt only.
    ((status, attempt, answer),) = [
        (a["status"], a["attempt"], a["answer"]) for a in attempts(api, sid)
    ]
    assert status in ("sending", "failed") and (attempt, answer) == (1, 503)


def test_every_attempt_is_recorded_by_default_on_the_sandbox(line, api):
    with receiver() as hook:
        sid = create(api, To=REFUSED, StatusCallback=hook.url + "/cb")["sid"]
        line.drain()
    assert sorted(a["status"] for a in attempts(api, sid)) == ["failed", "sending"]


def test_end_user_messaging_stages_record_only_failed_attempts_unless_told(monkeypatch):
    from chalicelib.runtime import config

    monkeypatch.setenv("HERALD_CARRIER", "end-user-messaging")
    monkeypatch.delenv("HERALD_RECORD_ATTEMPTS", raising=False)
    assert config.delivery().record_every_attempt is False
    monkeypatch.setenv("HERALD_RECORD_ATTEMPTS", "all")
    assert config.delivery().record_every_attempt is True
