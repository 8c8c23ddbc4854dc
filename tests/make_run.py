"""`make run` as a user starts it, for the tests that drive it: `python -m devtools.run` in
a subprocess on a free port, serving a copy of the app, with its lines collected."""

import contextlib
import http.client
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from devtools import server
from tests.conftest import basic

ROOT = Path(__file__).resolve().parents[1]
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "fedcba9876543210" * 2
STOP_SECONDS = 60


def project_copy(where: Path) -> Path:
    """A copy of the app (app.py, chalicelib, .chalice) in `where`, for `make run` to serve
    and the tests to touch, so that neither disturbs nor is disturbed by anyone working in
    this checkout. devtools.run serves the project in its current directory."""
    shutil.copy2(ROOT / "app.py", where)
    shutil.copytree(ROOT / ".chalice", where / ".chalice")
    pycache = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "chalicelib", where / "chalicelib", ignore=pycache)
    return where


class Herald:
    """A running `python -m devtools.run` serving `project`; its stdout lines are collected
    as they come."""

    def __init__(self, project: Path):
        env = dict(os.environ, PORT="0", HERALD_DEBUG_CHILD_PID="1", PYTHONPATH=str(ROOT))
        env.update(HERALD_ACCOUNT_SID=SID, HERALD_AUTH_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
        self.project = project
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.run"],
            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = self.wait_for(re.compile(r"Herald is serving on (http://\S+)"), 60).group(1)
        self.port = urlsplit(self.url).port
        aws = self.wait_for(re.compile(r"DynamoDB: +(http://\S+)"), 10).group(1)
        self.aws_port = urlsplit(aws).port
        self.child_pids: set[str] = set()
        self.base = f"/2010-04-01/Accounts/{SID}"

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    # It may have exited with its last lines still on their way here.
                    self.reader.join(timeout=5)
                    assert not self.lines.empty(), f"devtools.run exited: {self.seen}"
                continue
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no {pattern.pattern!r} in {timeout} s: {self.seen}")

    def request(self, method, path, params=None, headers=None, conn=None):
        """(status, child pid, body): a new connection unless `conn` is given."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            body = urlencode(params) if params is not None else None
            headers = {"Authorization": basic(SID, TOKEN), **(headers or {})}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, self.base + path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            self.child_pids.add(response.getheader("X-Herald-Child-Pid"))
            return response.status, response.getheader("X-Herald-Child-Pid"), data
        finally:
            if own:
                conn.close()

    def stop(self):
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group.

        Allowed longer than the supervisor's own 40 s before it kills a child that will not
        stop, so that a hung child shows here as what it said, not as a bare timeout."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            said = self.said()
            raise AssertionError(f"not stopped in {STOP_SECONDS} s; it said: {said}") from None
        finally:
            server.stop(self.process)  # the whole session, should anything be left

    def said(self) -> list[str]:
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return self.seen[-20:]


@contextlib.contextmanager
def started(where: Path) -> Iterator[Herald]:
    """`make run` serving a copy of the app made in `where`, stopped (Ctrl-C) at the end."""
    running = Herald(project_copy(where))
    try:
        yield running
    finally:
        running.stop()
