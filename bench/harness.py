"""What every benchmark shares: an environment that cannot reach AWS, one receiver for status
callbacks, and AWS calls recorded and timed on botocore's public event hooks.

A benchmark runs as a module from the repository's root (`.venv/bin/python -m bench.<name>`,
as `make bench` and the smoke runs in tests/bench do), so it imports Herald as Herald's tests
do, with no path edits; it calls `offline` before anything imports boto3.
"""

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from devtools.server import never_aws


def offline(table_name: str, **extra: str) -> None:
    """This process's environment: fake credentials (no session token), a fixed region, the
    table `table_name`, `extra`, and no endpoint, so that nothing can reach AWS."""
    never_aws(table_name, **extra)


# --- status callbacks -------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    arrived: dict = field(default_factory=dict)  # (MessageSid, MessageStatus) -> first, ms
    count: int = 0
    bad_signatures: int = 0  # counted when the receiver checks signatures
    lock: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, sids: list[str], status: str, timeout: float) -> bool:
        """Wait until every one of `sids` had its `status` callback; False after `timeout`."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not all((sid, status) in self.arrived for sid in sids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 1.0))
        return True

    def summary(self, sids: list[str]) -> str:
        wanted = set(sids)
        with self.lock:
            statuses = Counter(status for sid, status in self.arrived if sid in wanted)
        shown = ", ".join(f"{name} {n}" for name, n in sorted(statuses.items()))
        return f"callbacks {shown or 'none'}; bad signatures {self.bad_signatures}"


@contextlib.contextmanager
def callback_receiver(hang_s: float = 0.0, auth_token: str | None = None) -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that notes when each (MessageSid, MessageStatus) first
    arrived (wall clock, ms) and answers 200, after `hang_s` seconds (a slow customer) or at
    once; with `auth_token`, it checks each X-Twilio-Signature with twilio's RequestValidator
    and counts the bad ones. Stopped, with its threads, when the block ends."""
    receiver = Receiver(url="")
    stopping = threading.Event()
    validator = None
    if auth_token is not None:
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(auth_token)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept-open connections, as Herald's client keeps them

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode(), True))
            valid = validator is None or validator.validate(
                f"http://{self.headers.get('Host')}{self.path}",
                form,
                self.headers.get("X-Twilio-Signature", ""),
            )
            with receiver.lock:
                key = (form.get("MessageSid"), form.get("MessageStatus"))
                receiver.arrived.setdefault(key, time.time() * 1000)
                receiver.count += 1
                receiver.bad_signatures += not valid
                receiver.lock.notify_all()
            if hang_s:
                stopping.wait(hang_s)
            with contextlib.suppress(OSError):
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="callback-receiver", daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/status"
    try:
        yield receiver
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


# --- AWS calls, on botocore's hooks -------------------------------------------------------------


class CallTimer:
    """The time of every AWS call made through `session` (a boto3 session: made before any
    client exists, every client made from it is seen), and of moto's handling
    of it when moto runs in this process, by `where` the call was made.

    A call runs from `before-parameter-build` to `after-call` (or `after-call-error`). moto
    answers on `before-send` (its stub is one of that event's handlers): a handler registered
    first and one registered last on the same event bracket it.
    """

    def __init__(self, session, clock=time.perf_counter):
        self.clock = clock  # time.thread_time: the CPU of the calling thread, for calls made
        self.where = "setup"  # at once on several threads (whose wall times overlap)
        self.api: Counter = Counter()  # where -> seconds
        self.moto: Counter = Counter()
        self.calls: Counter = Counter()  # (where, service, operation) -> calls
        self._started = threading.local()
        events = session.events
        events.register("before-parameter-build", self._call_starts)
        events.register("after-call", self._call_ends)
        events.register("after-call-error", self._call_ends)
        events.register_first("before-send", self._send_starts)
        events.register_last("before-send", self._send_ends)

    def _call_starts(self, **_):
        self._started.call = self.clock()

    def _call_ends(self, event_name: str, **_):
        started = getattr(self._started, "call", None)
        if started is None:
            return
        self._started.call = None
        self.api[self.where] += self.clock() - started
        _, service, operation = event_name.split(".")[:3]  # after-call[-error].<service>.<op>
        self.calls[(self.where, service, operation)] += 1

    def _send_starts(self, **_):
        self._started.send = self.clock()

    def _send_ends(self, **_):
        started = getattr(self._started, "send", None)
        if started is not None:
            self.moto[self.where] += self.clock() - started
            self._started.send = None

    def clear(self) -> None:
        self.api.clear(), self.moto.clear(), self.calls.clear()
