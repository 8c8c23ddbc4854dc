"""`make run` itself, as a subprocess (`python -m devtools.run` on a free port), with the
embedded AWS and real HTTP: concurrent idempotent retries, restarts that refuse nothing,
edits that break the app, malformed credentials, Ctrl-C.

It serves a copy of the app (app.py, chalicelib, .chalice) in a temporary directory, which
the tests touch and break freely; the watcher of a `make run` in this checkout never sees
them, and edits made here meanwhile never restart the server under test. Every answer names
the child process that served it (HERALD_DEBUG_CHILD_PID=1), so the tests see which process
answered each request across a restart.
"""

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devtools import server, supervisor
from tests.conftest import FROM, TO, basic
from tests.make_run import ROOT, SID, STOP_SECONDS, TOKEN, Herald, project_copy, started

pytestmark = pytest.mark.server

RESTARTED = re.compile(r"restarted \(pid (\d+) -> pid (\d+)\)")


@pytest.fixture(scope="module")
def herald(tmp_path_factory):
    with started(tmp_path_factory.mktemp("project")) as running:
        yield running
    assert running.process.returncode == 0
    assert supervisor.wait_for_port_free(running.port), "the port is still accepting"
    assert supervisor.wait_for_port_free(running.aws_port), "the embedded AWS still answers"
    assert not [pid for pid in running.child_pids if _alive(int(pid))]


def test_idempotent_creates_sent_three_times_at_once_make_one_message_each(herald):
    keys = [uuid.uuid4().hex for _ in range(200)]
    jobs = [key for key in keys for _ in range(3)]  # a key's three sends run side by side
    params = {"To": TO, "From": FROM, "Body": "once"}

    def create(key):
        try:
            status, _, data = herald.request(
                "POST", "/Messages.json", params, {"Idempotency-Key": key}
            )
        except OSError as error:
            return key, f"{type(error).__name__}", None
        return key, status, json.loads(data).get("sid") if status == 201 else data

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(create, jobs))
    statuses = Counter(status for _, status, _ in answers)
    assert statuses == {201: 600}, statuses
    sids_by_key: dict[str, set] = {}
    for key, _, sid in answers:
        sids_by_key.setdefault(key, set()).add(sid)
    assert [key for key, sids in sids_by_key.items() if len(sids) != 1] == []
    sids = {sid for sids in sids_by_key.values() for sid in sids}
    assert len(sids) == 200

    def fetch(sid):
        return herald.request("GET", f"/Messages/{sid}.json")[0]

    with ThreadPoolExecutor(16) as pool:
        fetched = Counter(pool.map(fetch, sids))
    assert fetched == {200: 200}


@contextlib.contextmanager
def clients(herald, count: int = 3):
    """`count` threads listing messages without pause (one of them on a keep-alive
    connection) until the block ends; yields the list of (status or error, pid) answers."""
    answers: list[tuple] = []
    done = threading.Event()

    def run(keep_alive: bool):
        conn = None
        if keep_alive:
            conn = http.client.HTTPConnection("127.0.0.1", herald.port, timeout=30)
        while not done.is_set():
            try:
                status, pid, _ = herald.request("GET", "/Messages.json?PageSize=1", conn=conn)
                answers.append((status, pid))
            except (OSError, http.client.HTTPException) as error:
                answers.append((repr(error), None))
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=run, args=(i == 0,)) for i in range(count)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        yield answers
    finally:
        done.set()
        for thread in threads:
            thread.join()


def test_a_file_outside_the_app_changes_nothing(herald):
    scratch = herald.project / ".hypothesis" / "examples" / "scratch"
    scratch.parent.mkdir(parents=True)
    with clients(herald) as answers:
        scratch.write_text("as hypothesis writes its database")
        time.sleep(1.5)  # three polls of the watcher
    assert answers and {status for status, _ in answers} == {200}
    assert len({pid for _, pid in answers}) == 1, "the server restarted"
    assert not any(RESTARTED.search(line) for line in herald.seen)


