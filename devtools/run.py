"""`make run`: Herald on http://127.0.0.1:$PORT with nothing to configure.

Starts an embedded DynamoDB (moto's server on 127.0.0.1) unless DYNAMODB_ENDPOINT_URL or
AWS_ENDPOINT_URL_DYNAMODB names another one, creates the table when it is missing, creates
a development account (HERALD_ACCOUNT_SID / HERALD_AUTH_TOKEN fix its credentials), prints
them with a ready curl line, and serves the API with `chalice local` until Ctrl-C.
"""

import contextlib
import os
import signal
import sys

from devtools import server


def _credentials() -> tuple[str | None, str | None]:
    sid, token = os.environ.get("HERALD_ACCOUNT_SID"), os.environ.get("HERALD_AUTH_TOKEN")
    if bool(sid) != bool(token):
        sys.exit("error: set both HERALD_ACCOUNT_SID and HERALD_AUTH_TOKEN, or neither")
    return sid, token


def banner(url: str, endpoint: str, embedded: bool, account: dict) -> str:
    sid, token = account["account_sid"], account["auth_token"]
    where = f"{endpoint} (embedded moto, in memory)" if embedded else endpoint
    # The embedded DynamoDB takes any credentials; the admin command needs some to sign with.
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if embedded else ()
    credentials = "".join(f" {key}={server.FAKE_CREDENTIALS[key]}" for key in keys)
    return f"""
Herald is serving on {url}
  DynamoDB:    {where}
  AccountSid:  {sid}
  AuthToken:   {token}

More accounts and API keys, on this DynamoDB (another shell, in this directory):
  export DYNAMODB_ENDPOINT_URL={endpoint}{credentials}
  .venv/bin/python -m chalicelib.admin create-key {sid}

Try it:
  curl -X POST {url}/2010-04-01/Accounts/{sid}/Messages.json \\
    -u {sid}:{token} \\
    --data-urlencode "To=+14155550100" --data-urlencode "From=+15005550006" \\
    --data-urlencode "Body=Hello from Herald"

Ctrl-C stops everything.
"""


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    sid, token = _credentials()
    # Let `kill` stop us as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with contextlib.ExitStack() as stack:
        endpoint = server.configured_endpoint()
        embedded = endpoint is None
        if embedded:
            endpoint = stack.enter_context(server.embedded_dynamodb())
        env = server.server_environment(endpoint, embedded)
        os.environ.update(env)

        from chalicelib import admin, storage

        storage.reset()
        storage.ensure_table()
        account = admin.create_account(sid, token)
        try:
            url = stack.enter_context(server.chalice_local(port, env, autoreload=True))
            print(banner(url, endpoint, embedded, account), flush=True)
            signal.pause()
        except KeyboardInterrupt:
            print("\nstopping Herald", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
