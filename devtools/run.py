"""`make run`: Herald on http://127.0.0.1:$PORT with nothing to configure.

Starts an embedded AWS (devtools/services.py: DynamoDB, its stream and SQS in memory,
devtools/memory_aws, or with HERALD_EMBEDDED_AWS=moto moto's with atomic requests; KMS and the
rest moto's; when DYNAMODB_ENDPOINT_URL or AWS_ENDPOINT_URL_DYNAMODB names another DynamoDB,
only its KMS key is used), creates the table when it is missing, creates a development account
(HERALD_ACCOUNT_SID / HERALD_AUTH_TOKEN fix its credentials), and serves the API from a child
process on a socket this process keeps open (devtools/supervisor.py): a change to the app's
files restarts the child without refusing a request, other files change nothing. Prints the
credentials with a ready curl line, and the export line with which the admin command in
another shell makes accounts that sign; Ctrl-C or SIGTERM stops everything it started.
"""

import contextlib
import os
import re
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

from devtools import server, supervisor

# The shapes the admin command (admin/) accepts: checked here so that a typo stops `make run` with
# one line before anything starts.
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}\Z")
AUTH_TOKEN = re.compile(r"[0-9a-f]{32}\Z")
# `HERALD_EMBEDDED_AWS=moto make run`: moto for every service, as before the in-memory ones.
ENGINE_VARIABLE = "HERALD_EMBEDDED_AWS"


def usage_error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _port() -> int:
    text = os.environ.get("PORT", "8000")
    if not text.isdigit() or int(text) > 65535:
        usage_error(f"PORT must be a port number (0 picks a free one), not {text!r}")
    return int(text)


def _credentials() -> tuple[str | None, str | None]:
    sid, token = os.environ.get("HERALD_ACCOUNT_SID"), os.environ.get("HERALD_AUTH_TOKEN")
    if bool(sid) != bool(token):
        usage_error("set both HERALD_ACCOUNT_SID and HERALD_AUTH_TOKEN, or neither")
    if sid and not ACCOUNT_SID.match(sid):
        usage_error("HERALD_ACCOUNT_SID must be AC followed by 32 lowercase hex digits")
    if token and not AUTH_TOKEN.match(token):
        usage_error("HERALD_AUTH_TOKEN must be 32 lowercase hex digits")
    return sid, token


def admin_environment(env: dict, embedded: bool) -> dict[str, str]:
    """What the admin command needs in another shell to act on this server's AWS, as the
    banner's export line sets it: the DynamoDB and the table, the region, the KMS key (and
    its endpoint) every AuthToken is encrypted with for signing, and on the embedded AWS
    the placeholder credentials it accepts. Without the key create-account refuses."""
    from chalicelib.runtime import config

    settings = config.load()
    shown = {
        "DYNAMODB_ENDPOINT_URL": settings.endpoint_url,
        "AWS_ENDPOINT_URL_KMS": env["AWS_ENDPOINT_URL_KMS"],
        "HERALD_KMS_KEY_ID": env["HERALD_KMS_KEY_ID"],
        "AWS_REGION": settings.region,
    }
    if env.get("HERALD_TABLE_NAME"):
        shown["HERALD_TABLE_NAME"] = settings.table_name
    if embedded:
        shown.update(
            {k: server.FAKE_CREDENTIALS[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        )
    return shown


def export_line(variables: dict[str, str]) -> str:
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())


def banner(url: str, endpoint: str, embedded: bool, account: dict, admin_env: dict) -> str:
    sid, token = account["account_sid"], account["auth_token"]
    where = f"{endpoint} (embedded moto, in memory)" if embedded else endpoint
    return f"""
Herald is serving on {url}
  DynamoDB:    {where}
  AccountSid:  {sid}
  AuthToken:   {token}
  Inbox:       {url}/inbox/  (sign in with the AccountSid and AuthToken above)

More accounts and API keys, on this DynamoDB (another shell, in this directory):
  {export_line(admin_env)}
  .venv/bin/python -m admin create-account
  .venv/bin/python -m admin create-key {sid}

Try it:
  curl -X POST {url}/2010-04-01/Accounts/{sid}/Messages.json \\
    -u {sid}:{token} \\
    --data-urlencode "To=+14155550100" --data-urlencode "From=+15005550006" \\
    --data-urlencode "Body=Hello from Herald"

Ctrl-C stops everything.
"""


def delivery_environment(endpoint: str, stack: contextlib.ExitStack) -> dict:
    """The embedded AWS's queues and key for the delivery pipeline, and the local settings:
    callbacks may go to 127.0.0.1, and the stream's checkpoint outlives each child."""
    from chalicelib.runtime import config
    from devtools import local_aws

    for name, value in server.FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    checkpoints = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="herald-run-")))
    return {
        # In the region the app reads (AWS_REGION may name another than the default).
        **local_aws.provision(endpoint, region=config.load().region),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_KMS": endpoint,
        "HERALD_ALLOW_PRIVATE_URLS": "1",
        "HERALD_LOCAL_STREAM_CHECKPOINT": str(checkpoints / "stream.json"),
    }


