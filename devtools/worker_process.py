"""make run's delivery pipeline in a process of its own, beside the HTTP child that serves
the API (devtools/http_child.py), as on AWS the API function and the delivery functions are
separate Lambdas.

In one process the two shared one interpreter lock: every batch the stream and the queues
handed over ran on the core that was answering creates, and a burst of creates was as slow
as its own delivery. Here the HTTP child starts this process once it serves, with its own
environment (the embedded AWS's doors, the queues), and the process loads the app and runs
the local workers (devtools/local_workers.py) until the child stops it. It runs at a lower
priority (NICENESS): when both want the cores, requests are answered first and delivery
catches up after; when the API is idle, delivery has them all.

It never outlives the child: on Linux the kernel kills it the moment the child dies, even
killed (PR_SET_PDEATHSIG), as its threads died with the child before; elsewhere it stops
once it sees the child gone (devtools/parent_watch.py). A stopping child asks it to stop
(SIGTERM): it finishes its batches in flight, within a long poll's wait.

    python -m devtools.worker_process --parent-pid P [--stage local]
"""

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger("herald.local")
NICENESS = 10
# How long the process may take to finish its batches once asked to stop.
STOP_SECONDS = 3.0
_PR_SET_PDEATHSIG = 1


class Pipeline:
    """The pipeline's process for the app in `project_dir`, a child of this process (with its
    environment and output), started again should it die while this one serves."""

    def __init__(self, project_dir: str, stage: str = "local"):
        self.project_dir, self.stage = project_dir, stage
        self._asked = False
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "devtools.worker_process",
             "--parent-pid", str(os.getpid()), "--stage", self.stage],
            cwd=self.project_dir, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def keep_alive(self) -> bool:
        """Start it again if it died (killed, out of memory): as Lambda starts another
        container, and the stream and queues hand over again what it had not finished.
        True when it had to."""
        if self.process.poll() is None:
            return False
        log.warning("the delivery pipeline's process exited (%s): starting it again",
                    self.process.returncode)  # fmt: skip
        self.process, self._asked = self._spawn(), False
        return True

    def ask_to_stop(self) -> None:
        """SIGTERM (once): it finishes its batches in flight, then exits."""
        if self.process.poll() is None and not self._asked:
            self._asked = True
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask it to stop and wait up to `timeout` seconds; kill it if it has not."""
        self.ask_to_stop()
        try:
            self.process.wait(timeout=max(0.1, timeout))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _die_with(parent_pid: int) -> bool:
    """Have the kernel kill this process when its parent dies (Linux); False elsewhere, or
    when the parent is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    return os.getppid() == parent_pid  # it may have died before the prctl


def main(argv: list[str] | None = None) -> int:
    from devtools import direct_aws, local_workers, parent_watch
    from devtools.chalice_app import load_app
    from devtools.memory_aws import door as memory_door

    parser = argparse.ArgumentParser()
    parser.add_argument("--parent-pid", type=int, default=os.getppid())
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child decides when this one stops
    stop_event = threading.Event()
    # Until its workers start it has nothing in flight: a stop ends it at once. Loading the
    # app takes seconds at NICENESS while make run stops around it, and a stop that waited
    # for the load outlasted the child's 3 s (make run then took 3.5 s to stop).
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if not _die_with(args.parent_pid):
        parent_watch.exit_with(args.parent_pid, stop_event, STOP_SECONDS)
    if os.getppid() != args.parent_pid:
        return 0
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    doors = [direct_aws.enter_from_environment(), memory_door.enter_from_environment()]
    app, _ = load_app(os.getcwd(), args.stage)
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    workers = [] if stop_event.is_set() else local_workers.start(app, stop_event)
    while not stop_event.wait(1.0):
        pass
    deadline = time.monotonic() + STOP_SECONDS
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    for door in doors:
        if door is not None:
            door.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
