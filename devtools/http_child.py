"""The HTTP side of `make run` and the live-server tests: one process that loads the Chalice
app with its `local` stage, as `chalice local` does, and serves it on a listening socket it
inherits from the supervisor (devtools/supervisor.py), which keeps that socket open across
restarts so that no connection is ever refused.

    python -m devtools.http_child --listen-fd N --ready-fd M [--parent-pid P] [--stage local]

It writes `ready <pid>` on the ready pipe once it accepts connections and has started the
delivery pipeline's process (devtools/worker_process.py), or `failed` and a short error when
the app does not load. It serves until SIGTERM or until its stdin (a pipe from the
supervisor) closes; then it stops accepting, finishes the requests in flight, stops the
pipeline's process and exits. It
never outlives the supervisor: within ORPHAN_SECONDS of its death it is gone, even when its
stop hangs (devtools/parent_watch.py).

Every answer is Twilio's error JSON or the app's own: any method reaches the app (whose
routes answer the methods they do not serve with Twilio's 405), a path no route declares
gets 404 / 20404 as on API Gateway, and http.server's own errors (bad request line, HTTP
version, oversized line) are JSON instead of its HTML page.
"""

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from chalice.local import ChaliceRequestHandler, LocalGateway, LocalGatewayException

from devtools import direct_aws, inherited_server, parent_watch, worker_process
from devtools.chalice_app import load_app, short_error
from devtools.memory_aws import door as memory_door

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
# An HTTP method is a token (RFC 9110 5.6.2); anything else is a malformed request.
METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# API Gateway refuses a payload over 10 MB before the function runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# Twilio codes for the statuses the server answers without the app.
TWILIO_CODES = {404: 20404, 405: 20004, 429: 20429}
# When set, every answer names the process that served it (the restart tests use it).
DEBUG_PID = os.environ.get("HERALD_DEBUG_CHILD_PID") == "1"
# How long a stopping server waits for the requests in flight, and for a connection it
# would close to stay idle first.
# How long a child whose supervisor died may take to stop before it is ended.
ORPHAN_SECONDS = 3.0


def twilio_error(status: int, message: str) -> bytes:
    code = TWILIO_CODES.get(status, 20500 if status >= 500 else 20001)
    more_info = MORE_INFO.format(code=code)
    body = {"code": code, "message": message, "more_info": more_info, "status": status}
    return json.dumps(body, separators=(",", ":")).encode()


class BodyError(Exception):
    """A request body that cannot be read: (HTTP status, message)."""


class TwilioGateway(LocalGateway):
    def _has_user_defined_options_method(self, lambda_event) -> bool:
        # API Gateway answers OPTIONS itself only on a route with CORS: Herald's routes
        # have none, so OPTIONS reaches the function as any other method does.
        views = self._app_object.routes[lambda_event["requestContext"]["resourcePath"]]
        return "OPTIONS" in views or not any(view.cors for view in views.values())


