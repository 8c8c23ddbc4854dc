"""Batch handlers within their invocation's time: a batch's jobs run at once, every call to a
user's URL ends with the time left, a job with too little time comes back alone instead of
being killed with its batch, and a job on its last receive settles its message instead of
going to the dead-letter queue with the message stranded.

The handlers are called as Lambda calls them, with a context whose remaining time counts
down (devtools.event_sources.Context, the one `make run` passes too), on batches received
from the pipeline's own queues; ApproximateReceiveCount is set by hand where a test needs a
job's last receive.
"""

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import admin
from chalicelib import messages
from chalicelib.carriers import events as carrier_events
from chalicelib.carriers.end_user_messaging import EndUserMessaging
from chalicelib.carriers.sandbox import Sandbox
from chalicelib.delivery import callbacks, receipts, sources, worker
from chalicelib.jobs import batch
from chalicelib.runtime import clock
from chalicelib.storage import events, queues
from devtools import local_workers
from devtools.event_sources import Context
from tests.pipeline import Killed, create, fetched, kill_once, receiver

CALLBACKS = "HERALD_CALLBACK_QUEUE_URL"
ROOT = Path(__file__).resolve().parents[2]


def received(line, variable: str, source: str, bodies: list[dict], receive_count=None):
    """Queue `bodies`, receive them back as Lambda's records, in the order given."""
    for body in bodies:
        queues.send(line.env[variable], body)
    records: list[dict] = []
    for _ in range(50):
        records += line.source(source).receive()
        if len(records) >= len(bodies):
            break
    order = [body["sid"] for body in bodies]
    records.sort(key=lambda r: order.index(batch._body(r["body"])["sid"]))
    for record in records:
        if receive_count is not None:
            record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return records


def callback_job(account_sid: str, sid: str, url: str) -> dict:
    params = {"MessageSid": sid, "MessageStatus": "sent", "AccountSid": account_sid}
    return {
        "kind": "callback", "account_sid": account_sid, "sid": sid, "url": url,
        "method": "POST", "status": "sent", "params": params,
    }  # fmt: skip


def attempts(account_sid: str, sid: str) -> list[dict]:
    return [e for e in events.of_message(account_sid, sid) if e["kind"] == "status-callback"]


def failed_ids(result: dict) -> list[str]:
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def test_a_batch_runs_its_jobs_at_once_so_a_slow_url_holds_up_no_other(line, account):
    other = admin.create_account()
    fast_called, slow_saw_it = threading.Event(), []
    with receiver() as slow, receiver() as fast:
        # The slow receiver answers once the fast one has been called, or after 5 s.
        slow.answers = [lambda: slow_saw_it.append(fast_called.wait(5)) or 200]
        fast.answers = [lambda: fast_called.set() or 200]
        slow_job = callback_job(account["account_sid"], "SM" + "a" * 32, slow.url + "/cb")
        fast_job = callback_job(other["account_sid"], "SM" + "b" * 32, fast.url + "/cb")
        records = received(line, CALLBACKS, "callbacks", [slow_job, fast_job])
        result = callbacks.handle({"Records": records}, Context("callbacks"))
    assert failed_ids(result) == []
    # Another account's callback went out while the slow one was still waiting.
    assert slow_saw_it == [True]


def test_a_call_ends_with_the_invocations_time_and_its_job_comes_back_alone(line, account):
    release = threading.Event()
    with receiver() as slow, receiver() as fast:
        # Would answer 200 after 10 s: longer than the invocation has.
        slow.answers = [lambda: (release.wait(10) and 200) or 200]
        slow_job = callback_job(account["account_sid"], "SM" + "a" * 32, slow.url + "/cb")
        fast_job = callback_job(account["account_sid"], "SM" + "b" * 32, fast.url + "/cb")
        records = received(line, CALLBACKS, "callbacks", [slow_job, fast_job])
        try:
            # 4 s left: 2 s for the jobs, the rest kept for recording and answering.
            result = callbacks.handle({"Records": records}, Context("callbacks", timeout_ms=4000))
        finally:
            release.set()
    assert failed_ids(result) == [records[0]["messageId"]]
    (slow_attempt,) = attempts(account["account_sid"], slow_job["sid"])
    assert slow_attempt.get("answer") is None and slow_attempt["error"] == "timeout"
    (fast_attempt,) = attempts(account["account_sid"], fast_job["sid"])
    assert fast_attempt["answer"] == 200


