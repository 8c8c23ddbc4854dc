"""What the pipeline tells its operators (chalicelib/observability): no secret in any line of a
whole create → delivered → callback run, every step's line, each status counted once however
often its job runs, and the undercount (never a double count) when a worker dies."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.carriers import events
from chalicelib.carriers.sandbox import Sandbox
from chalicelib.delivery import receipts, scheduler
from chalicelib.runtime import clock, config
from chalicelib.storage import queues
from tests.logs import check_line, of, parse, samples, total
from tests.pipeline import FROM, TO, create, drain_until_killed, fetched, kill_once, receiver

SECRET_BODY = "Your code is 918273, do not share it"
QUERY_SECRET = "token=q-secret-4242"
STATUS_COUNTS = ("MessagesSent", "MessagesDelivered", "MessagesUndelivered", "MessagesFailed")


@pytest.fixture(autouse=True)
def json_lines(monkeypatch):
    monkeypatch.delenv("HERALD_LOG_FORMAT", raising=False)
    # Every step's line: the usual ones are debug lines (the default level writes one line
    # per invocation, with the counts: test_at_the_default_level_…).
    monkeypatch.setenv("HERALD_LOG_LEVEL", "debug")


def read(capfd) -> tuple[str, list[dict]]:
    """Everything the process wrote (both streams, every thread), and Herald's lines."""
    out, err = capfd.readouterr()
    lines = parse(out)
    for line in lines:
        check_line(line)
    return out + err, lines


def counts(lines: list[dict]) -> dict[str, float]:
    return {name: total(lines, name) for name in ("MessagesCreated", *STATUS_COUNTS)}


def test_a_whole_run_logs_every_step_and_no_secret(line, api, account, capfd):
    with receiver() as hook:
        callback = f"{hook.url}/status?{QUERY_SECRET}"
        sid = create(api, Body=SECRET_BODY, StatusCallback=callback)["sid"]
        line.drain()
        assert fetched(api, sid)["status"] == "delivered" and len(hook.requests) == 3
    written, lines = read(capfd)
    for secret in (SECRET_BODY, account["auth_token"], TO, FROM, QUERY_SECRET, "q-secret"):
        assert secret not in written, secret
    assert counts(lines) == {
        "MessagesCreated": 1, "MessagesSent": 1, "MessagesDelivered": 1,
        "MessagesUndelivered": 0, "MessagesFailed": 0,
    }  # fmt: skip
    assert total(lines, "CallbacksDelivered") == 3 and total(lines, "CallbackFailures") == 0
    # Every step, with the message's ids.
    (created,) = of(lines, "api.request", operation="create")
    assert (created["sid"], created["http_status"]) == (sid, 201)
    assert sum(b["send_jobs"] for b in of(lines, "dispatch.batch")) == 1
    assert sum(b["callback_jobs"] for b in of(lines, "dispatch.batch")) == 3
    (claim,) = of(lines, "send.claim", sid=sid)
    assert (claim["outcome"], claim["attempt"], claim["function"]) == ("claimed", 1, "sender")
    (handoff,) = of(lines, "send.handoff", sid=sid)
    assert handoff["outcome"] == "accepted" and handoff["recorded"] is True
    assert handoff["to"] == TO[:2] + "*" * (len(TO) - 4) + TO[-2:]
    # Its metrics are in its invocation's line, with the other jobs' (one line a batch).
    (sender,) = [i for i in of(lines, "invocation", function="sender") if "CarrierLatency" in i]
    assert (
        sender["CarrierLatency"] == [handoff["carrier_latency_ms"]] and sender["MessagesSent"] == 1
    )
    assert "_aws" not in handoff
    applied = of(lines, "receipt", sid=sid, outcome="applied")
    assert [r["carrier_event"] for r in applied] == ["TEXT_DELIVERED"]
    callbacks = of(lines, "callback", sid=sid)
    assert sorted(c["status"] for c in callbacks) == ["delivered", "sending", "sent"]
    assert {c["url"] for c in callbacks} == {f"{hook.url}/status"}
    assert all(c["outcome"] == "delivered" and c["signed"] for c in callbacks)
    invocations = of(lines, "invocation")
    assert {i["function"] for i in invocations} >= {"dispatcher", "sender", "receipts"}
    assert all(line.get("account_sid") in (None, account["account_sid"]) for line in lines)


