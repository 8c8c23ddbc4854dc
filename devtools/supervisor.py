"""Serves Herald over HTTP on 127.0.0.1 without ever refusing a connection: this process
owns the listening socket and runs the app in a child process (devtools/http_child.py)
that serves on it; `make run` and the live-server tests both serve this way.

On a change to the app's own files (WATCHED, polled every half second) the supervisor
starts a new child, waits until it says it is ready, and only then asks the old one to
stop (it finishes its requests in flight). Connections made meanwhile wait in the socket's
backlog, so a restart refuses nothing. A child that fails to load leaves the old one
serving; the error is printed and the next change retries. Other files (`.hypothesis/`,
`build/`, tests, docs) never restart anything.
"""

import contextlib
import glob
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The app's own files: these at the top, and these kinds anywhere under chalicelib/.
WATCHED_TOP = ("app.py", ".chalice/config.json", "requirements*.txt")
WATCHED_PACKAGE = ("chalicelib", (".py", ".json", ".html", ".js", ".css"))
# The watcher's walk costs about 2 ms: twice a second, that was a third of an idle make run's
# CPU. Once a second, as werkzeug's reloader polls.
POLL_SECONDS = 1.0
READY_TIMEOUT = 60.0
# How long a stopping make run lets its child finish before killing it: its requests in
# flight take milliseconds, and its workers notice the stop within a long poll (2 s).
STOP_SECONDS = 3.0


def snapshot(root: Path = ROOT) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every watched file: a change, addition or removal alters it. One walk
    of the package (five recursive globs took 7 ms, twice a second: 1.5% of a core idle)."""
    files = {}

    def note(path: str) -> None:
        with contextlib.suppress(OSError):
            stat = os.stat(path)
            files[os.path.relpath(path, root)] = (stat.st_mtime_ns, stat.st_size)

    for pattern in WATCHED_TOP:
        for match in glob.glob(os.path.join(glob.escape(str(root)), pattern)):
            note(match)
    package, extensions = WATCHED_PACKAGE
    for directory, subdirectories, names in os.walk(root / package):
        subdirectories[:] = [name for name in subdirectories if name != "__pycache__"]
        for name in names:
            if name.endswith(extensions):
                note(os.path.join(directory, name))
    return files


def changed(before: dict, after: dict) -> list[str]:
    names = before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


def listen(port: int) -> socket.socket:
    """The listening socket on 127.0.0.1:port (0: a free port), shared with the children.

    Non-blocking, because two children accept on it during a restart and the one that
    loses the race for a connection must not block in accept(); O_NONBLOCK belongs to
    the socket itself, so every process sharing it sees it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(socket.SOMAXCONN)
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


class ChildFailed(RuntimeError):
    """The app did not load in a new child; the message says where and why."""


