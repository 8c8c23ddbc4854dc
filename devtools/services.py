"""The embedded AWS that `make run` and the live-server tests use, on a free 127.0.0.1 port in
this process: moto's server app for every service, each request as atomic as AWS makes it
(devtools/atomic_moto.py), and for `make run` DynamoDB, its stream and SQS in memory instead
(devtools/memory_aws). Its requests reach it without HTTP from this process and, through a
door, from the processes it starts (devtools/direct_aws.py, devtools/memory_aws/door.py);
over HTTP from any other.
"""

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Iterator

from devtools.atomic_moto import moto_app

# Endpoint URL -> the environment that names its doors (devtools/direct_aws.py, and
# devtools/memory_aws/door.py with `memory`), for the processes it starts.
_doors: dict[str, dict] = {}
# How many embedded AWS servers this process is serving: they share moto's state.
_serving = 0
_serving_lock = threading.Lock()


@contextlib.contextmanager
def _fresh_state() -> Iterator[None]:
    """The first embedded AWS in a process starts as a new moto server does, empty: moto's
    state is per process, and what an earlier server (or `mock_aws`) left there (a table
    holding another account's numbers) would otherwise be served again. A server started
    while another serves shares its state, as it always has."""
    global _serving
    from moto.core.base_backend import BackendDict

    with _serving_lock:
        if _serving == 0:
            BackendDict.reset()
        _serving += 1
    try:
        yield
    finally:
        with _serving_lock:
            _serving -= 1


@contextlib.contextmanager
def embedded_aws(
    atomic: bool = True, direct: bool = True, wrap=None, memory: bool = False
) -> Iterator[str]:
    """moto's server for every AWS service on a free 127.0.0.1 port, in this process, one
    thread per request; yields its endpoint URL and stops it on exit. `atomic=False` serves
    moto exactly as `moto_server` does (the tests use it to show what the locks change).
    `wrap`, a WSGI middleware, sees every request and answer (bench/delivery.py's trace).

    The same app also answers without HTTP (devtools/direct_aws.py): this process's own
    botocore calls to the URL directly (unless `direct` is off), and other processes'
    through a door whose path `door_environment` gives them.

    With `memory`, DynamoDB, its stream and SQS are in-memory services instead of moto's
    (devtools/memory_aws: make run's), fresh for each server; moto serves the rest."""
    import tempfile

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from devtools import direct_aws

    # One werkzeug line per AWS call would bury the HTTP server's request log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with _fresh_state(), contextlib.ExitStack() as stack:
        app = base = moto_app(atomic)
        if memory:
            from devtools.memory_aws import wire

            app = base = wire.JsonProtocol(base)
        app = app if wrap is None else wrap(app)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        thread = threading.Thread(target=server.serve_forever, name="embedded-aws", daemon=True)
        thread.start()
        # Undone last in, first out: the door and routes, then the server.
        stack.callback(thread.join)
        stack.callback(server.server_close)
        stack.callback(server.shutdown)
        url = f"http://127.0.0.1:{server.server_port}"
        private = stack.enter_context(tempfile.TemporaryDirectory(prefix="herald-aws-"))
        door = direct_aws.Door(app, os.path.join(private, "door"))
        stack.callback(door.close)
        _doors[url] = {direct_aws.DOOR_VARIABLE: door.path, direct_aws.ENDPOINT_VARIABLE: url}
        stack.callback(_doors.pop, url, None)
        if memory:
            from devtools.memory_aws import aws
            from devtools.memory_aws import door as memory_door

            base.memory = aws.MemoryAWS(url)
            opened = memory_door.MemoryDoor(base.memory, os.path.join(private, "memory"))
            stack.callback(opened.close)
            _doors[url][memory_door.DOOR_VARIABLE] = opened.path
        if direct:
            direct_aws.route(url, functools.partial(direct_aws.call_app, app))
            stack.callback(direct_aws.unroute, url)
        yield url


def door_environment(url: str) -> dict:
    """What a process this one starts needs to reach the embedded AWS at `url` through its
    door instead of HTTP; {} for any other endpoint."""
    return dict(_doors.get(url, {}))
