"""make run's delivery pipeline in a process of its own (devtools/worker_process.py): it
stops when asked, and never outlives the HTTP child that started it, even killed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools import worker_process

ROOT = Path(__file__).resolve().parents[2]
# No queues: the process loads the app and waits, with no pipeline to run.
QUIET = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie is gone too: it waits only for its reaper.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def quiet(monkeypatch):
    """What the process started inherits: no queues (os.environ's own, as Popen passes it:
    a dict put in its place would not reach the process)."""
    for name in [name for name in os.environ if name.startswith("HERALD_")]:
        monkeypatch.delenv(name)


def test_it_stops_when_asked(quiet):
    pipeline = worker_process.Pipeline(str(ROOT))
    try:
        time.sleep(1.0)  # loading the app, or waiting: either way a SIGTERM stops it
        assert pipeline.process.poll() is None
        pipeline.stop(timeout=10)
        assert pipeline.process.returncode == 0
    finally:
        if pipeline.process.poll() is None:
            pipeline.process.kill()
            pipeline.process.wait()


def test_asked_to_stop_while_it_loads_the_app_it_stops_at_once(tmp_path):
    """Nothing is in flight before its workers start: a stop does not wait for the app to
    load (seconds at its niceness while make run stops around it, which outlasted the
    child's 3 s and made make run's stop 3.5 s)."""
    loading = tmp_path / "loading"
    (tmp_path / "app.py").write_text(
        f"import pathlib, time\npathlib.Path({str(loading)!r}).touch()\ntime.sleep(60)\n"
    )
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text('{"version": "2.0", "app_name": "slow"}')
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.worker_process", "--parent-pid", str(os.getpid())],
        cwd=tmp_path, env={**QUIET, "PYTHONPATH": str(ROOT)},  # its project is elsewhere
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not loading.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert loading.exists() and process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0  # TimeoutExpired: the load's 60 s were waited for
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_killed_while_the_child_serves_it_is_started_again(quiet):
    """Killed (or out of memory) while make run serves, the pipeline is started again, as
    Lambda starts another container: messages never stay queued for want of it."""
    pipeline = worker_process.Pipeline(str(ROOT))
    first = pipeline.process
    try:
        assert pipeline.keep_alive() is False and pipeline.process is first
        first.kill()
        first.wait()
        assert pipeline.keep_alive() is True
        assert pipeline.process is not first and pipeline.process.poll() is None
    finally:
        pipeline.stop(timeout=10)


def test_it_dies_with_the_child_that_started_it_even_killed():
    """The HTTP child killed (SIGKILL: no stop of its own) takes the pipeline with it, as
    the pipeline's threads died with it when they ran inside it."""
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from devtools import worker_process; "
         f"p = worker_process.Pipeline({str(ROOT)!r}).process; print(p.pid, flush=True); "
         "time.sleep(60)"],
        cwd=ROOT, env={**QUIET, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    worker_pid = None
    try:
        worker_pid = int(parent.stdout.readline())
        time.sleep(1.0)
        os.kill(worker_pid, 0)  # it runs
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _gone(worker_pid), "the pipeline's process outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if worker_pid is not None and not _gone(worker_pid, within=0):
            os.kill(worker_pid, signal.SIGKILL)