def test_at_the_default_level_a_delivered_message_is_its_request_line_and_batch_lines(
    line, api, capfd, monkeypatch
):
    """What CloudWatch Logs ingests for a message that went as it should: the API's request
    line and one line per invocation, with the counts; no line per step."""
    monkeypatch.delenv("HERALD_LOG_LEVEL")
    with receiver() as hook:
        sids = [create(api, StatusCallback=f"{hook.url}/status")["sid"] for _ in range(3)]
        line.drain()
        assert len(hook.requests) == 9
    _, lines = read(capfd)
    assert {x["event"] for x in lines} == {"api.request", "invocation"}
    assert counts(lines) == {
        "MessagesCreated": 3, "MessagesSent": 3, "MessagesDelivered": 3,
        "MessagesUndelivered": 0, "MessagesFailed": 0,
    }  # fmt: skip
    assert total(lines, "CallbacksDelivered") == 9
    latencies = [s for x in lines for s in samples(x.get("CallbackLatency", []))]
    assert len(latencies) == 9 and all(x.get("sid") in (None, *sids) for x in lines)


@pytest.mark.parametrize(
    ("to", "counted", "code"),
    [
        ("+15005550011", {"MessagesSent": 1, "MessagesUndelivered": 1}, 30003),
        ("+15005550015", {"MessagesFailed": 1}, 30008),
        ("+15005550017", {"MessagesFailed": 1}, 30410),
    ],
)
def test_each_outcome_is_counted_once(line, api, capfd, to, counted, code):
    sid = create(api, To=to)["sid"]
    line.drain()
    _, lines = read(capfd)
    assert {k: v for k, v in counts(lines).items() if v} == {"MessagesCreated": 1, **counted}
    coded = [x for x in lines if x.get("sid") == sid and x.get("error_code") == code]
    assert coded, f"no line with {code}"


def test_a_throttled_message_counts_each_throttle_then_one_failure(line, api, capfd):
    sid = create(api, To="+15005550016")["sid"]
    line.drain()
    _, lines = read(capfd)
    attempts = config.delivery().max_send_attempts
    assert total(lines, "SendThrottled") == attempts
    assert [h["attempt"] for h in of(lines, "send.handoff", sid=sid)] == list(
        range(1, attempts + 1)
    )
    (failed,) = of(lines, "send.fail", sid=sid)
    assert (failed["error_code"], failed["reason"]) == (30001, "send attempts exhausted")
    assert total(lines, "MessagesFailed") == 1 and total(lines, "MessagesSent") == 0


def test_a_send_job_handed_over_again_is_counted_once(line, api, capfd):
    sid = create(api)["sid"]
    job = {"kind": "send", "account_sid": api.account_sid, "sid": sid}
    for _ in range(3):
        queues.send(line.env["HERALD_SEND_QUEUE_URL"], job)
    line.drain()
    _, lines = read(capfd)
    assert line.handoffs[sid] == 1
    assert counts(lines)["MessagesSent"] == 1 and counts(lines)["MessagesDelivered"] == 1
    # The copies found it claimed or already sent: lines, and no count.
    repeated = of(lines, "send.claim", sid=sid, outcome="lost") + of(lines, "send.skip", sid=sid)
    assert len(repeated) == 3