class TwilioRequestHandler(ChaliceRequestHandler):
    """chalice local's handler, with every method routed and every error in Twilio's JSON."""

    server: "inherited_server.InheritedSocketServer"
    # http.server assumes HTTP/0.9 until the request line says otherwise, and answers 0.9
    # with a bare body: junk that is no request line at all still gets a status line.
    default_request_version = "HTTP/1.0"
    # Buffered, flushed once per request by http.server: the headers and the body leave in
    # one write. Unbuffered, they left in two, and on a kept-open connection the body waited
    # for the client's delayed ACK of the headers (Nagle): ~40 ms on every answer.
    wbufsize = -1

    def __init__(self, request, client_address, server, app_object, config):
        self.local_gateway = TwilioGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name):
        # http.server looks up do_<METHOD> and answers 501 in HTML when there is none.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def handle_one_request(self):
        # Between two requests a keep-alive connection is idle: a stopping server closes it
        # once it stays idle (drain).
        self.server.reading_next(self.connection)
        super().handle_one_request()

    def parse_request(self):
        self.server.request_started(self.connection)
        return super().parse_request()

    def _generic_handle(self):
        if not METHOD.match(self.command):
            self.send_error(400, f"Bad request method {self.command!r}")
            return
        try:
            body = self._read_body()
        except BodyError as error:
            self.send_error(*error.args)
            return
        try:
            response = self.local_gateway.handle_request(
                method=self.command, path=self.path, headers=dict(self.headers), body=body
            )
        except LocalGatewayException:
            # No route matches (app.py's catch-alls stop at nine segments): the deploy
            # templates answer API Gateway's "Missing Authentication Token" this way.
            message = f"The requested resource {self.path.split('?')[0]} was not found"
            self._send_http_response(404, {}, twilio_error(404, message))
            return
        except Exception:
            self.log_error("%s", traceback.format_exc())
            self._send_http_response(500, {}, twilio_error(500, "Internal Server Error"))
            return
        headers = {**response["headers"], **response["multiValueHeaders"]}
        response = self._handle_binary(response)
        self._send_http_response(response["statusCode"], headers, response["body"])

    # chalice binds its own _generic_handle to these names; every method comes here.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        if not length.strip().isdigit():
            raise BodyError(400, f"Invalid Content-Length {length!r}")
        if int(length) > MAX_BODY_BYTES:
            raise BodyError(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(int(length)) or None

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            try:
                size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "Malformed chunked request body") from None
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                raise BodyError(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields
        return b"".join(chunks)

    def _send_http_response_with_body(self, code, headers, body):
        if self.command != "HEAD":
            return super()._send_http_response_with_body(code, headers, body)
        # A HEAD answer carries the headers a GET would, and never a body.
        body = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (bad request line, version, line too long) as JSON."""
        message = message or self.responses.get(code, ("Error",))[0]
        self.log_error("code %d, message %s", code, message)
        body = twilio_error(code, message)
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self):
        if DEBUG_PID:
            self.send_header("X-Herald-Child-Pid", str(os.getpid()))
        if self.server.stopping and not self.close_connection:
            self.send_header("Connection", "close")  # this process is about to exit
        super().end_headers()
        self.server.request_served(self.connection)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=os.getppid())
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group: the supervisor decides when this one stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parent_watch.exit_with(args.parent_pid, stop, ORPHAN_SECONDS)
    ready = os.fdopen(args.ready_fd, "w")
    # Load the libraries while the supervisor prepares (make run: its embedded AWS), then
    # take the environment it sends on stdin: the first line.
    _preload()
    line = sys.stdin.buffer.readline()
    if not line:
        return 0  # it stopped before it was ready for us
    os.environ.update(json.loads(line))
    global DEBUG_PID
    DEBUG_PID = os.environ.get("HERALD_DEBUG_CHILD_PID") == "1"
    # The supervisor holds our stdin open: EOF means it is gone (even if it was killed).
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()
    project_dir = str(Path.cwd())
    listener = socket.socket(fileno=args.listen_fd)
    listener.setblocking(False)
    # chalice local logs the app's own logging to stdout, as Lambda would.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore.credentials").setLevel(logging.WARNING)  # once per process
    # The embedded AWS's requests through its door, not HTTP, for every client made below.
    door = direct_aws.enter_from_environment()
    # And DynamoDB, its stream and SQS, when in memory, without botocore.
    memory = memory_door.enter_from_environment()
    try:
        from chalice.local import LocalDevServer

        app, config = load_app(project_dir, args.stage)
        host, port = listener.getsockname()[:2]
        dev_server = LocalDevServer(
            app, config, host, port,
            handler_cls=TwilioRequestHandler,
            server_cls=lambda address, handler: inherited_server.InheritedSocketServer(
                listener, address, handler
            ),
        )  # fmt: skip
    except Exception as error:
        _say(ready, "failed\n" + short_error(error, project_dir) + "\n")
        return 3
    server = dev_server.server
    # A daemon, so that nothing keeps this process alive once main returns.
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    serving.start()
    # The delivery pipeline runs in a process of its own (devtools/worker_process.py).
    pipeline = None
    if os.environ.get("HERALD_SEND_QUEUE_URL"):
        pipeline = worker_process.Pipeline(project_dir, args.stage)
    if not _say(ready, f"ready {os.getpid()}\n"):
        stop.set()  # the supervisor stopped waiting for us: it is stopping
    while not stop.wait(1.0):
        if pipeline is not None:
            pipeline.keep_alive()
    deadline = time.monotonic() + inherited_server.DRAIN_SECONDS
    server.shutdown()  # no more accept(); the other processes sharing the socket go on
    serving.join()
    if pipeline is not None:  # it finishes its batches meanwhile
        pipeline.ask_to_stop()
    server.drain()
    if pipeline is not None:
        left = deadline - time.monotonic()
        pipeline.stop(timeout=min(worker_process.STOP_SECONDS, left))
    if door is not None:
        door.close()
    if memory is not None:
        memory.close()
    return 0


def _preload() -> None:
    """What every child loads whatever its environment: chalice's loader and server, and
    boto3 with the service models the app's clients need (a client made later by the app
    from boto3's default session then takes milliseconds, not tens of them)."""
    import boto3
    from chalice.cli.factory import CLIFactory  # noqa: F401
    from chalice.deploy.validate import validate_routes  # noqa: F401
    from chalice.local import LocalDevServer  # noqa: F401

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    for service in ("dynamodb", "dynamodbstreams", "sqs", "kms"):
        # Explicit credentials: the default session resolves (and keeps) its own later.
        boto3.client(
            service, region_name=region, endpoint_url="http://127.0.0.1:9",
            aws_access_key_id="preload", aws_secret_access_key="preload",
        )  # fmt: skip


def _say(ready, line: str) -> bool:
    """Write `line` to the supervisor and close the pipe; False if it no longer reads."""
    try:
        ready.write(line)
        ready.close()
        return True
    except OSError:  # BrokenPipeError: it closed its end (it was interrupted, or gave up)
        with contextlib.suppress(OSError):
            ready.close()
        return False


if __name__ == "__main__":
    sys.exit(main())
