"""Races: many threads on one message, or many creates at once, against moto.

Threads call chalicelib.messages directly. Chalice's test client is not thread-safe: the app
keeps the request being handled in one attribute (`app.current_request`), so concurrent
requests read each other's headers and body, and the client swaps `os.environ` for every
request.

moto is not atomic on its own either. It checks a ConditionExpression and applies the write
as separate Python steps with no lock, so two threads can both pass the same condition:
16 threads cancelling one scheduled message saw two successes in about 1 round in 20.
DynamoDB applies every request atomically. The `atomic_moto` fixture (conftest.py) does so by
running one moto request at a time. It locks single requests, never a sequence of them, so a
read-then-write gap in Herald is still open to the other threads.
"""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import messages, storage
from chalicelib.runtime import clock
from chalicelib.storage import messages as stored
from chalicelib.twilio import errors, sids
from tests.conftest import run_together

FROM = "+15005550006"
TO = "+14155550100"
THREADS = 12


@pytest.fixture
def account_sid(atomic_moto, account):
    return account["account_sid"]


def params(**extra) -> dict[str, list[str]]:
    return {k: [v] for k, v in {"To": TO, "From": FROM, "Body": "hello", **extra}.items()}


def schedule(account_sid: str) -> messages.Message:
    send_at = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = messages.create(account_sid, params(ScheduleType="fixed", SendAt=send_at))
    assert created.message.status == "scheduled"
    return created.message


def redact(account_sid, sid):
    return lambda: messages.update(account_sid, sid, {"Body": [""]})


def cancel(account_sid, sid):
    return lambda: messages.update(account_sid, sid, {"Status": ["canceled"]})


def delete(account_sid, sid):
    return lambda: messages.delete(account_sid, sid)


def fetch(account_sid, sid):
    return lambda: messages.fetch(account_sid, sid)


def http_like(kind: str, outcome) -> tuple:
    """An outcome as the API would answer it: (status, code-or-None)."""
    if outcome[0] == "ok":
        return ({"delete": 204}.get(kind, 200), None)
    return outcome


NOT_FOUND = (404, 20404)
NOT_CANCELABLE = (400, 30409)


def listed_sids(account_sid: str) -> set[str]:
    page = messages.list_page(account_sid, {"PageSize": ["1000"]})
    return {m["sid"] for m in page["messages"]}


def assert_gone(account_sid: str, message: messages.Message):
    assert stored.get_message(account_sid, message.sid) is None
    with pytest.raises(errors.TwilioError) as raised:
        messages.fetch(account_sid, message.sid)
    assert raised.value.code == 20404
    assert message.sid not in listed_sids(account_sid)


def test_redact_cancel_and_delete_racing_leave_a_consistent_end(account_sid):
    kinds = ["redact", "cancel", "delete", "fetch"]
    make = {"redact": redact, "cancel": cancel, "delete": delete, "fetch": fetch}
    for _round in range(6):
        message = schedule(account_sid)
        plan = [kinds[i % len(kinds)] for i in range(THREADS)]
        outcomes = run_together([make[kind](account_sid, message.sid) for kind in plan])
        got: dict[str, list] = {kind: [] for kind in kinds}
        returned: dict[str, list] = {kind: [] for kind in kinds}
        for kind, outcome in zip(plan, outcomes, strict=True):
            got[kind].append(http_like(kind, outcome))
            if outcome[0] == "ok" and outcome[1] is not None:
                returned[kind].append(outcome[1])

        # Exactly one delete removes it; every other one finds nothing.
        assert sorted(got["delete"]) == [(204, None)] + [NOT_FOUND] * (len(got["delete"]) - 1)
        # At most one cancel wins; the rest find it canceled already, or gone.
        assert got["cancel"].count((200, None)) <= 1
        assert set(got["cancel"]) <= {(200, None), NOT_CANCELABLE, NOT_FOUND}
        assert set(got["redact"]) <= {(200, None), NOT_FOUND}
        assert set(got["fetch"]) <= {(200, None), NOT_FOUND}

        # Every state any thread saw is one the successful operations could have made.
        cancel_won = (200, None) in got["cancel"]
        redact_won = (200, None) in got["redact"]
        for seen in returned["redact"] + returned["cancel"] + returned["fetch"]:
            assert seen.sid == message.sid
            assert seen.status in ({"scheduled", "canceled"} if cancel_won else {"scheduled"})
            assert seen.body in ({"hello", ""} if redact_won else {"hello"})
        assert all(seen.body == "" for seen in returned["redact"])
        assert all(seen.status == "canceled" for seen in returned["cancel"])

        # Deleted stays deleted: no update that lost the race wrote it back.
        assert_gone(account_sid, message)
        # And every later update, however many at once, is a 404 that writes nothing.
        late = run_together(
            [redact(account_sid, message.sid), cancel(account_sid, message.sid)] * 4
            + [delete(account_sid, message.sid)] * 2
        )
        assert late == [NOT_FOUND] * len(late)
        assert_gone(account_sid, message)


