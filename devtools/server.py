"""Helpers for the local servers of `make run`, the end-to-end tests and the benchmark:
free ports, the environment a server gets, waiting for a process to answer and stopping
it. The servers themselves: devtools/services.py (embedded AWS), devtools/supervisor.py
and devtools/http_child.py (Herald over HTTP), devtools/dynalite.py (a second DynamoDB).
Everything binds 127.0.0.1 and is stopped by whoever started it."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "herald-local",
    "AWS_SECRET_ACCESS_KEY": "herald-local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
ENDPOINT_VARIABLES = ("DYNAMODB_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


def never_aws(table_name: str, **extra: str) -> None:
    """This process's environment for a benchmark: fake credentials (no session token), a
    fixed region, `table_name` and `extra`, and no endpoint. Called before anything imports
    boto3, so that nothing it does can reach AWS."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        HERALD_TABLE_NAME=table_name,
        **extra,
    )
    for name in (*ENDPOINT_VARIABLES, "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configured_endpoint() -> str | None:
    for name in ENDPOINT_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


def embedded_aws(wrap=None, memory: bool = False):
    """moto's server for every AWS service, each DynamoDB request atomic, on a free
    127.0.0.1 port in this process (devtools/services.py); yields its URL. `wrap`: a WSGI
    middleware around it. `memory`: DynamoDB, its stream and SQS in memory (make run's)."""
    from devtools import services

    return services.embedded_aws(wrap=wrap, memory=memory)


# The name the callers knew when the embedded server was DynamoDB only.
embedded_dynamodb = embedded_aws


def wait_until_answering(
    url: str,
    process: subprocess.Popen,
    name: str,
    timeout: float = 30.0,
    ready: Callable[[bytes], bool] = lambda _body: True,
) -> None:
    """Poll `url` until the server `process` started answers it with a body that is
    `ready` (any answer, whatever its HTTP status, by default); fail if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            answer = error.read()
        except (urllib.error.URLError, OSError):
            answer = None
        if answer is not None and ready(answer):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer on {url} within {timeout} s")


@contextlib.contextmanager
def serve_herald(env: dict, port: int = 0, watch: bool = False, quiet: bool = False):
    """Herald over HTTP as `make run` serves it (devtools/supervisor.py: the app in a child
    process, on a socket kept open by this one; `watch` restarts it when the app's files
    change) on 127.0.0.1:port (0: a free one) with `env`; yields its base URL, then stops
    everything it started."""
    from devtools import supervisor

    with supervisor.serving(env, port, watch=watch, quiet=quiet) as herald:
        yield herald.url


def chalice_local(port: int, env: dict, autoreload: bool = False, quiet: bool = False):
    """The former `chalice local` wrapper, now `serve_herald`."""
    return serve_herald(env, port, watch=autoreload, quiet=quiet)


def stop(process: subprocess.Popen) -> None:
    """Stop a process and everything it started (autoreload runs a child server)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def server_environment(endpoint: str, embedded: bool) -> dict:
    env = dict(os.environ)
    if embedded:
        for name, value in FAKE_CREDENTIALS.items():
            env.setdefault(name, value)
        env["DYNAMODB_ENDPOINT_URL"] = endpoint
        from devtools import services

        env.update(services.door_environment(endpoint))
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1"))
    return env
