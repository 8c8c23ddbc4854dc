"""Background work that runs next to the local HTTP server, in the same process as the app:
the delivery pipeline's event sources (devtools/event_sources.py) and the scheduler.

On AWS, the table's stream, the queues and a one-minute schedule invoke the app's event
handlers in Lambda; here threads poll the same sources on the embedded AWS and call the
same handlers. devtools/http_child.py calls `start` once the HTTP server accepts
connections, sets `stop_event` when the process is asked to stop, then joins the threads.
During a restart two children run at once for a moment: every handler is safe to run
twice, and the stream's checkpoint file keeps the new child from starting over.

A worker with nothing to do waits for work rather than asking again: each poll is a long
poll of up to WAIT_SECONDS (SQS's WaitTimeSeconds, and its equivalent for the stream that
the embedded AWS offers: devtools/long_polls.py), which answers as soon as a job is queued
or a record written. So an idle make run costs next to nothing, a change is picked up as
it lands, and a stop waits at most WAIT_SECONDS for a worker to notice it.

Locally the scheduler sweeps when a scheduled message falls due, so it goes out within a
second of its SendAt: the stream reader notes each `due_at` it hands over (DueTimes), and
the sweep waits for the earliest. It also sweeps every SWEEP_SECONDS, as the one-minute
schedule does on AWS, for what it could not have noted (a message scheduled before this
process started). A sweep is a Query on each of the `due` index's 32 partitions: every
10 s, whatever was scheduled, it was a third of what an idle make run spent.

Lambda runs several invocations of a queue's function at once (it starts with five pollers
per SQS source): a batch that waits on a slow customer's URL does not hold up the next
batch. Each queue here likewise has up to INVOCATIONS batches in flight, from one polling
thread that long-polls for the next batch while they run; the stream's batches stay one at
a time, in order, as Lambda reads a shard.
"""

import heapq
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger("herald.local")
SWEEP_SECONDS = 60.0
WAIT_SECONDS = 2
# After a poll fails (the handler raised, or the embedded AWS is going away).
RETRY_SECONDS = 1.0
INVOCATIONS = 4  # batches of one queue handled at once


def start(app, stop_event: threading.Event) -> list[threading.Thread]:
    """Start the local workers for `app`; each returns soon after `stop_event` is set."""
    env = dict(os.environ)
    if not env.get("HERALD_SEND_QUEUE_URL"):
        return []  # no queues: a server without delivery (e.g. against a plain DynamoDB)
    from devtools import local_aws

    checkpoint = env.get("HERALD_LOCAL_STREAM_CHECKPOINT")
    try:
        sources = local_aws.event_sources(
            app, env, Path(checkpoint) if checkpoint else None, wait_seconds=WAIT_SECONDS
        )
    except Exception:
        # The API still serves; say loudly that nothing will be delivered.
        log.exception("the local delivery pipeline could not start: messages stay queued")
        return []
    from devtools.event_sources import QueueSource, StreamSource

    due = DueTimes()
    for source in sources:
        if isinstance(source, StreamSource):
            source.handler = due.noting(source.handler)
    threads = [
        threading.Thread(
            target=_poll_queue if isinstance(source, QueueSource) else _poll,
            args=(source, stop_event),
            name=source.name,
            daemon=True,
        )
        for source in sources
    ]
    threads.append(
        threading.Thread(
            target=_sweep, args=(app.handler_map["scheduler"], stop_event, due), daemon=True
        )
    )
    for thread in threads:
        thread.start()
    return threads


def _poll(source, stop_event: threading.Event) -> None:
    while not stop_event.is_set():
        began = time.monotonic()
        try:
            found = source.poll()
        except Exception:
            # As Lambda would: log, and the batch comes back (stream) or reappears (queue).
            log.exception("local %s failed", source.name)
            stop_event.wait(RETRY_SECONDS)
            continue
        if not found:
            # A server that does not long-poll answers an empty poll at once: wait here.
            stop_event.wait(max(0.0, WAIT_SECONDS - (time.monotonic() - began)))


def _poll_queue(source, stop_event: threading.Event) -> None:
    """Receive batches and hand each to a thread of its own, up to INVOCATIONS at once."""
    slots = threading.BoundedSemaphore(INVOCATIONS)
    while not stop_event.is_set():
        if not slots.acquire(timeout=WAIT_SECONDS):
            continue  # every invocation busy
        began = time.monotonic()
        try:
            records = source.receive()  # a long poll: answered once a job is queued
        except Exception:
            log.exception("local %s failed", source.name)
            slots.release()
            stop_event.wait(RETRY_SECONDS)
            continue
        if not records:
            slots.release()
            # A server that does not long-poll answers an empty poll at once: wait here.
            stop_event.wait(max(0.0, WAIT_SECONDS - (time.monotonic() - began)))
            continue
        threading.Thread(
            target=_invoke, args=(source, records, slots), name=source.name, daemon=True
        ).start()
    # Stopping: return once the batches in flight are done (the caller bounds the wait).
    for _ in range(INVOCATIONS):
        slots.acquire()


def _invoke(source, records: list, slots: threading.BoundedSemaphore) -> None:
    try:
        source.invoke(records)
    except Exception:
        # As Lambda would: log, and the batch reappears after its visibility timeout.
        log.exception("local %s failed", source.name)
    finally:
        slots.release()


class DueTimes:
    """The SendAt of the scheduled messages the stream has shown (their `due_at`), so that
    the local scheduler sweeps when one falls due rather than every few seconds."""

    def __init__(self):
        self._due: list[int] = []  # a heap of SendAt, ms
        self._lock = threading.Lock()

    def note(self, event: dict) -> None:
        for record in event.get("Records", []):
            due_at = (record.get("dynamodb", {}).get("NewImage") or {}).get("due_at", {})
            if "S" in due_at:
                with self._lock:
                    heapq.heappush(self._due, int(due_at["S"][:12], 16))

    def noting(self, handler):
        """`handler` (the stream's), noting each batch's due times first."""

        def handle(event, context):
            self.note(event)
            return handler(event, context)

        return handle

    def wait(self, stop_event: threading.Event, longest: float) -> bool:
        """Wait until a noted SendAt has come (forgetting it), `longest` seconds have gone
        by, or `stop_event` is set; False when it is set. Looks again each second, so that a
        message noted meanwhile (or a moved clock) is seen."""
        from chalicelib.runtime import clock

        deadline = time.monotonic() + longest
        while not stop_event.is_set():
            now_ms = clock.now_ms()
            with self._lock:
                came = bool(self._due) and self._due[0] <= now_ms
                while self._due and self._due[0] <= now_ms:
                    heapq.heappop(self._due)
                first = self._due[0] if self._due else None
            left = deadline - time.monotonic()
            if came or left <= 0:
                return True
            until_due = (first - now_ms) / 1000 if first is not None else left
            stop_event.wait(min(left, until_due, 1.0))
        return False


def _sweep(handler, stop_event: threading.Event, due: DueTimes) -> None:
    from devtools.event_sources import Context

    while due.wait(stop_event, SWEEP_SECONDS):
        # The EventBridge scheduled event Lambda receives.
        event = {
            "version": "0", "id": "local", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000", "region": "us-east-1",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "resources": [],
            "detail": {},
        }  # fmt: skip
        try:
            handler(event, Context("scheduler", timeout_ms=60_000))
        except Exception:
            log.exception("local scheduler failed")
