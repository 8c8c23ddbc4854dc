"""A child process that ends when its parent does, whatever holds it up.

make run's HTTP child (devtools/http_child.py) stops when its stdin, a pipe from its parent,
closes; but a stop can hang, and then the child outlives its parent with ppid 1, serving on
the port for good: a write to an output pipe nobody reads any more (its log lines, once the
pipe is full) blocks the stop and the interpreter's exit forever, and a process that
inherited the pipe's other end (a fork) keeps the EOF from ever coming.

So the child also watches its parent's life itself, not a pipe: on Linux it waits on a
pidfd (woken the moment the parent exits, no polling, whichever thread started the child),
elsewhere it asks for its ppid every POLL_SECONDS. Once the parent is gone it asks the
process to stop (the `stop` event) and, should that not end it within `grace` seconds,
SIGALRM does: its default action ends the process in the kernel, where no Python thread,
lock or full pipe can hold it.
"""

import contextlib
import math
import os
import select
import signal
import threading

POLL_SECONDS = 1.0


def exit_with(parent_pid: int, stop: threading.Event, grace: float) -> threading.Thread:
    """Watch `parent_pid` (this process's parent when it started us) from a daemon thread:
    when it is gone, set `stop`, and end this process `grace` seconds later at the latest.
    Call it from the main thread: it sets SIGALRM's action."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def watch() -> None:
        wait_for_exit(parent_pid)
        stop.set()
        signal.alarm(max(1, math.ceil(grace)))

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def wait_for_exit(parent_pid: int) -> None:
    """Return once `parent_pid` is no longer this process's parent (it exited, and this
    process was handed to init or a subreaper)."""
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or an old kernel
        pidfd = os.pidfd_open(parent_pid)
    try:
        # After opening: a parent gone before then may have left its pid to another process.
        if os.getppid() != parent_pid:
            return
        if pidfd is not None:
            select.select([pidfd], [], [])  # readable once the process has exited
            return
        while os.getppid() == parent_pid:
            threading.Event().wait(POLL_SECONDS)
    finally:
        if pidfd is not None:
            os.close(pidfd)
