"""How long the job at hand may still take: its invocation's remaining time (Lambda's
context.get_remaining_time_in_millis()), less what its batch keeps for recording outcomes
and answering. chalicelib.jobs.batch sets it around each job; chalicelib.outbound.client caps
every request's timeouts by it, so a call to a user's URL ends before the invocation does.
Outside a job (the API, tests calling a step directly) there is no limit.

A context variable, as the invocation's ids in log lines are: it follows the job into the
thread that runs it, and a carrier or a media fetch several calls down reads the same
deadline without every signature in between carrying it.
"""

import contextlib
import contextvars
import math
import time

_deadline: contextvars.ContextVar[float] = contextvars.ContextVar(
    "herald_deadline", default=math.inf
)


def left() -> float:
    """Seconds the job has left (math.inf outside a job; negative once it has run out)."""
    return _deadline.get() - time.monotonic()


@contextlib.contextmanager
def until(deadline: float):
    """Run the block as a job that must be done by `deadline` (a time.monotonic() value)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextlib.contextmanager
def within(seconds: float):
    """Run the block within `seconds`, or within the job's own deadline if that comes first."""
    with until(min(_deadline.get(), time.monotonic() + seconds)):
        yield
