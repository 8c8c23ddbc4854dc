"""What bench/local.py drives: `make run` as a user starts it (a separate process tree, read
through /proc). Its status callbacks go to bench.harness's receiver, which checks every
signature."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import http_load

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
STOP_LIMIT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MakeRun:
    """`python -m devtools.run` (what `make run` runs once installed) on a free port, with a
    fixed account; its output collected, its processes read through /proc."""

    def __init__(self, sid: str, token: str, **env: str):
        self.port = free_port()
        self.calm = 3.0
        environment = dict(os.environ, PORT=str(self.port), PYTHONUNBUFFERED="1", **env)
        environment.update(HERALD_ACCOUNT_SID=sid, HERALD_AUTH_TOKEN=token)
        for name in ("DYNAMODB_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
            environment.pop(name, None)
        self.began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.run"], cwd=ROOT, env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._banner = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops everything"):
                self._banner.set()

    def wait_first_answer(self, request: bytes, timeout: float = 60.0) -> float:
        """Seconds from the start until `request` got any HTTP answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            connection = http_load.Connection(self.port, timeout=10)
            try:
                connection.send(request)
                return time.perf_counter() - self.began
            except OSError:
                time.sleep(0.005)
            finally:
                connection.close()
            if self.process.poll() is not None:
                break
        raise RuntimeError(f"make run did not answer: {self.lines[-20:]}")

    def wait_banner(self, timeout: float = 60.0) -> None:
        if not self._banner.wait(timeout):
            raise RuntimeError(f"no banner from make run: {self.lines[-20:]}")

    def pids(self) -> list[int]:
        """make run's process and its descendants."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in os.listdir(f"/proc/{pid}/task"):
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                    queue += [int(child) for child in children]
        return found

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / TICKS
        return total

    def idle_cpu(self, seconds: float) -> float:
        """% of one core that make run's processes used over `seconds` with no request."""
        before, began = self.cpu_seconds(), time.perf_counter()
        time.sleep(seconds)
        return (self.cpu_seconds() - before) / (time.perf_counter() - began) * 100

    def rss_mib(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def stop(self, how: str = "term") -> float:
        """SIGTERM to make run ("term"), or SIGINT to its process group as a terminal's
        Ctrl-C ("int"); seconds until it exited (killed after STOP_LIMIT)."""
        began = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            if how == "term":
                self.process.send_signal(signal.SIGTERM)
            else:
                os.killpg(self.process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_LIMIT)
        # Stopped means every process it started is gone too (its HTTP child holds the port).
        while time.perf_counter() - began < STOP_LIMIT and self._group_alive():
            time.sleep(0.01)
        took = time.perf_counter() - began
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything it left behind
        self.process.wait()
        return took

    def _group_alive(self) -> bool:
        """Whether any process of make run's session is still running (zombies aside)."""
        if self.process.poll() is None:
            return True
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z" and int(fields[3]) == self.process.pid:  # its session
                    return True
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # Not a measured stop, but a clean one: SIGKILL left make run's private directories
        # (its sockets, the stream's checkpoint) in /tmp on every run.
        if self.process.poll() is None:
            self.stop("term")


def wait_for_calm(run: MakeRun, timeout: float = 120.0) -> None:
    """Until make run's processes use less than `run.calm` % of a core over half a second
    (3, or more where it is never less when idle): the pipeline has finished what the
    last measurement left it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.idle_cpu(0.5) >= run.calm:
        pass
