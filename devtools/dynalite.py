"""dynalite, a second DynamoDB implementation (Node.js, LevelDB-backed) for the tests and
the benchmark: started in memory on a free 127.0.0.1 port and stopped by whoever started it.

`make dynalite` (a prerequisite of `make test`) installs the version pinned in package.json
and package-lock.json with `npm ci`, when Node.js and npm are on the machine.

What dynalite 4.0.0 does not implement, and so what Herald cannot do on it:
- UpdateTimeToLive: `storage.ensure_table()` creates the table and then fails on it
  (`create_table` below creates the table itself, from `storage.table_definition`).
- TransactWriteItems: a create with an Idempotency-Key answers 503.
- ReturnValuesOnConditionCheckFailure: ignored, so a failed conditional write carries no old
  item; `pointing_at` sets HERALD_READ_BACK_REFUSED_WRITES=1 so that storage reads it back
  then, to answer 30409/20009 rather than 20404.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

from devtools.server import ROOT, free_port, stop, wait_until_answering

VERSION = "4.0.0"
CLI = ROOT / "node_modules" / "dynalite" / "cli.js"
# Operations dynalite answers with UnknownOperationException.
UNSUPPORTED = ("UpdateTimeToLive", "TransactWriteItems", "TransactGetItems")


def unavailable_reason() -> str | None:
    """Why dynalite cannot be started here, or None when it can."""
    node = shutil.which("node")
    if node is None:
        return "dynalite needs Node.js (>= 20) and npm: `node` is not on PATH"
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return f"`{node} --version` failed"
    if major < 20:
        return f"dynalite {VERSION} needs Node.js >= 20, and `node` is {version}"
    if not CLI.exists():
        return f"dynalite is not installed: run `make dynalite` (npm ci) to get {CLI}"
    installed = _installed_version()
    if installed != VERSION:
        return f"dynalite {installed} is installed, not the pinned {VERSION}: run `make dynalite`"
    return None


def _installed_version() -> str | None:
    import json

    try:
        return json.loads((CLI.parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def running(port: int | None = None, attempts: int = 3) -> Iterator[str]:
    """dynalite in memory on 127.0.0.1; yields its endpoint URL, then stops it and its
    children (it runs in a session of its own, so the whole group is signalled).

    A free port can be taken by another process before dynalite binds it (other test runs
    share the machine): then dynalite exits at once, and another port is tried."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    # Its messages go to a file, not a pipe: nothing would read a pipe once it is up.
    with tempfile.TemporaryFile() as said:
        for attempt in range(1, attempts + 1):
            chosen = port or free_port()
            command = [
                shutil.which("node") or "node", str(CLI),
                "--host", "127.0.0.1", "--port", str(chosen),
                # Tables are ACTIVE at once instead of after dynalite's default 500 ms.
                "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0",
            ]  # fmt: skip
            said.seek(0)
            said.truncate()
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=said,
                start_new_session=True,
            )
            url = f"http://127.0.0.1:{chosen}"
            try:
                wait_until_answering(
                    url + "/", process, "dynalite", 20.0, lambda body: body.startswith(b"healthy")
                )
            except RuntimeError as error:
                stop(process)
                said.seek(0)
                text = said.read().decode(errors="replace").strip()
                if port is None and attempt < attempts and "EADDRINUSE" in text:
                    continue
                raise RuntimeError(f"{error}: {text[:600]}") from None
            break
        try:
            yield url
        finally:
            stop(process)


def create_table(timeout: float = 10.0) -> None:
    """Create Herald's table (storage.table_definition) on dynalite and wait until it is
    ACTIVE, polling every 10 ms: `storage.ensure_table()` alone would fail on
    UpdateTimeToLive, and its waiter sleeps a whole second whenever its first look sees
    CREATING. `storage.ensure_table()` then finds the table and leaves it as it is."""
    from chalicelib import storage

    client = storage.client.client()
    client.create_table(**storage.table_definition(storage.client.table()))
    deadline = time.monotonic() + timeout
    while (
        client.describe_table(TableName=storage.client.table())["Table"]["TableStatus"] != "ACTIVE"
    ):
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {storage.client.table()} not ACTIVE after {timeout} s")
        time.sleep(0.01)
    storage.ensure_table()  # finds it: the code path of every later start


@contextlib.contextmanager
def pointing_at(url: str, table: str, create: bool = True) -> Iterator[None]:
    """Point Herald's storage at `url` and `table` (fake credentials), create the table
    unless told not to, and restore the environment afterwards."""
    from chalicelib import storage

    names = (
        "DYNAMODB_ENDPOINT_URL", "HERALD_TABLE_NAME", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "HERALD_READ_BACK_REFUSED_WRITES",
    )  # fmt: skip
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(
        DYNAMODB_ENDPOINT_URL=url,
        HERALD_TABLE_NAME=table,
        AWS_ACCESS_KEY_ID="dynalite",
        AWS_SECRET_ACCESS_KEY="dynalite",
        # dynalite ignores ReturnValuesOnConditionCheckFailure.
        HERALD_READ_BACK_REFUSED_WRITES="1",
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    storage.reset()
    try:
        if create:
            create_table()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        storage.reset()
