"""The sandbox carrier's receipts reach the message whatever dies between them: the hand-off
queues the first, and each receipt applied queues the next (chalicelib.carriers.sandbox).
Killed at each point between two receipts, as test_guarantees kills the worker: a message
still ends with its final status, handed over once.

A kill is a BaseException at the chosen point: it escapes the handler as a dying process's
would, so the whole batch comes back after the queue's visibility timeout (1 s here).
"""

import pytest

from chalicelib import messages
from chalicelib.carriers import sandbox
from chalicelib.delivery import receipts
from chalicelib.storage import queues
from tests.pipeline import Killed, create, fetched


def kill_at_call(monkeypatch, target, name: str, call: int, when: str) -> None:
    """Make the `call`-th call of target.name die, before doing its work or after it."""
    real = getattr(target, name)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] != call:
            return real(*args, **kwargs)
        if when == "before":
            raise Killed(f"{name} #{call}")
        real(*args, **kwargs)
        raise Killed(f"{name} #{call}")

    monkeypatch.setattr(target, name, dying)


def settle(line, lease_expires) -> None:
    """Let the dead process's batch come back, until nothing is left to do."""
    with pytest.raises(Killed):
        line.drain()
    lease_expires()
    line.drain()
    lease_expires()
    line.drain()


def test_killed_after_the_hand_off_queued_the_first_receipt(line, api, monkeypatch, lease_expires):
    # The worker dies right after the sandbox's first queue write: what `kill -9` of make
    # run's server did to 1 message of 120, which then stayed `sent` for ever.
    kill_at_call(monkeypatch, queues, "send", call=1, when="after")
    sid = create(api)["sid"]
    settle(line, lease_expires)
    # Handed over once (the hand-off never returned, so it is not counted as taken).
    assert fetched(api, sid)["status"] == "delivered" and line.calls[sid] == 1


# Between receipt 1 (TEXT_SUCCESSFUL → sent) and receipt 2 (TEXT_DELIVERED → delivered):
# before applying a receipt, after applying it but before queueing the next, after
# queueing the next but before the job is acknowledged.
POINTS = [
    (receipts, "apply", 1, "before"),
    (receipts, "apply", 1, "after"),
    (sandbox, "follow_up", 1, "before"),
    (sandbox, "follow_up", 1, "after"),
    (receipts, "apply", 2, "before"),
    (receipts, "apply", 2, "after"),
]


@pytest.mark.parametrize(
    ("target", "name", "call", "when"),
    POINTS,
    ids=[f"{name}#{call}-{when}" for _, name, call, when in POINTS],
)
def test_killed_between_receipts_the_message_still_ends_delivered(
    line, api, monkeypatch, lease_expires, target, name, call, when
):
    kill_at_call(monkeypatch, target, name, call, when)
    sid = create(api)["sid"]
    settle(line, lease_expires)
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1
    history = [h["status"] for h in messages.fetch(api.account_sid, sid).history]
    assert history == ["queued", "sending", "sent", "delivered"]


@pytest.mark.parametrize(("to", "status", "code"), [("+15005550011", "undelivered", 30003)])
def test_a_failure_receipt_comes_after_a_kill_too(
    line, api, monkeypatch, lease_expires, to, status, code
):
    kill_at_call(monkeypatch, sandbox, "follow_up", call=1, when="before")
    sid = create(api, To=to)["sid"]
    settle(line, lease_expires)
    message = fetched(api, sid)
    assert (message["status"], message["error_code"]) == (status, code)


def test_each_receipt_is_queued_once_the_one_before_is_applied(line, api, monkeypatch):
    queued = []
    real = queues.send

    def noted(url, body, **kwargs):
        queued.append(body["eventType"])
        real(url, body, **kwargs)

    monkeypatch.setattr(queues, "send", noted)
    sid = create(api)["sid"]
    line.source("dispatcher").poll()
    line.source("sender").poll()
    assert queued == ["TEXT_SUCCESSFUL"]  # the hand-off queues only the first
    line.drain()
    assert queued == ["TEXT_SUCCESSFUL", "TEXT_DELIVERED"]
    assert fetched(api, sid)["status"] == "delivered"
