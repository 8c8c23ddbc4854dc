"""Create accounts and API keys; credentials are printed once, as JSON, and stored hashed.

    python -m chalicelib.admin create-account [--account-sid AC… --auth-token …]
    python -m chalicelib.admin create-key AC…
    python -m chalicelib.admin revoke-key AC… SK…
    python -m chalicelib.admin create-table

It reads the same settings as the server (HERALD_TABLE_NAME, DYNAMODB_ENDPOINT_URL or
AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION), so it works against `make run`'s DynamoDB and AWS.
"""

import argparse
import json
import re
import sys

from botocore.exceptions import ClientError

from chalicelib import auth, sids, storage

AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def create_account(account_sid: str | None = None, auth_token: str | None = None) -> dict:
    account_sid = account_sid or sids.account_sid()
    auth_token = auth_token or sids.auth_token()
    if not sids.ACCOUNT_SID.match(account_sid):
        raise ValueError("an AccountSid is AC followed by 32 lowercase hex digits")
    if not AUTH_TOKEN.match(auth_token):
        raise ValueError("an AuthToken is 32 lowercase hex digits")
    storage.put_account(account_sid, auth.hash_secret(auth_token), sids.now_ms())
    return {"account_sid": account_sid, "auth_token": auth_token}


def create_key(account_sid: str) -> dict:
    if storage.get_account(account_sid) is None:
        raise ValueError(f"no such account: {account_sid}")
    key_sid, secret = sids.api_key_sid(), sids.api_key_secret()
    storage.put_api_key(account_sid, key_sid, auth.hash_secret(secret), sids.now_ms())
    return {"sid": key_sid, "secret": secret, "account_sid": account_sid}


def revoke_key(account_sid: str, key_sid: str) -> dict:
    try:
        storage.revoke_api_key(account_sid, key_sid)
    except storage.Missing:
        raise ValueError(f"no such key: {key_sid} on {account_sid}") from None
    return {"sid": key_sid, "revoked": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    account = commands.add_parser("create-account", help="create an account, print its token")
    account.add_argument("--account-sid", help="use this AccountSid instead of a new one")
    account.add_argument("--auth-token", help="use this AuthToken instead of a new one")
    key = commands.add_parser("create-key", help="create an API key for an account")
    key.add_argument("account_sid")
    revoke = commands.add_parser("revoke-key", help="revoke an API key")
    revoke.add_argument("account_sid")
    revoke.add_argument("key_sid")
    commands.add_parser("create-table", help="create the table when it is missing")
    args = parser.parse_args(argv)

    try:
        if args.command == "create-account":
            # No table is created here: a mistyped HERALD_TABLE_NAME against AWS would make
            # one without the deploy template's protections. `create-table` is explicit.
            result = create_account(args.account_sid, args.auth_token)
        elif args.command == "create-key":
            result = create_key(args.account_sid)
        elif args.command == "revoke-key":
            result = revoke_key(args.account_sid, args.key_sid)
        else:
            result = {"created": storage.ensure_table()}
    except (ValueError, storage.Unavailable, storage.Throttled, ClientError) as error:
        hint = (
            " (does the table exist? see create-table)"
            if isinstance(error, storage.Unavailable)
            else ""
        )
        print(f"error: {error}{hint}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
