"""What happened around a message besides its status: each status callback attempt (and,
later, each webhook call), kept in the message's own partition for 30 days.

    pk = AccountSid#Sid    sk = "event#" + 13 digits of the millisecond + "#" + 8 hex

One PutItem per attempt; the inbox reads a message's events with one Query.
"""

import secrets

from chalicelib.runtime import clock
from chalicelib.storage import client, marshal, schema

EVENT_SK_PREFIX = "event#"
EVENT_DAYS = 30


def record(account_sid: str, sid: str, entry: dict) -> None:
    now = clock.now_ms()
    item = {
        "pk": schema.message_pk(account_sid, sid),
        "sk": f"{EVENT_SK_PREFIX}{now:013d}#{secrets.token_hex(4)}",
        "at_ms": now,
        schema.TTL_ATTRIBUTE: now // 1000 + EVENT_DAYS * 86_400,
        **entry,
    }
    client.call("put_item", Item=marshal.to_attrs(item))


def of_message(account_sid: str, sid: str, limit: int = 100) -> list[dict]:
    """The message's events, oldest first (at most `limit`)."""
    response = client.call(
        "query",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={
            ":pk": {"S": schema.message_pk(account_sid, sid)},
            ":prefix": {"S": EVENT_SK_PREFIX},
        },
        Limit=limit,
    )
    drop = {"pk", "sk", schema.TTL_ATTRIBUTE}
    return [
        {k: v for k, v in marshal.from_attrs(item).items() if k not in drop}
        for item in response.get("Items", [])
    ]
