"""Scheduled sends on a moved clock: handed over at SendAt, exactly once, and a cancel that
races the dispatch either wins (nothing is sent) or loses cleanly with 30409 (it is sent)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import messages
from chalicelib.delivery import scheduler
from chalicelib.runtime import clock
from chalicelib.twilio import errors
from tests.pipeline import create, fetched
from tests.services.helpers import make_service, service_of


@pytest.fixture
def moved(monkeypatch):
    """Call it with seconds to move Herald's clock forward."""
    offset = {"ms": 0}
    real = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: real() + offset["ms"])

    def move(seconds: float) -> None:
        offset["ms"] += int(seconds * 1000)

    return move


def scheduled(api, minutes: int = 10, **extra) -> dict:
    """A message scheduled `minutes` ahead: through a Messaging Service (scheduling asks
    for one, 35118), from the tests' From unless `extra` says otherwise."""
    send_at = datetime.now(UTC) + timedelta(minutes=minutes)
    extra.setdefault("MessagingServiceSid", service_of(api.account_sid))
    return create(api, ScheduleType="fixed", SendAt=send_at.strftime("%Y-%m-%dT%H:%M:%SZ"), **extra)


def test_a_scheduled_message_waits_for_its_send_at_then_goes_once(line, api, moved):
    sid = scheduled(api)["sid"]
    line.drain()
    assert scheduler.sweep() == 0 and fetched(api, sid)["status"] == "scheduled"
    moved(9 * 60)
    assert scheduler.sweep() == 0
    moved(61)
    assert scheduler.sweep() == 1
    assert scheduler.sweep() == 0  # a second (or overlapping) sweep finds nothing to do
    line.drain()
    message = fetched(api, sid)
    assert message["status"] == "delivered" and line.handoffs[sid] == 1
    history = [h["status"] for h in messages.fetch(api.account_sid, sid).history]
    assert history[:3] == ["scheduled", "accepted", "sending"]


def test_a_scheduled_message_with_a_messaging_service_becomes_accepted(line, api, moved):
    # Its sender is chosen when it is sent, not when it was scheduled.
    service = make_service(api.account_sid, "+14155550111")
    sid = scheduled(api, MessagingServiceSid=service, From="")["sid"]
    assert fetched(api, sid)["from"] is None
    moved(11 * 60)
    assert scheduler.sweep() == 1
    assert messages.fetch(api.account_sid, sid).history[1]["status"] == "accepted"
    line.drain()
    assert (fetched(api, sid)["status"], fetched(api, sid)["from"]) == ("delivered", "+14155550111")


def test_a_stop_that_comes_before_the_send_at_fails_the_message_with_21610(line, api, moved):
    # The create could not know: the opt-out is asked again at the hand-off.
    service = make_service(api.account_sid, "+14155550111")
    handset = "+14155550142"
    sid = scheduled(api, MessagingServiceSid=service, From="", To=handset)["sid"]
    sandbox = api.base + "/Sandbox/Inbound.json"
    stop = {"From": handset, "To": "+14155550111", "Body": "STOP"}
    assert api.request("POST", sandbox, params=stop).status_code == 201
    line.drain()
    moved(11 * 60)
    assert scheduler.sweep() == 1
    line.drain()
    failed = fetched(api, sid)
    assert (failed["status"], failed["error_code"]) == ("failed", 21610)
    assert line.handoffs[sid] == 0


def test_a_canceled_message_is_never_dispatched(line, api, moved):
    sid = scheduled(api)["sid"]
    assert api.update(sid, Status="canceled").status_code == 200
    moved(11 * 60)
    assert scheduler.sweep() == 0
    line.drain()
    assert fetched(api, sid)["status"] == "canceled" and line.calls[sid] == 0


def test_cancel_racing_the_dispatch_wins_or_loses_cleanly_never_both(line, api, moved):
    sids = [scheduled(api, Body=f"m{n}")["sid"] for n in range(12)]
    moved(11 * 60)
    outcomes = {}

    def cancel(sid):
        try:
            messages.update(api.account_sid, sid, {"Status": ["canceled"]})
            outcomes[sid, "cancel"] = "won"
        except errors.TwilioError as error:
            outcomes[sid, "cancel"] = error.code

    def dispatch(sid):
        outcomes[sid, "dispatch"] = scheduler._dispatch(api.account_sid, sid)

    for sid in sids:
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=lambda f=f, s=sid, b=start: (b.wait(), f(s)))
            for f in (cancel, dispatch)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    line.drain()
    for sid in sids:
        canceled, dispatched = outcomes[sid, "cancel"], outcomes[sid, "dispatch"]
        final = fetched(api, sid)["status"]
        if canceled == "won":
            assert dispatched is False and final == "canceled" and line.calls[sid] == 0
        else:
            assert canceled == 30409 and dispatched is True
            assert final == "delivered" and line.handoffs[sid] == 1


def test_the_sweep_reads_every_partition_at_once_and_empties_it(line, api, moved, monkeypatch):
    """Messages due in the same minute are all handed off by one sweep, the 32 partitions
    read at once: no thread makes more calls than its own partition's (a read and a write
    per message, a read per page). At ~10 ms a dispatch, the busiest of 32 partitions with
    10,000 due (~313 each) is done in a few seconds: well within the minute."""
    from collections import Counter

    from chalicelib import storage
    from chalicelib.storage import schema

    made = [scheduled(api)["sid"] for _ in range(320)]
    per_partition = Counter(f"due#{schema.shard_of(sid, schema.DUE_SHARDS)}" for sid in made)
    calls: Counter = Counter()
    real = storage.client.call
    # Each partition's first call waits until all of them have made theirs: at once, they
    # all get there; one after another, the barrier breaks. And no worker is reused for a
    # second partition (a fast embedded AWS let a worker finish one before the last began).
    together = threading.Barrier(len(schema.due_partitions()), timeout=60)

    def counted(operation, **kwargs):
        me = threading.get_ident()
        if me not in calls and threading.current_thread().name.startswith("herald-due"):
            calls[me] += 0
            together.wait()
        calls[me] += 1
        return real(operation, **kwargs)

    monkeypatch.setattr(storage.client, "call", counted)
    moved(11 * 60)
    assert scheduler.sweep() == len(made)
    monkeypatch.setattr(storage.client, "call", real)  # the next sweep's threads may reuse ids
    assert scheduler.sweep() == 0
    # Fanned out: each partition on its own thread, the busiest thread no busier than the
    # busiest partition's own work (two calls a message, and its page reads).
    assert len(calls) >= len(per_partition)
    assert max(calls.values()) <= 2 * max(per_partition.values()) + 2 * 2
    # (Scheduled through a Messaging Service, as scheduling asks: so `accepted`.)
    assert {fetched(api, sid)["status"] for sid in made[:5]} == {"accepted"}
