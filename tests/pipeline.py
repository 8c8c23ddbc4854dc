"""The delivery pipeline under test: the app's real handlers, fed by the table's stream and
the delivery queues of an embedded AWS server (moto, atomic), with a callback receiver on
127.0.0.1 and a handle on the sandbox carrier's hand-offs.

A test drives it step by step: `drain()` plays Lambda's event sources until nothing is left
to do, so every status a test then reads is the final one for what it has done so far.
"""

import contextlib
import os
import threading
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

import pytest

from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.carriers.base import Accepted
from chalicelib.carriers.sandbox import Sandbox
from chalicelib.storage import queues, tokens
from devtools import event_sources, local_aws
from tests.conftest import FROM, TO, body, make  # noqa: F401 (FROM, TO: for importers)

PIPELINE_ENV = {
    "HERALD_SANDBOX_DELAY_SECONDS": "0",
    "HERALD_ALLOW_PRIVATE_URLS": "1",
    "HERALD_RETRY_BASE_SECONDS": "0",
    "HERALD_TABLE_NAME": "herald-pipeline",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    form: dict


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers `answers` in turn
    (then 200): a status code, ("slow", seconds), ("redirect", url), (status, content
    type, body), or a function called (while the caller waits) for one of those."""

    server: ThreadingHTTPServer
    requests: list = field(default_factory=list)
    answers: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


@contextlib.contextmanager
def receiver():
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.do_POST()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            text = self.rfile.read(length).decode()
            found = state["receiver"]
            found.requests.append(
                Request(self.command, self.path, dict(self.headers), dict(parse_qsl(text, True)))
            )
            answer = found.answers.pop(0) if found.answers else 200
            if callable(answer):
                answer = answer()
            if isinstance(answer, tuple) and isinstance(answer[0], int):
                status, content_type, payload = answer
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if isinstance(answer, tuple) and answer[0] == "slow":
                threading.Event().wait(answer[1])
                answer = 200
            if isinstance(answer, tuple) and answer[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", answer[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Pipeline:
    def __init__(self, endpoint: str, env: dict, app_module):
        self.endpoint = endpoint
        self.env = env
        self.app = app_module
        self.sources = local_aws.event_sources(app_module.app, dict(os.environ))
        # Per Sid: hand-offs the carrier took (Accepted), and every call to the carrier.
        self.handoffs: Counter = Counter()
        self.calls: Counter = Counter()

    def source(self, name: str):
        return next(s for s in self.sources if s.name == name)

    def drain(self) -> int:
        return event_sources.drain(self.sources)


def reset_modules() -> None:
    storage.reset()
    queues.reset()
    tokens.reset()
    credentials.forget()


@contextlib.contextmanager
def pipeline_on(endpoint: str, monkeypatch):
    """A fresh pipeline on the embedded server at `endpoint` (its state reset first)."""
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"))
    for name, value in {
        **PIPELINE_ENV,
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    reset_modules()
    storage.ensure_table()
    env = local_aws.provision(endpoint, visibility_seconds=1)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import app as app_module

    line = Pipeline(endpoint, env, app_module)
    real_send = Sandbox.send

    def counted(self, message):
        line.calls[message.sid] += 1
        outcome = real_send(self, message)
        if isinstance(outcome, Accepted):
            line.handoffs[message.sid] += 1
        return outcome

    monkeypatch.setattr(Sandbox, "send", counted)
    try:
        yield line
    finally:
        reset_modules()


create = make  # a message, as the pipeline's tests name it (From FROM, To TO)


def fetched(api, sid) -> dict:
    return body(api.fetch(sid))


# What the sandbox does with each destination, as the tests expect it (an oracle of its
# own, not chalicelib.carriers.sandbox's table): (To, final status, error code).
SANDBOX_OUTCOMES = [
    ("+14155550100", "delivered", None),
    ("+15005550010", "sent", None),
    ("+15005550011", "undelivered", 30003),
    ("+15005550012", "undelivered", 30005),
    ("+15005550013", "undelivered", 30006),
    ("+15005550014", "undelivered", 30007),
    ("+15005550015", "failed", 30008),
    ("+15005550016", "failed", 30001),
    ("+15005550017", "failed", 30410),
    ("+14254147755", "delivered", None),
    ("+14254147167", "undelivered", 30003),
]


# --- a process that dies ----------------------------------------------------------------


class Killed(BaseException):
    """The process dies here."""


def kill_once(monkeypatch, target, name, when="before"):
    """Make target.name die once: before doing its work, or after it."""
    real = getattr(target, name)
    state = {"killed": False}

    def dying(*args, **kwargs):
        if state["killed"]:
            return real(*args, **kwargs)
        state["killed"] = True
        if when == "before":
            raise Killed(name)
        result = real(*args, **kwargs)
        raise Killed(name)
        return result

    monkeypatch.setattr(target, name, dying)


def drain_until_killed(line):
    with pytest.raises(Killed):
        line.drain()


# --- two-way: a handset texts one of the account's numbers (FROM) -------------------------

HANDSET = "+14155550142"


def register(api, **params) -> dict:
    response = api.request(
        "POST", api.base + "/IncomingPhoneNumbers.json", params={"PhoneNumber": FROM, **params}
    )
    assert response.status_code == 201, response.body
    return body(response)


def text(api, body_text="hello", handset=HANDSET, to=FROM, **params):
    return api.request(
        "POST",
        api.base + "/Sandbox/Inbound.json",
        params={"From": handset, "To": to, "Body": body_text, **params},
    )


def received(api, line, **params) -> dict:
    response = text(api, **params)
    assert response.status_code == 201, response.body
    line.drain()
    return body(response)


def listed(api, **query) -> list[dict]:
    return body(api.list(urlencode(query)))["messages"]


def twiml(*messages_xml: str) -> str:
    return "<Response>" + "".join(messages_xml) + "</Response>"
