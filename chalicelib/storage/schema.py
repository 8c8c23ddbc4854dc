"""The table's layout: the one place that knows partition keys, sort keys and index keys.

One table holds everything, and partition keys are chosen so that no key is hot however many
messages one account sends (the arithmetic is in docs/table-design.md):

    item                 pk                                    sk
    account              AccountSid                            "account"
    API key              AccountSid                            "key#SK…"
    message              AccountSid + "#" + its Sid            "message"
    (a message made with an Idempotency-Key has a Sid derived from the key, and carries
    IDEMPOTENCY_DIGEST; deleted within the key's 24 h, it leaves a STAND_IN)
    phone number         AccountSid + "#" + its Sid (PN…)      "number"
    number's owner       "number#" + the E.164 number          "owner"

Fetch, update and delete of a message are one call on its own partition. The caller's
AccountSid is part of the key, so another account's Sid is simply not there: it answers exactly
like a missing one, with the same calls and the same answers from DynamoDB.

Lists read sparse global secondary indexes sorted on `lk`: 12 hex digits of the millisecond
a message is ordered by (its SendAt when it was scheduled, else its creation) followed by the
Sid's 32 hex digits. `lk` is written once, with the message, and never changes, so a client
paging through a list never sees a message move. The account-wide and From indexes are spread
over the account's `list_shards` partitions (a shard taken from the Sid's random digits); a
page merges them newest first. The indexes hold keys only (and `sent_ms` for late messages),
so a status change, sending included, writes no index entry, and a page fetches its messages
with one BatchGetItem per 100.

DateSent filters: a message is sent within LATE_AFTER_MS of its order time, or it is "late"
and its send write also puts it into the late index (`by-to-from`, partitioned per account
shard) with its `sent_ms`; no message is sent more than SENT_WITHIN_MS after its order time.
So a DateSent range [a, b] is the main index between a - LATE_AFTER_MS and b + LATE_AFTER_MS,
checked against each message's date_sent, followed by the late index between a -
SENT_WITHIN_MS and a - LATE_AFTER_MS (docs/table-design.md).
"""

import hashlib

ACCOUNT_SK = "account"
KEY_SK_PREFIX = "key#"
MESSAGE_SK = "message"
# Idempotency records of the layout before keyed Sids (read only by `admin migrate`).
IDEMPOTENCY_PK_PREFIX = "idem#"
IDEMPOTENCY_SK = "idem"
# Items that expire carry an expiry in epoch seconds; DynamoDB's TTL deletes them later.
TTL_ATTRIBUTE = "expires_at"
# A message made with an Idempotency-Key: the digest of the request that made it, which a
# retry's must equal (chalicelib.messages.creation).
IDEMPOTENCY_DIGEST = "idem_digest"
# What stands at a keyed Sid without being a message, for the key's 24 h: "deleted" (the
# message was deleted; REPLAY holds it as it was) or "alias" (a key used before keyed Sids:
# ALIAS_OF names its message, REPLAY holds the first copy). Never listed, fetched or
# changed; TTL_ATTRIBUTE removes it.
STAND_IN = "stand_in"
REPLAY = "replay"
ALIAS_OF = "alias_of"

LIST_SORT_KEY = "lk"
INDEX_BY_ACCOUNT = "by-account"
INDEX_BY_TO = "by-to"
INDEX_BY_FROM = "by-from"
# The late index: messages sent more than LATE_AFTER_MS after their order time, per account
# shard, with their `sent_ms`. It is the index To+From lists once read (their filter now reads
# the To index and checks each message's From): its definition is kept as it was, so that
# upgrading a table changes no index (DynamoDB changes one index per update, and a new index
# backfills from every item; docs/deploy.md).
INDEX_LATE = "by-to-from"
# An account's IncomingPhoneNumbers, newest first (see "phone numbers" below).
INDEX_NUMBERS = "numbers"
# Index name -> its hash-key attribute; all of them sort on LIST_SORT_KEY.
LIST_INDEXES = {
    INDEX_BY_ACCOUNT: "list_pk",
    INDEX_BY_TO: "to_key",
    INDEX_BY_FROM: "from_key",
    INDEX_LATE: "to_from_key",
    INDEX_NUMBERS: "numbers_pk",
}
LATE_KEY = LIST_INDEXES[INDEX_LATE]
# The indexes whose partitions are per account (or per account and sender) and so take a
# whole account's sending rate: they are sharded. A To partition takes one handset's
# messages, which no carrier delivers at more than a few a second.
SHARDED_INDEXES = (INDEX_BY_ACCOUNT, INDEX_BY_FROM)
# What the indexes project besides keys: a late message's date_sent (LATE_SENT), which the
# late index's DateSent filter reads. Only late messages (and messages stored before list
# keys stopped moving, which all have it) carry the attribute, so no other write reaches an
# index entry.
LATE_SENT = "sent_ms"
LIST_PROJECTED = [LATE_SENT]
# Every sent message's date_sent, in an attribute no index projects.
SENT = "sent_at_ms"
# A message is sent at most this long before its order time (an inbound text's carrier
# timestamp, clocks a little apart) and, unless it is late, at most this long after it:
# messages the scheduler dispatches within its minute, or that a carrier throttled a few
# times, are not late.
LATE_AFTER_MS = 120_000
# No message is sent later than this after its order time: a message waits at most its
# ValidityPeriod (36,000 s at most, and by default) before a worker claims it, and a claim
# ends within its lease; a recorded date_sent is kept within this bound.
SENT_WITHIN_MS = (36_000 + 3_600) * 1000