def test_a_worker_batch_run_twice_is_counted_once(line, api, monkeypatch, lease_expires, capfd):
    kill_once(monkeypatch, line.source("sender"), "handler", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    lease_expires()
    line.drain()
    _, lines = read(capfd)
    assert fetched(api, sid)["status"] == "delivered"
    assert len(of(lines, "send.handoff", sid=sid)) == 1
    assert of(lines, "send.skip", sid=sid, reason="not waiting")  # the job's second run
    assert counts(lines)["MessagesSent"] == 1 and counts(lines)["MessagesDelivered"] == 1


def test_a_receipt_batch_run_twice_is_counted_once(line, api, monkeypatch, capfd):
    kill_once(monkeypatch, receipts, "apply", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    time.sleep(1.2)  # the receipt's visibility timeout on the test queues
    line.drain()
    _, lines = read(capfd)
    assert fetched(api, sid)["status"] == "delivered"
    assert counts(lines)["MessagesDelivered"] == 1
    # The same receipts again, by hand: ignored, not counted.
    for event_type in ("TEXT_DELIVERED", "TEXT_SUCCESSFUL"):
        event = events.event(event_type, api.account_sid, sid, "c", clock.now_ms(), TO, None)
        assert receipts.apply(events.parse(event)) is False
    _, again = read(capfd)
    assert counts(again)["MessagesDelivered"] == 0
    assert {r["outcome"] for r in of(again, "receipt", sid=sid)} == {"ignored"}


def test_a_worker_that_dies_after_the_hand_off_is_undercounted_never_doubled(
    line, api, monkeypatch, lease_expires, capfd
):
    # The carrier took it, the worker died before its line: that MessagesSent is lost (the
    # documented undercount); the lease expiry and the receipts count nothing twice.
    kill_once(monkeypatch, Sandbox, "send", when="after")
    sid = create(api)["sid"]
    drain_until_killed(line)
    line.drain()
    lease_expires()
    line.drain()
    _, lines = read(capfd)
    assert fetched(api, sid)["status"] == "delivered" and line.handoffs[sid] == 1
    assert counts(lines)["MessagesSent"] == 0 and counts(lines)["MessagesDelivered"] == 1


def test_a_callback_given_up_is_a_failure_after_its_retry(line, api, capfd):
    with receiver() as hook:
        hook.answers = [500] * 10
        sid = create(api, To="+15005550015", StatusCallback=hook.url + "/cb?k=v")["sid"]
        line.drain()
    _, lines = read(capfd)
    tried = of(lines, "callback", sid=sid)
    assert sorted((c["status"], c["attempt"], c["outcome"]) for c in tried) == [
        ("failed", 1, "retry"), ("failed", 2, "gave_up"),
        ("sending", 1, "retry"), ("sending", 2, "gave_up"),
    ]  # fmt: skip
    assert all(c["http_status"] == 500 and c["url"] == hook.url + "/cb" for c in tried)
    assert total(lines, "CallbackFailures") == 2 and total(lines, "CallbacksDelivered") == 0
    assert [c["level"] for c in tried if c["outcome"] == "gave_up"] == ["warning", "warning"]


def test_the_scheduler_logs_what_it_dispatched(line, api, monkeypatch, capfd):
    monkeypatch.delenv("HERALD_LOG_LEVEL")
    send_at = datetime.now(UTC) + timedelta(minutes=10)
    sid = create(api, ScheduleType="fixed", SendAt=send_at.strftime("%Y-%m-%dT%H:%M:%SZ"))["sid"]
    real = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: real() + 11 * 60 * 1000)
    assert scheduler.sweep() == 1 and scheduler.sweep() == 0
    _, lines = read(capfd)
    # A sweep that found nothing due is a debug line, not written at the default level.
    assert [s["dispatched"] for s in of(lines, "schedule.sweep")] == [1]
    monkeypatch.setenv("HERALD_LOG_LEVEL", "debug")
    assert scheduler.sweep() == 0
    _, idle = read(capfd)
    assert [(s["level"], s["dispatched"]) for s in of(idle, "schedule.sweep")] == [("debug", 0)]
    (dispatched,) = of(lines, "schedule.dispatch")
    assert (dispatched["sid"], dispatched["status"]) == (sid, "queued")
