"""botocore calls to the embedded AWS without HTTP: the same WSGI app, the same locks, no
socket server, no HTTP parsing on either side.

The embedded AWS (devtools/services.py) is moto's WSGI app behind `AtomicRequests`
(devtools/atomic_moto.py). Over HTTP every call pays urllib3 and http.client in the caller, and
werkzeug's server in the embedded AWS: a profile of `make run` under load put most of the
embedded AWS's time there, beside moto itself. Here botocore's public `before-send` event hands
the request botocore has built and signed to that same WSGI app, and the app's answer back to
botocore as the response it would have read from the socket:

- in the process that holds the embedded AWS (make run's supervisor, the tests), directly;
- from another process (make run's HTTP child, which runs the app and its workers) through a
  door: a Unix socket in a private directory, one request and its answer at a time per
  connection, framed as two lengths, a JSON head (method, URL, headers / status, headers)
  and the body's bytes. The other side calls the app exactly as above.

Only requests to the embedded AWS's endpoint are taken; anything else goes over HTTP as
before, and so does everything from other processes (the admin command, a test's own
clients in another process). moto sees the same requests either way: what `AtomicRequests`
and moto do with them does not depend on how they arrived.
"""

import contextlib
import io
import json
import os
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from devtools import unix_door

HEAD = struct.Struct("!II")
# The door a child process should use, and the endpoint whose requests go through it.
DOOR_VARIABLE = "HERALD_EMBEDDED_AWS_DOOR"
ENDPOINT_VARIABLE = "HERALD_EMBEDDED_AWS_URL"
# A long poll waits up to 20 s; a door that says nothing for longer is gone.
DOOR_TIMEOUT = 60.0

Call = Callable[[str, str, list, bytes], tuple[int, list, bytes]]
# Endpoint URL -> how its requests are answered in this process.
_routes: dict[str, Call] = {}
_installed = threading.Lock()


def environ(method: str, url: str, headers: list, body: bytes) -> dict:
    """The WSGI environ werkzeug's server would build for this request."""
    parts = urlsplit(url)
    env = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(parts.path or "/").encode().decode("latin-1"),
        "QUERY_STRING": parts.query,
        "REQUEST_URI": url,
        "RAW_URI": url,
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": parts.hostname or "127.0.0.1",
        "SERVER_PORT": str(parts.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": parts.netloc,
    }
    for name, value in headers:
        if "_" in name:  # as werkzeug's server: X_Foo must not pass for X-Foo
            continue
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return env


def call_app(app, method: str, url: str, headers: list, body: bytes) -> tuple[int, list, bytes]:
    """Run one request through the WSGI `app`: (status, headers, body). A request the app
    fails on answers 500, as werkzeug's server answers it (the traceback to stderr)."""
    started: list = []

    def start_response(status, response_headers, exc_info=None):
        started[:] = [status, response_headers]
        return started.append  # the legacy write() callable

    try:
        answer = app(environ(method, url, headers, body), start_response)
        try:
            data = b"".join([*started[2:], *answer])
        finally:
            if hasattr(answer, "close"):
                answer.close()
    except Exception:
        traceback.print_exc()
        return 500, [("Content-Type", "text/plain")], b"Internal Server Error"
    return int(started[0].split(" ", 1)[0]), list(started[1]), data


# --- the botocore side ------------------------------------------------------------------------


class _Raw(io.BytesIO):
    """A response body as botocore reads it from urllib3."""

    def stream(self, **_):
        data = self.read()
        if data:
            yield data


def botocore_answer(url: str, status: int, headers, data: bytes):
    """The answer a `before-send` hook returns to botocore instead of sending the request:
    `status`, `headers` (a mapping or pairs) and the body's bytes, as if read from urllib3.
    The benchmarks and tests that play AWS's part through the hook answer with it too."""
    from botocore.awsrequest import AWSResponse

    return AWSResponse(url, status, headers, _Raw(data))


def _route_for(url: str) -> Call | None:
    for endpoint, call in _routes.items():
        if url == endpoint or url.startswith(endpoint + "/"):
            return call
    return None