def test_a_change_to_the_app_restarts_it_without_failing_a_request(herald):
    touched = herald.project / "chalicelib" / "__init__.py"
    with clients(herald) as answers:
        os.utime(touched)  # the mtime only: the content stays as it is
        old, new = herald.wait_for(RESTARTED, timeout=60).groups()
        time.sleep(1.0)  # the keep-alive client moves over, the old process drains
    failures = [answer for answer in answers if answer[0] != 200]
    assert failures == [], f"{len(failures)} of {len(answers)} failed: {failures[:5]}"
    pids = [pid for _, pid in answers]
    assert pids[0] == old and pids[-1] == new and set(pids) == {old, new}
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and _alive(int(old)):
        time.sleep(0.1)
    assert not _alive(int(old)), "the old server did not exit"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is an exited child its parent has not waited for yet: exited all the same.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True


def test_a_broken_edit_keeps_the_old_server_serving_until_it_is_fixed(tmp_path):
    project_copy(tmp_path)
    app = tmp_path / "app.py"
    source = app.read_text()
    said: list[str] = []
    env = dict(os.environ, HERALD_DEBUG_CHILD_PID="1")
    with supervisor.serving(
        env, watch=True, quiet=True, project_dir=tmp_path, say=said.append
    ) as herald:
        first = str(herald.child_pid)
        app.write_text(source + "\ndef broken(:\n")
        failed = _wait_until(lambda: [t for t in said if "failed to load" in t], said=said)
        where, why = failed[0].splitlines()[1:]  # one short block: no traceback
        assert where == f"  app.py:{source.count(chr(10)) + 2}"
        assert why.startswith("  SyntaxError: "), failed[0]
        assert _openapi(herald.url) == (200, first), said
        app.write_text(source)
        restarted = _wait_until(lambda: [t for t in said if RESTARTED.search(t)], said=said)
        old, new = RESTARTED.search(restarted[0]).groups()
        assert old == first and _openapi(herald.url) == (200, new) and new != first, said


def test_the_watcher_watches_the_app_s_files_and_no_others(tmp_path):
    project = project_copy(tmp_path)
    (project / "chalicelib" / "inbox" / "extra.js").write_text("// new")
    for other in (".hypothesis/examples/x.py", "build/app.py", "docs/x.md", "tests/test_x.py"):
        (project / other).parent.mkdir(parents=True, exist_ok=True)
        (project / other).write_text("")
    (project / "requirements-extra.txt").write_text("")
    watched = supervisor.snapshot(project)
    assert "chalicelib/inbox/extra.js" in watched and "requirements-extra.txt" in watched
    assert {"app.py", ".chalice/config.json", "chalicelib/__init__.py"} <= set(watched)
    assert all(name.startswith("chalicelib/") or "/" not in name or name.startswith(".chalice/")
               for name in watched), sorted(watched)  # fmt: skip
    assert not [name for name in watched if "__pycache__" in name or name.endswith(".pyc")]


def test_the_child_loads_while_make_run_prepares(tmp_path):
    """make run's child loads its libraries while make run starts its embedded AWS, then
    takes the environment make run hands it (here: one that names the child in answers)."""
    seen = {}

    def prepare():
        seen["children"] = _children(os.getpid())
        return {"HERALD_DEBUG_CHILD_PID": "1"}

    env = {k: v for k, v in os.environ.items() if k != "HERALD_DEBUG_CHILD_PID"}
    with supervisor.serving(env, quiet=True, prepare=prepare) as herald:
        status, pid = _openapi(herald.url)
    assert herald.child_pid in seen["children"], "the child started after the preparation"
    assert status == 200 and pid == str(herald.child_pid)


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


# tgkill(2): a signal to one thread of another process; Python has no call for it.
TGKILL = {"x86_64": 234, "aarch64": 131}


