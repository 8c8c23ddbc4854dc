"""Never lost, never sent twice: the worker and the dispatcher killed between each step,
duplicated and racing jobs, duplicate and out-of-order receipts, a throttling carrier.

A kill is a BaseException raised at the chosen point: it escapes the handler as a dying
process would, so the event source hands the whole batch over again (a queue's jobs after
their visibility timeout, 1 s here; a stream's records at once). "Later" is the clock moved
past the claim's lease and a real wait past the visibility timeout.
"""

import threading

import pytest

from chalicelib import messages
from chalicelib.carriers import events
from chalicelib.carriers.sandbox import Sandbox
from chalicelib.delivery import dispatch, receipts, worker
from chalicelib.jobs import batch
from chalicelib.runtime import clock, config
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import queues
from tests.pipeline import create, drain_until_killed, fetched, kill_once

# The guarantees hold on make run's in-memory AWS (devtools/memory_aws) as on moto's.
ENGINES = ["moto", "memory"]


def test_killed_after_receiving_before_claiming(line, api, monkeypatch, lease_expires):
    kill_once(monkeypatch, worker.stored_messages, "get_message")
    sid = create(api)["sid"]
    drain_until_killed(line)
    assert fetched(api, sid)["status"] == "queued"
    lease_expires()
    line.drain()
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1


def test_killed_after_claiming_before_the_hand_off(line, api, monkeypatch, lease_expires):
    kill_once(monkeypatch, Sandbox, "send")
    sid = create(api)["sid"]
    drain_until_killed(line)
    assert fetched(api, sid)["status"] == "sending"
    lease_expires()
    line.drain()
    # Nobody knows the claim's outcome: failed, and never handed over.
    message = fetched(api, sid)
    assert (message["status"], message["error_code"]) == ("failed", 30008)
    assert line.calls[sid] == 0