def test_redact_and_cancel_racing_lose_neither_change(account_sid):
    for _round in range(6):
        message = schedule(account_sid)
        plan = ["redact", "cancel"] * (THREADS // 2)
        calls = [(redact if k == "redact" else cancel)(account_sid, message.sid) for k in plan]
        outcomes = [http_like(k, o) for k, o in zip(plan, run_together(calls), strict=True)]
        cancels = [o for k, o in zip(plan, outcomes, strict=True) if k == "cancel"]
        redacts = [o for k, o in zip(plan, outcomes, strict=True) if k == "redact"]
        assert sorted(cancels) == [(200, None)] + [NOT_CANCELABLE] * (len(cancels) - 1)
        assert redacts == [(200, None)] * len(redacts)
        final = messages.fetch(account_sid, message.sid)
        assert (final.status, final.body) == ("canceled", "")
        # Nothing else was touched by either writer.
        assert (final.to, final.from_, final.created_ms) == (
            message.to,
            message.from_,
            message.created_ms,
        )


@pytest.mark.parametrize("with_delete", [False, True], ids=["cancels only", "and a delete"])
def test_of_many_concurrent_cancels_exactly_one_wins(account_sid, with_delete):
    for _round in range(5):
        message = schedule(account_sid)
        calls = [cancel(account_sid, message.sid) for _ in range(16)]
        if with_delete:
            calls.insert(8, delete(account_sid, message.sid))
        outcomes = run_together(calls)
        if with_delete:
            assert http_like("delete", outcomes.pop(8)) == (204, None)
        counts = Counter(http_like("cancel", o) for o in outcomes)
        if with_delete:
            # The delete may come first (then nobody cancels) or after the one winner.
            assert counts[(200, None)] <= 1
            assert set(counts) <= {(200, None), NOT_CANCELABLE, NOT_FOUND}
            assert_gone(account_sid, message)
        else:
            assert counts == Counter({(200, None): 1, NOT_CANCELABLE: 15})
            assert messages.fetch(account_sid, message.sid).status == "canceled"


def test_concurrent_creates_never_share_a_sid_and_all_are_stored_and_listed(account_sid):
    per_thread, threads = 50, 8

    def create_many(n):
        def run():
            return [
                messages.create(account_sid, params(Body=f"{n}-{i}")) for i in range(per_thread)
            ]

        return run

    outcomes = run_together([create_many(n) for n in range(threads)])
    created = [c.message for _, batch in outcomes for c in batch]
    assert len(created) == per_thread * threads
    made = [m.sid for m in created]
    assert len(set(made)) == len(made), "duplicate Sids"
    assert all(not c.replayed for _, batch in outcomes for c in batch)

    page = messages.list_page(account_sid, {"PageSize": ["1000"]})
    listed = [m["sid"] for m in page["messages"]]
    assert sorted(listed) == sorted(made)
    # Newest first, in the order of the keys the index sorts on.
    keys = {
        m.sid: storage.schema.list_key(storage.schema.order_ms(m.to_fields()), m.sid)
        for m in created
    }
    assert [keys[sid] for sid in listed] == sorted(keys.values(), reverse=True)
    # Every message holds what its own create sent, not another thread's.
    bodies = {m["sid"]: m["body"] for m in page["messages"]}
    assert all(bodies[m.sid] == m.body for m in created)
    assert len(set(bodies.values())) == len(created)


def test_a_forced_sid_collision_never_overwrites(account_sid, monkeypatch):
    """Sids carry 80 random bits, so a collision takes a forced one: the conditional put
    keeps the first message, and every other create is refused rather than replacing it."""
    sid = sids.message_sid(clock.now_ms())
    monkeypatch.setattr(sids, "message_sid", lambda *_a, **_k: sid)
    items = [
        messages.new_message(account_sid, params(Body=f"body {n}")).to_fields()
        for n in range(THREADS)
    ]
    assert {item["sid"] for item in items} == {sid}

    wins, refused = [], []
    lock = threading.Lock()

    def attempt(item):
        def run():
            try:
                stored.put_new_message(item, 0)
            except storage.Exists:
                with lock:
                    refused.append(item["body"])
                return None
            with lock:
                wins.append(item["body"])
            return None

        return run

    run_together([attempt(item) for item in items])
    assert len(wins) == 1 and len(refused) == THREADS - 1
    assert stored.get_message(account_sid, sid)["body"] == wins[0]