def test_a_job_with_too_little_time_left_is_not_started_and_comes_back_at_once(line, account):
    with receiver() as hook:
        job = callback_job(account["account_sid"], "SM" + "c" * 32, hook.url + "/cb")
        records = received(line, CALLBACKS, "callbacks", [job])
        result = callbacks.handle({"Records": records}, Context("callbacks", timeout_ms=2500))
        assert failed_ids(result) == [records[0]["messageId"]]
        assert hook.requests == [] and attempts(account["account_sid"], job["sid"]) == []
        # Visible again at once, not after the queue's visibility timeout.
        again = line.source("callbacks").receive()
        assert [r["messageId"] for r in again] == [records[0]["messageId"]]
        line.source("callbacks").invoke(again)
        assert len(hook.requests) == 1


def send_records(line, sid: str, receive_count=None) -> list[dict]:
    line.source("dispatcher").poll()  # the create's stream record: its send job
    records = line.source("sender").receive()
    assert [batch._body(r["body"])["sid"] for r in records] == [sid]
    for record in records:
        if receive_count is not None:
            record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return records


def test_the_sender_claims_only_with_time_left_for_the_hand_off(line, api):
    sid = create(api)["sid"]
    records = send_records(line, sid)
    result = worker.handle({"Records": records}, Context("sender", timeout_ms=3000))
    assert failed_ids(result) == [records[0]["messageId"]]
    message = messages.fetch(api.account_sid, sid)
    assert (message.status, message.attempts, line.calls[sid]) == ("queued", 0, 0)
    line.drain()
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1


def test_a_send_job_on_its_last_receive_fails_its_waiting_message_with_a_reason(line, api):
    sid = create(api)["sid"]
    records = send_records(line, sid, receive_count=sources.SEND_MAX_RECEIVES)
    result = worker.handle({"Records": records}, Context("sender", timeout_ms=3000))
    assert failed_ids(result) == []  # settled: nothing for the dead-letter queue
    message = messages.fetch(api.account_sid, sid)
    assert (message.status, message.error_code) == ("failed", 30001)
    assert "not handed over in 20 tries (out of time" in message.error_message
    assert [(h["status"], h.get("error_code")) for h in message.history] == [
        ("queued", None), ("failed", 30001)
    ]  # fmt: skip
    assert line.calls[sid] == 0


def test_a_send_job_on_its_last_receive_leaves_a_live_claim_to_a_fresh_job(
    line, api, monkeypatch, lease_expires
):
    sid = create(api)["sid"]
    kill_once(monkeypatch, Sandbox, "send")  # the worker dies after claiming
    first = send_records(line, sid)
    with pytest.raises(Killed):
        worker.handle({"Records": first}, Context("sender"))
    assert fetched(api, sid)["status"] == "sending"
    time.sleep(1.2)  # the job's visibility timeout
    again = line.source("sender").receive()
    again[0]["attributes"]["ApproximateReceiveCount"] = str(sources.SEND_MAX_RECEIVES)
    queued = []
    real_send = queues.send
    monkeypatch.setattr(
        worker.queues, "send", lambda url, body, delay_seconds=0: queued.append(
            (body, delay_seconds)) or real_send(url, body)
    )  # fmt: skip
    result = worker.handle({"Records": again}, Context("sender"))
    # The claimer may still be handing it over: a fresh job looks after its lease.
    assert failed_ids(result) == []
    assert [(body["sid"], delay > 0) for body, delay in queued] == [(sid, True)]
    assert fetched(api, sid)["status"] == "sending"
    lease_expires()
    line.drain()
    message = fetched(api, sid)
    assert (message["status"], message["error_code"]) == ("failed", 30008)
    assert line.calls[sid] == 0


def test_a_callback_job_on_its_last_receive_is_recorded_as_given_up(line, account):
    with receiver() as hook:
        job = callback_job(account["account_sid"], "SM" + "d" * 32, hook.url + "/cb")
        records = received(
            line, CALLBACKS, "callbacks", [job], receive_count=sources.CALLBACK_MAX_RECEIVES
        )
        result = callbacks.handle({"Records": records}, Context("callbacks", timeout_ms=2500))
        assert failed_ids(result) == [] and hook.requests == []
    (given_up,) = attempts(account["account_sid"], job["sid"])
    assert given_up["error"].startswith("given up: out of time")
    assert given_up["status"] == "sent" and given_up["url"] == hook.url + "/cb"


