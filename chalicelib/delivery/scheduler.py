"""Scheduled sends: every minute, dispatch the scheduled messages whose SendAt has come.

A scheduled message waits in a sparse index sorted by SendAt (storage.schema's `due`
index). Dispatching it is one conditional write, scheduled → queued (accepted with a
Messaging Service), allowed by the transitions table; the table's stream then queues it for
a worker like any new message. A cancel is the same kind of write, scheduled → canceled, so
exactly one of them wins: a cancel that loses answers 30409 and the message is sent; a cancel
that wins leaves nothing to dispatch. Each message is dispatched once however often the sweep
runs or overlaps with itself. Each message dispatched writes a `schedule.dispatch` line, and
each sweep a `schedule.sweep` line with how many it dispatched.

The sweep fans out: the 32 `due` partitions are read and dispatched at once, one thread
each, and each partition is read page after page until nothing due is left or the
invocation's time is nearly up (what is left waits for the next minute). A dispatch is two
calls (a read and a conditional write, ~10 ms), so one partition hands off ~100 messages a
second and the sweep ~3,200: 10,000 messages due in the same minute (~313 per partition,
random Sids) are handed off in about 3 s (docs/table-design.md).
"""

import time
from concurrent.futures import ThreadPoolExecutor

from chalicelib import observability, storage
from chalicelib.messages import lifecycle
from chalicelib.messages.status import Status
from chalicelib.runtime import clock
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import schema

# Due messages read from a partition at a time.
PAGE = 200
# The time a sweep keeps for itself at the end of its invocation (its timeout is 60 s).
RESERVE_SECONDS = 5.0
DEFAULT_SECONDS = 60.0


def sweep(now_ms: int | None = None, context=None) -> int:
    """Dispatch every due scheduled message, the partitions at once; how many this sweep
    dispatched. `context` (Lambda's) says how long the invocation has left."""
    started = time.perf_counter()
    now_ms = clock.now_ms() if now_ms is None else now_ms
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining() / 1000 if remaining else DEFAULT_SECONDS
    deadline = time.monotonic() + max(seconds - RESERVE_SECONDS, 1.0)
    partitions = schema.due_partitions()
    with ThreadPoolExecutor(len(partitions), thread_name_prefix="herald-due") as pool:
        counts = list(pool.map(lambda p: _drain(p, now_ms, deadline), partitions))
    dispatched = sum(counts)
    observability.event(
        "schedule.sweep",
        level="info" if dispatched else "debug",
        dispatched=dispatched,
        latency_ms=observability.elapsed_ms(started),
    )
    return dispatched


def _drain(partition: str, now_ms: int, deadline: float) -> int:
    """Dispatch one partition's due messages, a page at a time, until none is left (or
    only ones that could not be dispatched: deleted meanwhile) or the deadline."""
    dispatched = 0
    while time.monotonic() < deadline:
        due = stored_messages.due_messages(partition, now_ms, PAGE)
        done = sum(_dispatch(account_sid, sid) for account_sid, sid in due)
        dispatched += done
        if len(due) < PAGE or not done:
            break
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
