"""Scheduled sends: every minute, dispatch the scheduled messages whose SendAt has come.

A scheduled message waits in a sparse index sorted by SendAt (storage.schema's `due`
index). Dispatching it is one conditional write, scheduled → queued (accepted with a
Messaging Service), allowed by the transitions table; the table's stream then queues it for
a worker like any new message. A cancel is the same kind of write, scheduled → canceled, so
exactly one of them wins: a cancel that loses answers 30409 and the message is sent; a cancel
that wins leaves nothing to dispatch. Each message is dispatched once however often the sweep
runs or overlaps with itself. Each message dispatched writes a `schedule.dispatch` line, and
each sweep a `schedule.sweep` line with how many it dispatched.
"""

import time

from chalicelib import observability, storage
from chalicelib.messages import lifecycle
from chalicelib.messages.status import Status
from chalicelib.runtime import clock
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import schema

# A bound on one sweep's work per partition; what is left waits for the next minute.
PER_PARTITION = 500


def sweep(now_ms: int | None = None) -> int:
    """Dispatch every due scheduled message; how many this sweep dispatched."""
    started = time.perf_counter()
    now_ms = clock.now_ms() if now_ms is None else now_ms
    dispatched = 0
    for partition in schema.due_partitions():
        for account_sid, sid in stored_messages.due_messages(partition, now_ms, PER_PARTITION):
            if _dispatch(account_sid, sid):
                dispatched += 1
    observability.event(
        "schedule.sweep",
        level="info" if dispatched else "debug",
        dispatched=dispatched,
        latency_ms=observability.elapsed_ms(started),
    )
    return dispatched


def _dispatch(account_sid: str, sid: str) -> bool:
    fields = stored_messages.get_message(account_sid, sid)
    if fields is None or fields.get("status") != Status.SCHEDULED:
        return False
    target = Status.ACCEPTED if fields.get("messaging_service_sid") else Status.QUEUED
    try:
        lifecycle.transition(account_sid, sid, target)
    except (storage.Missing, storage.WrongState):
        return False  # canceled or deleted meanwhile: the cancel won
    observability.event(
        "schedule.dispatch", account_sid=account_sid, sid=sid, status=target, outcome="dispatched"
    )
    return True