def test_ctrl_c_stops_make_run_whichever_of_its_threads_the_kernel_hands_it_to(tmp_path):
    """A terminal's Ctrl-C goes to the process group, and the kernel may hand it to any
    thread of `make run` (the embedded AWS answers from many); it stopped only when the main
    thread got it. Here it goes straight to another thread."""
    import ctypes
    import platform

    if platform.machine() not in TGKILL:
        pytest.skip(f"no tgkill number known for {platform.machine()}")
    herald = Herald(project_copy(tmp_path))
    try:
        pid = herald.process.pid
        others = sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid)
        assert others, "make run has no thread besides its main one"
        libc = ctypes.CDLL(None, use_errno=True)
        # The oldest first: request threads come and go, and one may be gone already.
        tgkill = (
            libc.syscall(TGKILL[platform.machine()], pid, tid, signal.SIGINT) for tid in others
        )
        assert 0 in tgkill, "no thread besides the main one took the signal"
        herald.process.wait(timeout=STOP_SECONDS)
        assert herald.process.returncode == 0
        herald.wait_for(re.compile(r"^stopping Herald$"), 5)
    finally:
        server.stop(herald.process)


def test_ctrl_c_while_make_run_is_still_starting_says_so_and_stops(tmp_path):
    """Ctrl-C before the banner, here while make run waits on a DynamoDB that never answers,
    stops it as it does once serving: it says so, exits 0, no traceback. It once left
    silently, and a Ctrl-C landing while the banner was printed did the same."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = dict(os.environ, **server.FAKE_CREDENTIALS, PORT="0", PYTHONUNBUFFERED="1")
        env.update(DYNAMODB_ENDPOINT_URL=endpoint, PYTHONPATH=str(ROOT))
        process = subprocess.Popen(
            [sys.executable, "-m", "devtools.run"], cwd=project_copy(tmp_path), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            silent.settimeout(60)
            connection, _ = silent.accept()  # make run is now waiting on DynamoDB
            with connection:
                os.killpg(process.pid, signal.SIGINT)
                out, err = process.communicate(timeout=STOP_SECONDS)
        finally:
            server.stop(process)
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "stopping Herald", out
    assert "Traceback" not in err, err


def test_an_answer_leaves_in_one_write(herald):
    """Headers and body in one write: in two, on a kept-open connection, the body waited for
    the client's delayed ACK of the headers (Nagle), some 40 ms on every answer."""
    import socket

    with socket.create_connection(("127.0.0.1", herald.port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = (
            f"GET {herald.base}/Messages.json?PageSize=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {basic(SID, TOKEN)}\r\n\r\n"
        )
        for _ in range(3):  # the first answer on a connection, and the ones after
            sock.sendall(request.encode())
            first = sock.recv(65536)  # whatever the first segment brought
            head, _, body = first.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            assert head.startswith(b"HTTP/1.1 200") and len(body) == length, first


@pytest.mark.parametrize(
    ("how", "when"),
    [("SIGINT to the group", "first answer"), ("SIGTERM", "first answer"),
     ("SIGINT to the group", 0.3), ("SIGTERM", 0.6)],
)  # fmt: skip
def test_a_stop_while_it_starts_stops_everything(tmp_path, how, when):
    """Ctrl-C or SIGTERM while make run starts (its child loading, its embedded AWS being
    made) or right after its first answer: make run says so, exits 0 without a traceback,
    and its child stops too (it was left serving on the port for good, and a Ctrl-C that
    came as it started Python printed a traceback)."""
    env = dict(os.environ, PORT=str(_free_port()), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.update(HERALD_ACCOUNT_SID=SID, HERALD_AUTH_TOKEN=TOKEN)
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.run"], cwd=project_copy(tmp_path), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    port = int(env["PORT"])
    try:
        if when == "first answer":
            while _openapi_status(port) is None:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.005)
        else:
            time.sleep(when)
        if how == "SIGTERM":
            process.send_signal(signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)
        out, _ = process.communicate(timeout=STOP_SECONDS)
        assert process.returncode == 0, out
        assert "stopping Herald" in out and "Traceback" not in out, out
        assert _session_gone(process.pid), "a process of make run is still running"
        assert supervisor.wait_for_port_free(port), "the port is still accepting"
    finally:
        server.stop(process)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _openapi_status(port: int) -> int | None:
    try:
        return _openapi(f"http://127.0.0.1:{port}")[0]
    except OSError:
        return None


def _session_gone(session: int, timeout: float = STOP_SECONDS) -> bool:
    """True once no process of the session `session` runs (zombies aside)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for entry in os.listdir("/proc"):
            with contextlib.suppress(OSError, IndexError):
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if entry.isdigit() and fields[0] != "Z" and int(fields[3]) == session:
                    alive.append(entry)
        if not alive:
            return True
        time.sleep(0.1)
    return False


# A parent that serves Herald from a child (as make run does), the child writing its log to
# the parent's stderr; it prints the child's pid and its URL, and waits.
PARENT = """
import os, sys, time
from devtools import supervisor
with supervisor.serving(dict(os.environ)) as herald:
    if sys.argv[1] == "fork" and os.fork() == 0:
        time.sleep(300)  # a copy of the parent, holding what it held (the child's stdin)
        os._exit(0)
    print(herald.child_pid, herald.url, flush=True)
    time.sleep(300)
"""


@pytest.mark.parametrize("held", ["fork", "log"])
def test_the_child_never_outlives_make_run_killed_with_sigkill(held):
    """make run's parent killed with SIGKILL: its child is gone within seconds, whatever
    holds it. It stopped only when its stdin closed, so that a copy of its parent holding
    the pipe (a fork: multiprocessing's default) kept it serving for good; and with its log
    going to a full pipe nobody reads, its stop waited out a 30 s drain. Children were found
    serving with ppid 1 after their parent had died."""
    import fcntl
    import socket

    log_read, log_write = os.pipe()
    fcntl.fcntl(log_write, fcntl.F_SETPIPE_SZ, 4096)  # a few log lines fill it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HERALD_DEBUG_CHILD_PID", None)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, held], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=log_write, text=True, start_new_session=True,
    )  # fmt: skip
    os.close(log_write)
    child = None
    try:
        pid, url = parent.stdout.readline().split()
        child, port = int(pid), urlsplit(url).port
        for _ in range(2000 if held == "log" else 0):  # each request logs a line...
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"GET /nowhere HTTP/1.0\r\n\r\n")
                try:
                    sock.recv(65536)
                except TimeoutError:
                    break  # ...until one is never answered: the child is stuck writing it
        else:
            assert held == "fork", "the child's log never blocked it"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        # Its stop is given 3 s; a 30 s drain, or a stop that never comes, fails here.
        assert _gone(child, timeout=20), "the child outlived its parent"
    finally:
        if child is not None and not _gone(child, timeout=0):
            os.kill(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)  # the parent's fork
        server.stop(parent)
        parent.stdout.close()
        os.close(log_read)


def _gone(pid: int, timeout: float) -> bool:
    """True once `pid` has exited (a zombie counts: nothing runs)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z" or time.monotonic() >= deadline:
            return state == "Z"
        time.sleep(0.1)


def test_a_malformed_credential_stops_make_run_before_it_starts():
    for name, value in (("HERALD_ACCOUNT_SID", "AC123"), ("HERALD_AUTH_TOKEN", "X" * 32)):
        env = dict(os.environ, HERALD_ACCOUNT_SID=SID, HERALD_AUTH_TOKEN=TOKEN, PORT="0")
        env[name] = value
        done = subprocess.run(
            [sys.executable, "-m", "devtools.run"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.splitlines()) == 1 and name in done.stderr, done.stderr


def _wait_until(found, timeout: float = 30.0, said: list[str] | None = None):
    deadline = time.monotonic() + timeout
    while not (result := found()):
        assert time.monotonic() < deadline, f"not within {timeout} s; it said: {said}"
        time.sleep(0.1)
    return result


def _openapi(url: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=30)
    try:
        conn.request("GET", "/openapi.json")
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("X-Herald-Child-Pid")
    finally:
        conn.close()