def test_killed_after_the_hand_off_before_recording_it(line, api, monkeypatch, lease_expires):
    kill_once(monkeypatch, Sandbox, "send", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    # The carrier's receipts come in seconds, well within the dead worker's lease...
    line.drain()
    lease_expires()
    line.drain()
    # ...and tell what the worker could not: handed over once, delivered.
    assert fetched(api, sid)["status"] == "delivered"
    assert line.handoffs[sid] == 1 and line.calls[sid] == 1


def test_killed_after_the_hand_off_with_no_receipt_ever(line, api, monkeypatch, lease_expires):
    monkeypatch.setattr("chalicelib.carriers.sandbox._receipts", lambda *_args: None)
    kill_once(monkeypatch, Sandbox, "send", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    lease_expires()
    line.drain()
    message = fetched(api, sid)
    assert (message["status"], message["error_code"]) == ("failed", 30008)
    assert line.calls[sid] == 1  # handed over once, and never again


def test_killed_after_recording_before_the_job_is_acknowledged(
    line, api, monkeypatch, lease_expires
):
    sender = line.source("sender")
    kill_once(monkeypatch, sender, "handler", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    lease_expires()
    line.drain()
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1


def test_the_dispatcher_killed_before_queueing_loses_nothing(line, api, monkeypatch):
    kill_once(monkeypatch, dispatch.queues, "send_many")
    sid = create(api)["sid"]
    drain_until_killed(line)
    line.drain()  # the stream hands the same records over again at once
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1


def test_duplicate_send_jobs_hand_over_once(line, api):
    sid = create(api)["sid"]
    job = {"kind": "send", "account_sid": api.account_sid, "sid": sid}
    for _ in range(3):
        queues.send(line.env["HERALD_SEND_QUEUE_URL"], job)
    line.drain()
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1


def race_workers(api, sids: list[str], workers: int = 8) -> None:
    """For each message, `workers` workers given its send job at the same instant."""
    start = threading.Barrier(workers)
    failures = []

    def race(sid):
        start.wait()
        try:
            worker.send_one(batch.Job({"account_sid": api.account_sid, "sid": sid}, "m", "r", 1))
        except batch.RetryLater:
            pass  # found it claimed by another racer
        except Exception as error:  # reported below
            failures.append(error)

    for sid in sids:
        start.reset()
        threads = [threading.Thread(target=race, args=(sid,)) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not failures


def test_two_workers_racing_hand_over_once(line, api, monkeypatch):
    monkeypatch.setattr("chalicelib.delivery.dispatch.queues.send_many", lambda *_a: None)
    sids = [create(api)["sid"] for _ in range(5)]
    line.drain()  # the dispatcher queues nothing: the racers below are the only workers
    race_workers(api, sids)
    line.drain()
    for sid in sids:
        assert line.calls[sid] == 1, sid
        assert fetched(api, sid)["status"] == "delivered"


def send_job(api, sid: str) -> batch.Job:
    return batch.Job({"kind": "send", "account_sid": api.account_sid, "sid": sid}, "m", "r", 1)


def stored(api, sid: str) -> messages.Message:
    return messages.Message.from_fields(stored_messages.get_message(api.account_sid, sid))


def released_after_a_throttle(line, api, monkeypatch) -> str:
    """A message whose first hand-off the carrier throttled: sending, its claim released,
    waiting for the retry. No job of the dispatcher's: the tests' calls are the only workers."""
    monkeypatch.setattr("chalicelib.delivery.dispatch.queues.send_many", lambda *_a: None)
    sid = create(api)["sid"]
    line.drain()
    monkeypatch.setenv("HERALD_SANDBOX_THROTTLE", "1")
    with pytest.raises(batch.RetryLater):
        worker.send_one(send_job(api, sid))
    message = stored(api, sid)
    assert (message.status, message.claim, message.attempts) == ("sending", None, 1)
    return sid


def test_workers_racing_for_the_retry_after_a_throttle_hand_over_once(line, api, monkeypatch):
    sids = [released_after_a_throttle(line, api, monkeypatch) for _ in range(5)]
    race_workers(api, sids)
    for sid in sids:
        # The throttled hand-off, then exactly one more: one racer's claim won.
        assert (line.calls[sid], line.handoffs[sid]) == (2, 1), sid
        message = stored(api, sid)
        assert (message.status, message.attempts) == ("sent", 2), sid


def test_a_retry_overtaken_by_another_claim_and_throttle_claims_nothing(line, api, monkeypatch):
    """Between a worker's read of the released message and its claim, another worker claims
    it, is throttled again and releases it: the claim is absent again, as the first worker
    read it, but the attempt it read is gone. Its claim must lose, or it would hand over on
    a stale count (and overwrite the other's attempt)."""
    sid = released_after_a_throttle(line, api, monkeypatch)
    monkeypatch.setenv("HERALD_SANDBOX_THROTTLE", "2")  # the overtaker is throttled too
    real = worker.stored_messages.get_message
    overtaken = {"yet": False}

    def read_then_overtaken(*args):
        fields = real(*args)
        if not overtaken["yet"]:
            overtaken["yet"] = True
            with pytest.raises(batch.RetryLater):
                worker.send_one(send_job(api, sid))  # the overtaker: claims, throttled
        return fields

    monkeypatch.setattr(worker.stored_messages, "get_message", read_then_overtaken)
    worker.send_one(send_job(api, sid))  # the overtaken worker: its claim lost
    message = stored(api, sid)
    assert (message.status, message.claim, message.attempts) == ("sending", None, 2)
    assert (line.calls[sid], line.handoffs[sid]) == (2, 0)


def test_duplicate_and_late_receipts_change_nothing(line, api):
    sid = create(api)["sid"]
    line.drain()
    assert fetched(api, sid)["status"] == "delivered"
    before = fetched(api, sid)
    for event_type in ("TEXT_DELIVERED", "TEXT_SUCCESSFUL", "TEXT_UNREACHABLE", "TEXT_QUEUED"):
        event = events.event(event_type, api.account_sid, sid, "x", clock.now_ms(), "+1", None)
        assert receipts.apply(events.parse(event)) is False
    assert fetched(api, sid) == before


def test_a_receipt_that_overtakes_the_worker_wins_and_sets_date_sent(line, api, monkeypatch):
    # The carrier's "delivered" lands while the worker has not yet recorded "sent".
    sid = create(api)["sid"]
    real_send = Sandbox.send

    def overtaken(self, message):
        event = events.event(
            "TEXT_DELIVERED", message.account_sid, message.sid, "c1", clock.now_ms(), "+1", None
        )
        assert receipts.apply(events.parse(event))
        return real_send(self, message)

    monkeypatch.setattr(Sandbox, "send", overtaken)
    line.drain()
    message = fetched(api, sid)
    assert message["status"] == "delivered" and message["date_sent"] is not None
    history = [h["status"] for h in messages.fetch(api.account_sid, sid).history]
    assert history == ["queued", "sending", "delivered"]


def test_a_throttling_carrier_is_retried_with_backoff_then_takes_it(line, api, monkeypatch):
    monkeypatch.setenv("HERALD_SANDBOX_THROTTLE", "2")
    sid = create(api)["sid"]
    line.drain()
    message = messages.fetch(api.account_sid, sid)
    assert message.status == "delivered" and message.attempts == 3
    assert line.calls[sid] == 3 and line.handoffs[sid] == 1


def test_a_carrier_that_always_throttles_fails_the_message_after_bounded_attempts(line, api):
    sid = create(api, To="+15005550016")["sid"]
    line.drain()
    message = messages.fetch(api.account_sid, sid)
    assert (message.status, message.error_code) == ("failed", 30001)
    assert line.calls[sid] == config.delivery().max_send_attempts
    assert line.handoffs[sid] == 0


def test_an_expired_validity_period_fails_before_the_hand_off(line, api, monkeypatch):
    sid = create(api, ValidityPeriod="5")["sid"]
    real = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: real() + 6_000)
    line.drain()
    message = fetched(api, sid)
    # Twilio's 30036, Validity Period Expired: never sent late.
    assert (message["status"], message["error_code"]) == ("failed", 30036)
    assert line.calls[sid] == 0


def test_a_deleted_waiting_message_is_withdrawn_not_sent(line, api, monkeypatch):
    monkeypatch.setattr("chalicelib.delivery.dispatch.queues.send_many", lambda *_a: None)
    sid = create(api)["sid"]
    line.drain()
    assert api.delete(sid).status_code == 204
    job = {"kind": "send", "account_sid": api.account_sid, "sid": sid}
    worker.send_one(batch.Job(job, "m", "r", 1))
    assert line.calls[sid] == 0 and stored_messages.get_message(api.account_sid, sid) is None
