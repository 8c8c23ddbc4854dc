"""make run's local workers (devtools/local_workers.py): they wait for work in long polls
rather than asking ten times a second, and still take every job as it comes."""

import threading
import time

from chalicelib import messages
from devtools import local_aws, local_workers
from tests.conftest import make as create


def test_make_run_s_workers_long_poll_and_the_tests_drain_at_once(line, monkeypatch):
    asked = {}
    real = local_aws.event_sources

    def sources(app, env, checkpoint=None, wait_seconds=0):
        asked["wait"] = wait_seconds
        return real(app, env, checkpoint, wait_seconds=wait_seconds)

    monkeypatch.setattr(local_aws, "event_sources", sources)
    stop = threading.Event()
    stop.set()  # they start and end at once
    for worker in local_workers.start(line.app.app, stop):
        worker.join()
    assert asked["wait"] == local_workers.WAIT_SECONDS >= 1
    assert all(source.wait_seconds == 0 for source in line.sources)  # the tests' drain()


def test_a_poll_that_found_nothing_at_once_waits_out_the_long_poll():
    """Against a server that does not long-poll (an empty answer at once), a worker sleeps
    the rest of WAIT_SECONDS instead of asking again at once."""
    waits = []

    class Stop:
        def is_set(self):
            return bool(waits)

        def wait(self, seconds):
            waits.append(seconds)

    class Empty:
        name = "empty"

        def poll(self):
            return 0

    local_workers._poll(Empty(), Stop())
    assert len(waits) == 1 and waits[0] > local_workers.WAIT_SECONDS - 0.5


def test_the_stream_s_shards_are_described_once(line, api):
    stream = line.source("dispatcher")
    described = []
    describe = stream.streams.describe_stream

    def counted(**kwargs):
        described.append(kwargs)
        return describe(**kwargs)

    stream.streams.describe_stream = counted
    stream._shards = []
    create(api)
    for _ in range(3):
        stream.poll()
    assert len(described) == 1


def test_long_polling_workers_deliver_what_comes(line, api):
    """The workers make run starts, on the embedded AWS: a message created while they wait
    is delivered (each hop woken by the job or record it waits for)."""
    stop = threading.Event()
    workers = local_workers.start(line.app.app, stop)
    try:
        sids = [create(api)["sid"] for _ in range(3)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = {messages.fetch(api.account_sid, sid).status for sid in sids}
            if statuses == {"delivered"}:
                break
            time.sleep(0.1)
        assert statuses == {"delivered"}
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)


def stream_batch(*due_at_ms: int) -> dict:
    """A stream batch as the local stream reader hands it over: one INSERT a due time (a
    scheduled message's `due_at`: its SendAt in 12 hex digits, then its Sid's hex), and a
    message with none."""
    sid_hex = "0" * 32
    records = [
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"due_at": {"S": f"{ms:012x}{sid_hex}"}}}}
        for ms in due_at_ms
    ]
    records.append({"eventName": "INSERT", "dynamodb": {"NewImage": {"sid": {"S": "SM1"}}}})
    return {"Records": records}


def test_the_local_scheduler_sweeps_when_a_noted_message_falls_due(monkeypatch):
    """It sweeps once a scheduled message the stream showed is due, not every few seconds:
    with nothing due, an idle make run makes no sweep before SWEEP_SECONDS."""
    from chalicelib.runtime import clock

    start, moved = time.monotonic(), {"ms": 0}
    monkeypatch.setattr(
        clock, "now_ms", lambda: int((time.monotonic() - start) * 1000) + moved["ms"]
    )
    due, stop = local_workers.DueTimes(), threading.Event()
    handled = []
    handler = due.noting(lambda event, context: handled.append(event))
    handler(stream_batch(900, 60_000), None)
    assert len(handled) == 1  # the stream's own handler still gets the batch
    began = time.monotonic()
    assert due.wait(stop, longest=30) is True  # the first falls due in 0.9 s
    assert 0.5 < time.monotonic() - began < 5
    moved["ms"] += 60_000  # the clock moves past the second
    began = time.monotonic()
    assert due.wait(stop, longest=30) is True
    assert time.monotonic() - began < 3
    began = time.monotonic()
    assert due.wait(stop, longest=1.5) is True  # nothing noted: the periodic sweep
    assert time.monotonic() - began >= 1.4


def test_the_local_scheduler_stops_while_it_waits():
    due, stop = local_workers.DueTimes(), threading.Event()
    threading.Timer(0.3, stop.set).start()
    began = time.monotonic()
    assert due.wait(stop, longest=60) is False
    assert time.monotonic() - began < 3