def _before_send(request, **_):
    call = _route_for(request.url)
    if call is None:
        return None
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = [
        (name, value.decode("latin-1") if isinstance(value, bytes) else value)
        for name, value in request.headers.items()
    ]
    status, answer_headers, data = call(request.method, request.url, headers, bytes(body))
    return botocore_answer(request.url, status, answer_headers, data)


def route(endpoint: str, call: Call) -> None:
    """Answer this process's botocore requests to `endpoint` with `call`, from every client
    made from now on (and every client of boto3's default session made from now on)."""
    with _installed:
        if not _routes:
            import boto3
            import botocore.handlers

            if ("before-send", _before_send) not in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))
                if boto3.DEFAULT_SESSION is not None:
                    boto3.DEFAULT_SESSION.events.register("before-send", _before_send)
        _routes[endpoint.rstrip("/")] = call


def unroute(endpoint: str) -> None:
    with _installed:
        _routes.pop(endpoint.rstrip("/"), None)


# --- the door: another process's requests, over a Unix socket --------------------------------


def _send(sock: socket.socket, head, body: bytes) -> None:
    meta = json.dumps(head, separators=(",", ":")).encode()
    sock.sendall(HEAD.pack(len(meta), len(body)) + meta + body)


def _receive(sock: socket.socket) -> tuple[object, bytes] | None:
    """One frame, or None when the other side closed the connection between frames."""
    buffer = bytearray()
    while len(buffer) < HEAD.size:
        chunk = sock.recv(65536)
        if not chunk:
            if buffer:
                raise ConnectionError("the door closed in the middle of a frame")
            return None
        buffer += chunk
    meta_length, body_length = HEAD.unpack_from(buffer)
    total = HEAD.size + meta_length + body_length
    while len(buffer) < total:
        chunk = sock.recv(max(65536, total - len(buffer)))
        if not chunk:
            raise ConnectionError("the door closed in the middle of a frame")
        buffer += chunk
    meta = json.loads(buffer[HEAD.size : HEAD.size + meta_length])
    return meta, bytes(buffer[HEAD.size + meta_length : total])


class Door:
    """Serves the WSGI `app` on a Unix socket at `path`, a thread per connection."""

    def __init__(self, app, path: str):
        self.app, self.path = app, path
        # Looked up at each connection, not bound once (the tests count what it serves).
        self._listener = unix_door.Listener(path, lambda conn: self._serve(conn), "aws-door")

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError, ValueError):
            while (frame := _receive(conn)) is not None:
                (method, url, headers), body = frame
                status, answer_headers, data = call_app(self.app, method, url, headers, body)
                _send(conn, [status, answer_headers], data)

    def close(self) -> None:
        self._listener.close()


class DoorClient:
    """Calls through a Door from another process, on a pool of connections."""

    def __init__(self, path: str):
        self.path = path
        self._pool = unix_door.Pool(path, DOOR_TIMEOUT)

    def __call__(self, method: str, url: str, headers: list, body: bytes):
        from botocore.exceptions import EndpointConnectionError

        conn = None
        try:
            conn = self._pool.take()
            _send(conn, [method, url, headers], body)
            frame = _receive(conn)
            if frame is None:
                raise ConnectionError("the door closed")
        except (OSError, ValueError) as error:
            if conn is not None:
                conn.close()
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        self._pool.give(conn)
        (status, answer_headers), data = frame
        return status, answer_headers, data

    def close(self) -> None:
        self._pool.close()


def enter_from_environment(env: dict | None = None) -> DoorClient | None:
    """In make run's HTTP child: send the embedded AWS's requests through its door when the
    environment names one (DOOR_VARIABLE, ENDPOINT_VARIABLE); the client, to close at exit."""
    env = os.environ if env is None else env
    path, endpoint = env.get(DOOR_VARIABLE), env.get(ENDPOINT_VARIABLE)
    if not path or not endpoint:
        return None
    client = DoorClient(path)
    route(endpoint, client)
    return client