def in_memory() -> bool:
    """DynamoDB, its stream and SQS in memory (devtools/memory_aws), unless
    HERALD_EMBEDDED_AWS=moto asks for moto's, as the tests' live servers use."""
    return os.environ.get(ENGINE_VARIABLE, "memory") != "moto"


def signing_environment(endpoint: str) -> dict:
    """Against another DynamoDB there is no delivery pipeline, but every account still
    needs its AuthToken encrypted for signing: the embedded AWS's KMS, and a key on it."""
    from chalicelib.runtime import config
    from devtools import local_aws

    key_id = local_aws.signing_key(endpoint, region=config.load().region)
    return {"AWS_ENDPOINT_URL_KMS": endpoint, "HERALD_KMS_KEY_ID": key_id}


def _stop_on_sigterm() -> None:
    # Let `kill` stop us as cleanly as Ctrl-C does.
    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> int:
    port = _port()
    sid, token = _credentials()
    _stop_on_sigterm()
    with contextlib.ExitStack() as stack:
        try:
            return _serve(stack, port, sid, token)
        except KeyboardInterrupt:
            # Whenever it comes (starting, printing the banner, serving), said before the
            # stack unwinds, which takes a few seconds; a second Ctrl-C (or one the kernel
            # handed over late) must not cut the unwinding short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("\nstopping Herald", flush=True)
    return 0


def _serve(stack: contextlib.ExitStack, port: int, sid: str | None, token: str | None) -> int:
    """Start everything on `stack` and serve until interrupted; 1 if it cannot start."""
    endpoint = server.configured_endpoint()
    embedded = endpoint is None
    if embedded:
        for name, value in server.FAKE_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    try:
        listener = stack.enter_context(contextlib.closing(supervisor.listen(port)))
    except OSError as error:
        print(f"error: cannot listen on 127.0.0.1:{port}: {error.strerror}", file=sys.stderr)
        return 1
    started: dict = {"endpoint": endpoint}

    def prepare() -> dict:
        """The embedded AWS, its resources, the table and the account: done while the HTTP
        child loads its libraries (each takes most of a second)."""
        # Always started: besides DynamoDB it serves the KMS key that every account needs.
        aws = stack.enter_context(server.embedded_aws(memory=in_memory()))
        started["endpoint"] = endpoint or aws
        env = server.server_environment(started["endpoint"], embedded)
        os.environ.update(env)
        env.update(delivery_environment(aws, stack) if embedded else signing_environment(aws))
        os.environ.update(env)
        import admin
        from chalicelib import storage

        storage.reset()
        storage.ensure_table()
        # After the key exists: the account's token is encrypted for signing callbacks.
        started["account"] = admin.create_account(sid, token)
        started["env"] = env
        return env

    try:
        # The project is the current directory, as for `chalice local`.
        serving = supervisor.serving(
            dict(os.environ), listener=listener, watch=True, project_dir=Path.cwd(),
            prepare=prepare,
        )  # fmt: skip
        herald = stack.enter_context(serving)
    except supervisor.ChildFailed as failure:
        print(f"error: the app failed to load:\n{failure}", file=sys.stderr)
        return 1
    endpoint, account = started["endpoint"], started["account"]
    admin_env = admin_environment(started["env"], embedded)
    print(banner(herald.url, endpoint, embedded, account, admin_env), flush=True)
    # Not signal.pause(): the kernel may hand Ctrl-C to any thread of this process (the
    # embedded AWS serves from many), and pause() wakes only for the main thread's. Python
    # runs its handler on the main thread's next wake-up.
    while True:
        time.sleep(0.2)


def entry() -> None:
    """Run `main` and exit with its code, Ctrl-C or SIGTERM included.

    By os._exit, once everything it started has stopped: CPython 3.11 remembers a
    KeyboardInterrupt that passed through code made by exec or eval (a dataclass or a
    namedtuple being defined by an import as the signal came) and, though main caught it and
    stopped everything, ends the process by SIGINT as the interpreter finishes. make run then
    seemed to fail (exit -2) one start-up stop in six."""
    try:
        code = main()
    except KeyboardInterrupt:  # before main's own handler was in place
        code = 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
