"""The operator's command line: create accounts and API keys (credentials are printed once,
as JSON, and stored hashed), and set what an account's settings hold.

    python -m admin create-account [--account-sid AC… --auth-token …]
    python -m admin create-key AC…
    python -m admin revoke-key AC… SK…
    python -m admin set-list-shards AC… N
    python -m admin set-sender AC… IDENTITY [--messaging-service MG…]
    python -m admin create-table
    python -m admin migrate [--segment I --segments N] [--resume KEY]

It reads the same settings as the server (HERALD_TABLE_NAME, DYNAMODB_ENDPOINT_URL or
AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, HERALD_KMS_KEY_ID), so it works against `make run`'s
embedded AWS (with the export line it prints) and a deployed stage (docs/deploy.md).
create-account refuses, with one line naming what is missing, to make an account whose
AuthToken cannot be encrypted for signing: its callbacks and webhooks could not be signed.
"""

import argparse
import json
import re
import sys

from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.runtime import clock
from chalicelib.storage import accounts, schema, tokens
from chalicelib.twilio import sids

AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def create_account(account_sid: str | None = None, auth_token: str | None = None) -> dict:
    account_sid = account_sid or sids.account_sid()
    auth_token = auth_token or sids.auth_token()
    if not sids.ACCOUNT_SID.match(account_sid):
        raise ValueError("an AccountSid is AC followed by 32 lowercase hex digits")
    if not AUTH_TOKEN.match(auth_token):
        raise ValueError("an AuthToken is 32 lowercase hex digits")
    # The digest authenticates; the ciphertext lets only the signing functions sign. It is
    # made first: without a key (tokens.Unavailable) nothing is written.
    ciphertext = tokens.encrypt_token(account_sid, auth_token)
    accounts.put_account(
        account_sid, credentials.hash_secret(auth_token), clock.now_ms(), ciphertext
    )
    return {"account_sid": account_sid, "auth_token": auth_token}


def create_key(account_sid: str) -> dict:
    if accounts.get_account(account_sid) is None:
        raise ValueError(f"no such account: {account_sid}")
    key_sid, secret = sids.api_key_sid(), sids.api_key_secret()
    accounts.put_api_key(account_sid, key_sid, credentials.hash_secret(secret), clock.now_ms())
    return {"sid": key_sid, "secret": secret, "account_sid": account_sid}


def revoke_key(account_sid: str, key_sid: str) -> dict:
    try:
        accounts.revoke_api_key(account_sid, key_sid)
    except storage.Missing:
        raise ValueError(f"no such key: {key_sid} on {account_sid}") from None
    return {"sid": key_sid, "revoked": True}


def set_list_shards(account_sid: str, shards: int) -> dict:
    """Raise the account's list shard count (see docs/table-design.md).

    Lists read the new shards at once; new messages go to them once every API container
    has seen the change (twice the credential cache's bound from now).
    """
    if not 1 <= shards <= schema.MAX_LIST_SHARDS:
        raise ValueError(f"a list shard count is 1 to {schema.MAX_LIST_SHARDS}")
    now = clock.now_ms()
    effective = now + int(2 * credentials.CACHE_SECONDS * 1000)
    try:
        item = accounts.set_list_shards(account_sid, shards, effective, now)
    except storage.Missing:
        raise ValueError(f"no such account: {account_sid}") from None
    return {
        "account_sid": account_sid,
        "list_shards": item["list_shards"],
        "new_messages_use_it_from_ms": item["list_shards_from_ms"],
    }


def set_sender(account_sid: str, identity: str, messaging_service_sid: str | None = None) -> dict:
    """Who the account's texts come from on End User Messaging (docs/carriers.md): by
    default, or for one Messaging Service. Senders read it within the credential cache's bound."""
    from chalicelib.carriers.eum_settings import IDENTITY

    if not IDENTITY.match(identity):
        raise ValueError(
            "an origination identity is a phone number, its id or ARN, a sender ID or a pool"
        )
    if messaging_service_sid and not sids.MESSAGING_SERVICE_SID.match(messaging_service_sid):
        raise ValueError("a MessagingServiceSid is MG followed by 32 hex digits")
    try:
        item = accounts.set_sender(account_sid, identity, messaging_service_sid)
    except storage.Missing:
        raise ValueError(f"no such account: {account_sid}") from None
    return {"account_sid": account_sid, "senders": item["senders"]}


def migrate(segment: int = 0, segments: int = 1, resume: str | None = None) -> dict:
    """Bring the table's items to today's layout (chalicelib.storage.migration); safe to
    run again, and to run in N parallel segments."""
    from chalicelib.storage import migration

    if not 0 <= segment < segments:
        raise ValueError("--segment is 0 to --segments - 1")
    return migration.run(clock.now_ms(), segment, segments, resume).as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m admin",
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
    shards = commands.add_parser("set-list-shards", help="raise an account's list shard count")
    shards.add_argument("account_sid")
    shards.add_argument("shards", type=int)
    sender = commands.add_parser("set-sender", help="set who an account's texts come from")
    sender.add_argument("account_sid")
    sender.add_argument("identity", help="phone number, its id or ARN, sender ID or pool")
    sender.add_argument("--messaging-service", help="only for this MessagingServiceSid")
    commands.add_parser("create-table", help="create the table when it is missing")
    upgrade = commands.add_parser("migrate", help="bring stored items to today's layout")
    upgrade.add_argument("--segment", type=int, default=0)
    upgrade.add_argument("--segments", type=int, default=1)
    upgrade.add_argument("--resume", help="the `resume` key an interrupted run printed")
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
        elif args.command == "set-list-shards":
            result = set_list_shards(args.account_sid, args.shards)
        elif args.command == "set-sender":
            result = set_sender(args.account_sid, args.identity, args.messaging_service)
        elif args.command == "migrate":
            result = migrate(args.segment, args.segments, args.resume)
        else:
            result = {"created": storage.ensure_table()}
    except (ValueError, storage.Unavailable, storage.Throttled, tokens.Unavailable) as error:
        hint = (
            " (does the table exist? see create-table)"
            if isinstance(error, storage.Unavailable) and args.command != "create-table"
            else ""
        )
        print(f"error: {error}{hint}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0