def test_a_receipt_on_its_last_receive_is_kept_and_its_message_says_so(line, api, monkeypatch):
    sid = create(api, To="+15005550010")["sid"]  # sent, and no receipt follows
    line.drain()

    def unavailable(*_args, **_kwargs):
        raise RuntimeError("the table is unavailable")

    monkeypatch.setattr(receipts.lifecycle, "transition", unavailable)
    event = carrier_events.event(
        "TEXT_UNREACHABLE", api.account_sid, sid, "c1", clock.now_ms(), "+1", None
    )
    queues.send(line.env["HERALD_RECEIPT_QUEUE_URL"], event)
    records = line.source("receipts").receive()
    records[0]["attributes"]["ApproximateReceiveCount"] = str(sources.RECEIPT_MAX_RECEIVES)
    result = receipts.handle({"Records": records}, Context("receipts"))
    # Left for the dead-letter queue, whence it can be moved back and applied.
    assert failed_ids(result) == [records[0]["messageId"]]
    (noted,) = [e for e in events.of_message(api.account_sid, sid) if e["kind"] == "receipt"]
    assert noted["error"].startswith("TEXT_UNREACHABLE not applied, in the dead-letter queue")


def test_the_local_context_counts_down_as_lambdas_does():
    assert (
        Context(
            "x", timeout_ms=30_000, started=time.monotonic() - 29.5
        ).get_remaining_time_in_millis()
        <= 500
    )
    assert (
        Context(
            "x", timeout_ms=30_000, started=time.monotonic() - 40
        ).get_remaining_time_in_millis()
        == 0
    )


class FakeQueue:
    """A queue source that hands out two batches; the first waits (up to 5 s) for the
    second to start."""

    name = "fake"

    def __init__(self):
        self.batches = [["first"], ["second"]]
        self.second_started = threading.Event()
        self.first_saw_second: list[bool] = []

    def receive(self):
        return self.batches.pop(0) if self.batches else []

    def invoke(self, records):
        if records == ["first"]:
            self.first_saw_second.append(self.second_started.wait(5))
        else:
            self.second_started.set()


def test_make_run_handles_several_batches_of_a_queue_at_once_as_lambda_does():
    source, stop = FakeQueue(), threading.Event()
    thread = threading.Thread(target=local_workers._poll_queue, args=(source, stop))
    thread.start()
    try:
        assert source.second_started.wait(10)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and source.first_saw_second == [True]


def sender_timeout_seconds(stage: str = "prod") -> int:
    chalice = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    return (
        chalice["lambda_functions"].get("sender", {}).get("lambda_timeout")
        or chalice["lambda_timeout"]
    )


@pytest.mark.parametrize("media", [[], ["https://example.com/a.png"]], ids=["sms", "mms"])
@pytest.mark.parametrize("carrier", [Sandbox(), EndUserMessaging()], ids=lambda c: c.name)
def test_every_hand_off_fits_in_a_fresh_invocation_of_the_sender(monkeypatch, carrier, media):
    # Else a message could never be claimed: every job would come back out of time.
    monkeypatch.setenv("HERALD_SANDBOX_FETCH_MEDIA", "1")
    message = SimpleNamespace(media_urls=media)
    assert carrier.handoff_seconds(message) <= sender_timeout_seconds() - batch.RESERVE_SECONDS


def test_a_webhook_fallback_with_no_time_left_comes_back_with_its_job(line, api):
    release = threading.Event()
    with receiver() as sms_url, receiver() as fallback:
        sms_url.answers = [lambda: (release.wait(10) and 200) or 200]  # then 200 at once
        response = api.request(
            "POST",
            api.base + "/IncomingPhoneNumbers.json",
            params={"PhoneNumber": "+15005550006", "SmsUrl": sms_url.url + "/sms",
                    "SmsFallbackUrl": fallback.url + "/fallback"},
        )  # fmt: skip
        assert response.status_code == 201
        inbound = api.request(
            "POST",
            api.base + "/Sandbox/Inbound.json",
            params={"From": "+14155550142", "To": "+15005550006", "Body": "hi"},
        )
        assert inbound.status_code == 201
        line.source("receipts").poll()  # the text is stored...
        line.source("dispatcher").poll()  # ...and its webhook job queued
        records = line.source("callbacks").receive()
        try:
            # 2 s for the job: the SmsUrl is cut off there, and nothing is left to start
            # the fallback with.
            result = callbacks.handle({"Records": records}, Context("callbacks", timeout_ms=4000))
        finally:
            release.set()
        assert failed_ids(result) == [records[0]["messageId"]]
        assert len(sms_url.requests) == 1 and fallback.requests == []
        line.drain()  # back at once, with a whole invocation's time: the SmsUrl answers
        assert len(sms_url.requests) == 2 and fallback.requests == []
