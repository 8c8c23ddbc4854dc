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