class Child:
    """One devtools.http_child process serving the app in `project_dir` on the socket."""

    def __init__(self, listener: socket.socket, env: dict, quiet: bool, project_dir: Path):
        read_end, write_end = os.pipe()
        output = subprocess.DEVNULL if quiet else None
        if project_dir != ROOT:  # devtools itself still comes from this checkout
            env = {
                **env,
                "PYTHONPATH": os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT)])),
            }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.http_child",
             "--listen-fd", str(listener.fileno()), "--ready-fd", str(write_end),
             "--parent-pid", str(os.getpid())],
            cwd=project_dir, env=env, stdin=subprocess.PIPE, stdout=output, stderr=output,
            pass_fds=(listener.fileno(), write_end),
            # Its own process group: a terminal's Ctrl-C reaches only this process, which
            # stops the child in order (a child interrupted while Python started printed a
            # traceback); it stops too when this process is gone, even killed (EOF on its
            # stdin, and it watches this process's pid: devtools/parent_watch.py).
            process_group=0,
        )  # fmt: skip
        os.close(write_end)
        self._ready = os.fdopen(read_end, "rb")
        self.pid = self.process.pid

    def go(self, env: dict) -> None:
        """Hand the child its environment: it has loaded its libraries meanwhile, and now
        loads the app and serves (devtools/http_child.py)."""
        with contextlib.suppress(OSError):  # it died: wait_ready says why
            self.process.stdin.write(json.dumps(env).encode() + b"\n")
            self.process.stdin.flush()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Return once the child accepts connections; raise ChildFailed (and stop it) if it
        says it failed, exits or stays silent for `timeout` seconds."""
        ready, _, _ = select.select([self._ready], [], [], timeout)
        answer = self._ready.readline().decode() if ready else ""
        if answer.startswith("ready"):
            self._ready.close()
            return
        rest = self._ready.read().decode().rstrip() if ready else f"  not ready in {timeout:.0f} s"
        self._ready.close()
        self.stop(timeout=5)
        raise ChildFailed(rest or f"  it exited with status {self.process.returncode}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 40.0) -> None:
        """Ask it to stop accepting and finish its requests in flight; kill it if it
        has not exited after `timeout` seconds."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Supervisor:
    """The listening socket, the current child, and the watcher that replaces it.
    `say` prints its messages (restarts, load errors)."""

    def __init__(self, listener, env: dict, quiet=False, project_dir=ROOT, say=None, prepare=None):
        self.listener = listener
        self.env = env
        # Work for the first start that the child need not wait for to load its libraries
        # (make run's embedded AWS): run while it loads; what it returns joins `env`.
        self.prepare = prepare
        self.quiet = quiet
        self.project_dir = Path(project_dir)
        self.say = say or ((lambda _text: None) if quiet else lambda text: print(text, flush=True))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self.child: Child | None = None
        self._loaded: dict = {}
        self._stopping: list[threading.Thread] = []
        self._done = threading.Event()

    @property
    def child_pid(self) -> int | None:
        return self.child.pid if self.child else None

    def start(self, reason: str | None = None) -> None:
        """Start a child and, once it is ready, make it the one serving; ask the old one
        (if any) to stop. Raises ChildFailed, leaving the old one serving."""
        old = self.child
        if old is None:  # what the first child loads: the watcher's first comparison
            self._loaded = snapshot(self.project_dir)
        new = Child(self.listener, self.env, self.quiet, self.project_dir)
        try:
            if self.prepare is not None:
                self.env = {**self.env, **self.prepare()}
                self.prepare = None
            new.go(self.env)
            new.wait_ready()
        except BaseException:
            # Ctrl-C or SIGTERM while it starts: it must not outlive us, serving on the
            # socket it inherited (ChildFailed has stopped it already).
            new.stop(timeout=STOP_SECONDS)
            raise
        self.child = new
        if old is not None:
            self.say(f"herald: {reason}: restarted (pid {old.pid} -> pid {new.pid})")
            stopping = threading.Thread(target=old.stop, name=f"stop-{old.pid}")
            stopping.start()
            self._stopping.append(stopping)

    def restart(self, reason: str) -> bool:
        """`start` after a change; on failure say why and keep the old child serving."""
        try:
            self.start(reason)
        except ChildFailed as failure:
            kept = f"pid {self.child.pid} serves on" if self.child else "nothing serves"
            self.say(f"herald: {reason}, but the app failed to load ({kept}):\n{failure}")
            return False
        return True

    def watch(self, interval: float = POLL_SECONDS) -> None:
        """Poll the watched files until `close()`; restart the child on a change, and
        when it dies (once: a replacement that fails to load waits for a change)."""
        seen, given_up = self._loaded, None
        while not self._done.wait(interval):
            now = snapshot(self.project_dir)
            names = changed(seen, now)
            if names:
                seen = now
                more = f" and {len(names) - 1} more" if len(names) > 1 else ""
                self.restart(f"{names[0]} changed{more}")
            elif self.child and not self.child.alive() and self.child is not given_up:
                died = self.child
                given_up = None if self.restart(f"the server (pid {died.pid}) exited") else died

    def close(self) -> None:
        """Stop everything: the child gets STOP_SECONDS to finish what it is doing (a
        restart's old child gets longer: nobody waits for it)."""
        self._done.set()
        if self.child is not None:
            self.child.stop(timeout=STOP_SECONDS)
        for stopping in self._stopping:
            stopping.join()
        self.listener.close()


@contextlib.contextmanager
def serving(
    env: dict, port: int = 0, watch: bool = False, quiet: bool = False, listener=None, **options
) -> Iterator[Supervisor]:
    """Herald on 127.0.0.1:port (0: a free one; or on `listener`, from `listen`) in a child
    process with `env`; with `watch`, restarted on every change to its files. Yields the
    Supervisor (its `url`, `child_pid`); on exit stops the child, the watcher and the socket.
    `options`: Supervisor's `project_dir` (this checkout), `say` and `prepare`."""
    supervisor = Supervisor(listener or listen(port), env, quiet, **options)
    watcher = threading.Thread(target=supervisor.watch, name="herald-watcher", daemon=True)
    try:
        supervisor.start()
        if watch:
            watcher.start()
        yield supervisor
    finally:
        supervisor._done.set()
        if watcher.is_alive():  # a Ctrl-C may land before (or while) it starts
            watcher.join()
        supervisor.close()


def wait_for_port_free(port: int, timeout: float = 10.0) -> bool:
    """True once nothing accepts on 127.0.0.1:port (the tests check that a stop frees it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.05)
    return False
