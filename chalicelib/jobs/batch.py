"""Handling an SQS batch within its invocation's time, with Lambda's partial batch responses.

The jobs of a batch run at once, up to CONCURRENCY of them: one customer's slow URL holds
its own job, not the other nine. Each job runs within the invocation's remaining time
(Lambda's context.get_remaining_time_in_millis()) less RESERVE_SECONDS, kept for recording
outcomes and answering: chalicelib.runtime.budget carries that deadline into the job,
chalicelib.outbound.client caps every call to a user's URL by it, and a step that cannot finish a
piece of work in the time left does not start it (it raises OutOfTime). The batch answers
before Lambda's timeout would kill it, so a job that did not finish comes back alone
instead of bringing the whole batch back with it.

A job that fails (an exception, RetryLater, OutOfTime, or still running when the time is
up) is reported in `batchItemFailures`, so SQS hands that job alone over again and the rest
of the batch is done. RetryLater also says when: the job becomes visible again after its
delay instead of after the queue's whole visibility timeout; OutOfTime comes back at once.

A job's last receive (the queue's maxReceiveCount, chalicelib.delivery.sources): a job
that does not finish then goes to the dead-letter queue. The step's `last_receive` hook is
called first, to leave the job's message settled with a record of why (or its work handed
to a fresh job) instead of stranded; when it answers True the job is done.

An exception that is not an Exception (the process being stopped) escapes, and then the
whole batch comes back, as when a worker dies: every step is safe to run again.
"""

import contextvars
import json
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from chalicelib import observability
from chalicelib.runtime import budget
from chalicelib.storage import queues

log = logging.getLogger("herald.delivery")

CONCURRENCY = 10  # a batch's jobs run at once (Lambda hands over at most 10: sources.py)
RESERVE_SECONDS = 2.0  # of the invocation's time, kept for recording outcomes and answering
ANSWER_SECONDS = 0.5  # the batch answers this long before the invocation would be killed
DEFAULT_REMAINING_MS = 30_000  # without a Lambda context: a queue function's timeout
MIN_CALL_SECONDS = 1.0  # the least time worth starting a call to a user's URL with


@dataclass
class RetryLater(Exception):
    seconds: int
    reason: str = ""


class OutOfTime(Exception):
    """Too little of the invocation's time is left to start the job's next step: the job
    comes back at once, for an invocation with time to do it."""


@dataclass(frozen=True)
class Job:
    body: dict
    message_id: str
    receipt_handle: str
    receive_count: int
    deadline: float = math.inf  # a time.monotonic() value
    last_receive: bool = False  # not finishing now sends it to the dead-letter queue

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def require(self, seconds: float, what: str) -> None:
        """Raise OutOfTime unless `seconds` are left for `what`."""
        if self.seconds_left() < seconds:
            raise OutOfTime(
                f"{what}: {seconds:g} s needed, {max(0.0, self.seconds_left()):.1f} s left"
            )


class Unfinished(Exception):
    """Still running when the batch had to answer."""


# A step's hook for a job on its last receive that did not finish: (job, why) → done.
LastReceive = Callable[[Job, str], bool]


def process(
    event: dict,
    queue_url: str | None,
    handle: Callable[[Job], None],
    context=None,
    *,
    max_receives: int | None = None,
    last_receive: LastReceive | None = None,
) -> dict:
    ends = time.monotonic() + _remaining_ms(context) / 1000
    deadline = ends - RESERVE_SECONDS
    jobs = [_job(record, deadline, max_receives) for record in event.get("Records", [])]
    if not jobs:
        return {"batchItemFailures": []}
    pool = ThreadPoolExecutor(min(CONCURRENCY, len(jobs)), thread_name_prefix="herald-job")
    # Each job in a copy of this context: the invocation's ids go into its log lines.
    futures = [pool.submit(contextvars.copy_context().run, _run, job, handle) for job in jobs]
    done, _ = wait(futures, timeout=max(0.0, ends - ANSWER_SECONDS - time.monotonic()))
    pool.shutdown(wait=False, cancel_futures=True)
    problems = []
    for job, future in zip(jobs, futures, strict=True):
        problem = future.exception() if future in done else Unfinished()
        if problem is not None and not isinstance(problem, Exception):
            raise problem  # the process is dying: the whole batch comes back
        if problem is not None:
            problems.append((job, problem))
    failures = []
    for job, problem in problems:
        if job.last_receive and last_receive is not None and _settled(last_receive, job, problem):
            continue
        _come_back(queue_url, job, problem)
        failures.append({"itemIdentifier": job.message_id})
    return {"batchItemFailures": failures}


def _run(job: Job, handle: Callable[[Job], None]) -> None:
    with budget.until(job.deadline):
        handle(job)


def _come_back(queue_url: str | None, job: Job, problem: Exception) -> None:
    if isinstance(problem, RetryLater | OutOfTime):
        seconds = problem.seconds if isinstance(problem, RetryLater) else 0
        try:
            queues.retry_later(queue_url, job.receipt_handle, seconds)
        except Exception:  # it comes back after the queue's visibility timeout instead
            log.exception("job %s: could not set when it comes back", job.message_id)
    elif isinstance(problem, Unfinished):
        # It may still be running: it comes back after the queue's visibility timeout.
        observability.event(
            "job.unfinished", level="warning", message_id=job.message_id,
            reason="still running when the invocation's time ran out",
        )  # fmt: skip
    else:
        log.error(
            "job %s failed; SQS will hand it over again", job.message_id,
            exc_info=(type(problem), problem, problem.__traceback__),
        )  # fmt: skip


def _settled(last_receive: LastReceive, job: Job, problem: Exception) -> bool:
    reason = _why(problem)
    try:
        settled = bool(last_receive(job, reason))
    except Exception:
        log.exception("job %s: its last receive could not be settled", job.message_id)
        settled = False
    observability.event(
        "job.last_receive",
        level="warning" if settled else "error",
        message_id=job.message_id,
        attempt=job.receive_count,
        outcome="settled" if settled else "dead_letter",
        reason=reason,
    )
    return settled


def _why(problem: Exception) -> str:
    if isinstance(problem, RetryLater):
        return f"to be retried later ({problem.reason or 'no reason given'})"
    if isinstance(problem, OutOfTime | Unfinished):
        return f"out of time ({problem.args[0] if problem.args else 'the invocation ended'})"
    return f"failed ({type(problem).__name__})"


def _remaining_ms(context) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return DEFAULT_REMAINING_MS
    return float(remaining())


def _job(record: dict, deadline: float, max_receives: int | None) -> Job:
    count = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
    return Job(
        body=_body(record.get("body", "")),
        message_id=record.get("messageId", ""),
        receipt_handle=record.get("receiptHandle", ""),
        receive_count=count,
        deadline=deadline,
        last_receive=max_receives is not None and count >= max_receives,
    )


def _body(text: str) -> dict:
    try:
        body = json.loads(text)
    except ValueError:
        return {"raw": text}
    return body if isinstance(body, dict) else {"raw": text}
