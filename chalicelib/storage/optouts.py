"""Opt-outs: a handset that texted STOP to one of Herald's numbers, until it texts START.

    pk = "optout#" + the Herald number + "#" + the handset's number    sk = "optout"

A create from that number to that handset reads this item (one consistent GetItem, 1 RCU)
and is refused with 21610, as on Twilio. The pair is the partition key: every create from a
busy number reads a different partition, so no key gets hot. Keyed by the number, not the
account: a number belongs to one account at a time, and an opt-out given to the number
outlives a change of owner.
"""

from chalicelib.runtime import clock
from chalicelib.storage import client, marshal

PREFIX = "optout#"


SK = "optout"


def _pk(number: str, handset: str) -> str:
    return f"{PREFIX}{number}#{handset}"


def _key(number: str, handset: str) -> dict:
    return {"pk": {"S": _pk(number, handset)}, "sk": {"S": SK}}


def opt_out(number: str, handset: str, keyword: str) -> None:
    item = {"pk": _pk(number, handset), "sk": SK, "keyword": keyword, "at_ms": clock.now_ms()}
    client.call("put_item", Item=marshal.to_attrs(item))


def opt_in(number: str, handset: str) -> None:
    client.call("delete_item", Key=_key(number, handset))


def is_opted_out(number: str, handset: str) -> bool:
    return client.get(_key(number, handset)) is not None