DEFAULT_LIST_SHARDS = 1
MAX_LIST_SHARDS = 256

# Scheduled messages wait in a sparse index sorted by SendAt, which the scheduler reads
# every minute: `due_pk` = "due#<n>" over DUE_SHARDS partitions (a scheduled message costs
# one index put and one delete; 32 partitions take 16,000 schedulings a second), `due_at` =
# 12 hex digits of SendAt's millisecond + the Sid's hex. Keys only.
INDEX_DUE = "due"
DUE_SHARDS = 32
DUE_ATTRIBUTES = ("due_pk", "due_at")

# IAM actions the function needs on the table. TransactWriteItems has no action of its own
# (IAM checks a PutItem for each item in it); BatchGetItem reads a list page's messages.
ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem")
# Scan: `admin migrate` only (chalicelib.storage.migration); nothing on a request path scans.
ADMIN_ACTIONS = ("CreateTable", "DescribeTable", "UpdateTimeToLive", "Scan")


def _key(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def account_key(account_sid: str) -> dict:
    return _key(account_sid, ACCOUNT_SK)


def api_key_key(account_sid: str, key_sid: str) -> dict:
    return _key(account_sid, KEY_SK_PREFIX + key_sid)


def message_pk(account_sid: str, sid: str) -> str:
    return f"{account_sid}#{sid}"


def message_key(account_sid: str, sid: str) -> dict:
    return _key(message_pk(account_sid, sid), MESSAGE_SK)


def key_digest(account_sid: str, idempotency_key: str) -> str:
    return hashlib.sha256(f"{account_sid}\n{idempotency_key}".encode()).hexdigest()


def keyed_message_sid(account_sid: str, idempotency_key: str, has_media: bool = False) -> str:
    """The Sid of the message an account makes with an Idempotency-Key: derived from both,
    so every retry names the same item (its 32 hex digits are a digest, not a time)."""
    return keyed_sid(key_digest(account_sid, idempotency_key), has_media)


def keyed_sid(digest: str, has_media: bool) -> str:
    # The old layout's record of the same key is keyed by the same digest (`admin migrate`).
    return f"{'MM' if has_media else 'SM'}{digest[:32]}"


def idempotency_pk(account_sid: str, idempotency_key: str) -> str:
    return IDEMPOTENCY_PK_PREFIX + key_digest(account_sid, idempotency_key)


def idempotency_key(account_sid: str, idempotency_key: str) -> dict:
    return _key(idempotency_pk(account_sid, idempotency_key), IDEMPOTENCY_SK)


# --- list keys ----------------------------------------------------------------------------

LIST_KEY_HEX_DIGITS = 44  # 12 of milliseconds + 32 of the Sid


def list_key(order_ms: int, sid: str) -> str:
    return f"{order_ms:012x}{sid[2:]}"


def order_ms(fields: dict) -> int:
    """What a message is ordered by in lists, for good: its SendAt when it was scheduled,
    else when it was made."""
    send_at = fields.get("send_at_ms")
    return send_at if send_at is not None else fields["created_ms"]


def shard_of(sid: str, shards: int) -> int:
    """The list shard of a message: its Sid's last random digits, so shards fill evenly."""
    return int(sid[-6:], 16) % shards


def _sharded(value: str, shard: int) -> str:
    return f"{value}#{shard}"


def list_partitions(account_sid: str, to: str | None, from_: str | None, shards: int):
    """(index, [partition values]) of the list with these filters: To (with or without
    From) reads one handset's partition, From alone the sender's shards, neither the
    account's shards."""
    if to:
        return INDEX_BY_TO, [f"{account_sid}|{to}"]
    if from_:
        base = f"{account_sid}|{from_}"
        return INDEX_BY_FROM, [_sharded(base, shard) for shard in range(shards)]
    return INDEX_BY_ACCOUNT, [_sharded(account_sid, shard) for shard in range(shards)]


def late_partition(account_sid: str, shard: int) -> str:
    # Not an AccountSid|To|From value (what the index held before): never one of those.
    return f"late|{account_sid}#{shard}"


def late_partitions(account_sid: str, shards: int) -> list[str]:
    return [late_partition(account_sid, shard) for shard in range(shards)]


def clamp_sent(order: int, sent_ms: int) -> int:
    """A date_sent kept within what lists rely on: [order - LATE_AFTER_MS, order +
    SENT_WITHIN_MS] (docs/table-design.md). Delivery's own bounds keep it there; this only
    catches a carrier's timestamp from a wrong clock, or a misconfigured lease."""
    return min(max(sent_ms, order - LATE_AFTER_MS), order + SENT_WITHIN_MS)


def is_late(order: int, sent_ms: int) -> bool:
    return sent_ms > order + LATE_AFTER_MS


def sent_attributes(account_sid: str, order: int, sent_ms: int, shard: int) -> dict:
    """The attributes that record `sent_ms` as the message's date_sent (clamped): SENT, and
    for a late message its late index entry (LATE_SENT, projected, in the partition of list
    shard `shard`)."""
    sent_ms = clamp_sent(order, sent_ms)
    attributes = {SENT: sent_ms}
    if is_late(order, sent_ms):
        attributes[LATE_SENT] = sent_ms
        attributes[LATE_KEY] = late_partition(account_sid, shard)
    return attributes


def message_item(fields: dict, shard: int) -> dict:
    """A message's whole item: its fields plus its keys and index attributes."""
    account_sid, to, from_ = fields["account_sid"], fields["to"], fields.get("from")
    fields = dict(fields)
    sent_ms = fields.pop("sent_ms", None)
    order = order_ms(fields)
    item = {
        "pk": message_pk(account_sid, fields["sid"]),
        "sk": MESSAGE_SK,
        **fields,
        LIST_SORT_KEY: list_key(order, fields["sid"]),
        "list_pk": _sharded(account_sid, shard),
        "to_key": f"{account_sid}|{to}",
    }
    if from_:
        item["from_key"] = _sharded(f"{account_sid}|{from_}", shard)
    if sent_ms is not None:  # an inbound text: received when it was made
        item.update(sent_attributes(account_sid, order, sent_ms, shard))
    if fields.get("status") == "scheduled":
        item.update(due_attributes(fields["sid"], fields["send_at_ms"]))
    return item


def due_attributes(sid: str, send_at_ms: int) -> dict:
    return {
        "due_pk": f"due#{shard_of(sid, DUE_SHARDS)}",
        "due_at": f"{send_at_ms:012x}{sid[2:]}",
    }


def due_partitions() -> list[str]:
    return [f"due#{n}" for n in range(DUE_SHARDS)]


def split_message_pk(pk: str) -> tuple[str, str]:
    """(AccountSid, Sid) of a message item's partition key."""
    account_sid, _, sid = pk.partition("#")
    return account_sid, sid


# --- phone numbers (IncomingPhoneNumbers) -------------------------------------------------
#
# A number is two items written together in one transaction (chalicelib.storage.numbers):
# the resource, under its account like a message (so another account's Sid is simply not
# there), and its owner item, keyed by the number itself, which holds the account and the
# webhook settings. The owner item is what makes a number belong to one account at most
# (created only where none exists) and what an inbound text reads, with one GetItem, to
# find its account and webhook. The resource items are listed through the sparse "numbers"
# index: `numbers_pk` = AccountSid, sorted on `lk` (12 hex digits of the creation
# millisecond + the Sid's 32), keys only like the message lists.

NUMBER_SK = "number"
OWNER_PK_PREFIX = "number#"
OWNER_SK = "owner"
# What the owner item copies of its number: who owns it and where its texts go.
OWNER_FIELDS = (
    "account_sid",
    "sid",
    "phone_number",
    "sms_url",
    "sms_method",
    "sms_fallback_url",
    "sms_fallback_method",
    "status_callback",
    "status_callback_method",
)


def number_key(account_sid: str, sid: str) -> dict:
    return _key(f"{account_sid}#{sid}", NUMBER_SK)


def owner_key(phone_number: str) -> dict:
    return _key(OWNER_PK_PREFIX + phone_number, OWNER_SK)


def number_item(fields: dict) -> dict:
    """A number's resource item: its fields plus its keys and its list index attributes."""
    return {
        "pk": f"{fields['account_sid']}#{fields['sid']}",
        "sk": NUMBER_SK,
        **fields,
        LIST_SORT_KEY: list_key(fields["created_ms"], fields["sid"]),
        LIST_INDEXES[INDEX_NUMBERS]: fields["account_sid"],
    }


def owner_item(fields: dict) -> dict:
    """A number's owner item: its key and the OWNER_FIELDS the number has (None is absent)."""
    owner = {name: fields.get(name) for name in OWNER_FIELDS}
    return {
        "pk": OWNER_PK_PREFIX + fields["phone_number"],
        "sk": OWNER_SK,
        **{name: value for name, value in owner.items() if value is not None},
    }


def fields_of(item: dict) -> dict:
    """A message item without its keys and index attributes; its date_sent as `sent_ms`
    (SENT, or on a message stored before SENT existed, LATE_SENT)."""
    fields = {k: v for k, v in item.items() if k not in _LAYOUT_ATTRIBUTES}
    if SENT in item:
        fields["sent_ms"] = item[SENT]
    return fields


_LAYOUT_ATTRIBUTES = {
    "pk", "sk", LIST_SORT_KEY, *LIST_INDEXES.values(), *DUE_ATTRIBUTES, SENT, IDEMPOTENCY_DIGEST,
}  # fmt: skip


def is_stand_in(item: dict | None) -> bool:
    return bool(item) and STAND_IN in item
