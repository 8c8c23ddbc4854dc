"""Local servers for `make run` and the end-to-end tests: an embedded DynamoDB (moto's
server) and `chalice local`, each bound to 127.0.0.1 and stopped by whoever started it."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configured_endpoint() -> str | None:
    for name in ENDPOINT_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


@contextlib.contextmanager
def embedded_dynamodb():
    """moto's DynamoDB on a free loopback port, in this process; yields its URL."""
    import logging

    from moto.server import ThreadedMotoServer

    # One werkzeug line per DynamoDB call would bury chalice local's request log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


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
def chalice_local(port: int, env: dict, autoreload: bool = False, quiet: bool = False):
    """`chalice local` on 127.0.0.1:port with `env`; yields its base URL, then stops it."""
    command = [
        str(Path(sys.executable).parent / "chalice"), "local",
        "--host", "127.0.0.1", "--port", str(port), "--stage", "local",
        "--autoreload" if autoreload else "--no-autoreload",
    ]  # fmt: skip
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/", process, "chalice local")
        yield url
    finally:
        stop(process)


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
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1"))
    return env
