"""A hand-off whose outcome nobody knew ends `failed` (30410 when the carrier did not answer,
30008 when the worker that made it died), but the carrier may have taken the message after
all: its later receipts are recorded as they say, the error is cleared, and the status
callbacks follow. A failure whose outcome is known (refused, never handed over) stays put."""

import pytest

from chalicelib import messages
from chalicelib.carriers import events
from chalicelib.carriers.sandbox import Sandbox
from chalicelib.delivery import receipts
from chalicelib.messages.status import (
    FAILED_HANDOFF_UNKNOWN,
    TRANSITIONS,
    Status,
    allowed_from,
    state_of,
)
from chalicelib.runtime import clock
from tests.pipeline import create, drain_until_killed, fetched, kill_once, receiver

TIMES_OUT = "+15005550017"  # the sandbox's hand-off that never answers: failed 30410
REFUSED = "+15005550015"  # refused at the hand-off: failed 30008, known not taken


def receipt(api, sid: str, event_type: str) -> bool:
    event = events.event(event_type, api.account_sid, sid, "aws-1", clock.now_ms(), "+1", None)
    return receipts.apply(events.parse(event))


def test_a_timed_out_hand_off_is_delivered_when_the_carrier_says_so(line, api):
    with receiver() as hook:
        sid = create(api, To=TIMES_OUT, StatusCallback=hook.url + "/status")["sid"]
        line.drain()
        assert (fetched(api, sid)["status"], fetched(api, sid)["error_code"]) == ("failed", 30410)
        assert receipt(api, sid, "TEXT_DELIVERED")
        line.drain()
        message = fetched(api, sid)
        assert (message["status"], message["error_code"], message["error_message"]) == (
            "delivered", None, None,
        )  # fmt: skip
        assert message["date_sent"] is not None
        callbacks = [(r.form["MessageStatus"], r.form.get("ErrorCode")) for r in hook.requests]
    assert sorted(callbacks) == [("delivered", None), ("failed", "30410"), ("sending", None)]
    history = messages.fetch(api.account_sid, sid).history
    assert [(h["status"], h.get("error_code")) for h in history] == [
        ("queued", None), ("sending", None), ("failed", 30410), ("delivered", None),
    ]  # fmt: skip
    assert messages.fetch(api.account_sid, sid).carrier_id == "aws-1"  # the carrier's


def test_a_dead_workers_hand_off_is_moved_on_by_its_late_receipts(
    line, api, monkeypatch, lease_expires
):
    monkeypatch.setattr("chalicelib.carriers.sandbox._receipts", lambda *_args: None)
    kill_once(monkeypatch, Sandbox, "send", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    lease_expires()
    line.drain()
    assert (fetched(api, sid)["status"], fetched(api, sid)["error_code"]) == ("failed", 30008)
    # The carrier had taken it: its receipts, however late, say so.
    assert receipt(api, sid, "TEXT_SUCCESSFUL")
    assert fetched(api, sid)["status"] == "sent" and fetched(api, sid)["error_code"] is None
    assert receipt(api, sid, "TEXT_UNREACHABLE")
    message = fetched(api, sid)
    assert (message["status"], message["error_code"]) == ("undelivered", 30003)
    assert receipt(api, sid, "TEXT_DELIVERED") is False  # final now, as any undelivered
    assert line.calls[sid] == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [({"To": REFUSED}, 30008), ({"To": "+15005550016"}, 30001), ({"ValidityPeriod": "1"}, 30001)],
)
def test_a_failure_whose_outcome_is_known_stays_failed(line, api, monkeypatch, params, code):
    sid = create(api, **params)["sid"]
    if "ValidityPeriod" in params:  # it runs out before a worker gets to it
        real = clock.now_ms
        monkeypatch.setattr(clock, "now_ms", lambda: real() + 2_000)
    line.drain()
    before = fetched(api, sid)
    assert (before["status"], before["error_code"]) == ("failed", code)
    for event_type in ("TEXT_SUCCESSFUL", "TEXT_DELIVERED", "TEXT_UNREACHABLE"):
        assert receipt(api, sid, event_type) is False
    assert fetched(api, sid) == before


def test_the_table_has_one_row_for_an_unknown_hand_off():
    assert FAILED_HANDOFF_UNKNOWN in allowed_from(Status.DELIVERED)
    assert Status.FAILED not in allowed_from(Status.DELIVERED)
    assert TRANSITIONS[Status.FAILED] == frozenset()
    assert state_of({"status": "failed", "handoff_unknown": True}) == FAILED_HANDOFF_UNKNOWN
    assert state_of({"status": "failed"}) == Status.FAILED
    assert state_of({"status": "sent", "handoff_unknown": True}) == Status.SENT
