"""The table's layout: the one place that knows partition keys, sort keys and index keys.

One table holds everything, and partition keys are chosen so that no key is hot however many
messages one account sends (the arithmetic is in docs/table-design.md):

    item                 pk                                    sk
    account              AccountSid                            "account"
    API key              AccountSid                            "key#SK…"
    message              AccountSid + "#" + its Sid            "message"
    idempotency record   "idem#" + sha256(AccountSid, key)     "idem"
    phone number         AccountSid + "#" + its Sid (PN…)      "number"
    number's owner       "number#" + the E.164 number          "owner"

Fetch, update and delete of a message are one call on its own partition. The caller's
AccountSid is part of the key, so another account's Sid is simply not there: it answers exactly
like a missing one, with the same calls and the same answers from DynamoDB.

Lists read sparse global secondary indexes sorted on `lk`: 12 hex digits of the millisecond
the message was sent (created, while unsent) followed by the Sid's 32 hex digits, so
newest-first is a descending Query and a DateSent range is a key condition. The account-wide
and From indexes are spread over the account's `list_shards` partitions (a shard taken from
the Sid's random digits); a page merges them newest first. The indexes project the keys and
`sent_ms` only, so a status change rewrites no index entry: only sending a message moves it
(its `lk` changes once), and a page fetches its messages with one BatchGetItem per 100.
"""

import hashlib

ACCOUNT_SK = "account"
KEY_SK_PREFIX = "key#"
MESSAGE_SK = "message"
IDEMPOTENCY_PK_PREFIX = "idem#"
IDEMPOTENCY_SK = "idem"
# Idempotency records carry an expiry in epoch seconds; DynamoDB's TTL deletes them later.
TTL_ATTRIBUTE = "expires_at"

LIST_SORT_KEY = "lk"
INDEX_BY_ACCOUNT = "by-account"
INDEX_BY_TO = "by-to"
INDEX_BY_FROM = "by-from"
INDEX_BY_TO_FROM = "by-to-from"
# An account's IncomingPhoneNumbers, newest first (see "phone numbers" below).
INDEX_NUMBERS = "numbers"
# Index name -> its hash-key attribute; all of them sort on LIST_SORT_KEY.
LIST_INDEXES = {
    INDEX_BY_ACCOUNT: "list_pk",
    INDEX_BY_TO: "to_key",
    INDEX_BY_FROM: "from_key",
    INDEX_BY_TO_FROM: "to_from_key",
    INDEX_NUMBERS: "numbers_pk",
}
# The indexes whose partitions are per account (or per account and sender) and so take a
# whole account's sending rate: they are sharded. A To partition takes one handset's
# messages, which no carrier delivers at more than a few a second.
SHARDED_INDEXES = (INDEX_BY_ACCOUNT, INDEX_BY_FROM)
# What a list needs from an index besides keys: whether the message has been sent yet
# (DateSent filters skip unsent ones). It changes only together with `lk`.
LIST_PROJECTED = ["sent_ms"]

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
# (IAM checks a PutItem for each item in it, and ConditionCheckItem for a ConditionCheck: a
# Messaging Service's sender links); BatchGetItem reads a list page's messages.
ACTIONS = (
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "Query",
    "BatchGetItem",
)  # fmt: skip
ADMIN_ACTIONS = ("CreateTable", "DescribeTable", "UpdateTimeToLive")


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


def idempotency_pk(account_sid: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{account_sid}\n{idempotency_key}".encode()).hexdigest()
    return IDEMPOTENCY_PK_PREFIX + digest


def idempotency_key(account_sid: str, idempotency_key: str) -> dict:
    return _key(idempotency_pk(account_sid, idempotency_key), IDEMPOTENCY_SK)


# --- list keys ----------------------------------------------------------------------------

LIST_KEY_HEX_DIGITS = 44  # 12 of milliseconds + 32 of the Sid


def list_key(order_ms: int, sid: str) -> str:
    return f"{order_ms:012x}{sid[2:]}"


def order_ms(fields: dict) -> int:
    """What a message sorts by: when it was sent, or created while it is unsent."""
    sent = fields.get("sent_ms")
    return sent if sent is not None else fields["created_ms"]


def shard_of(sid: str, shards: int) -> int:
    """The list shard of a message: its Sid's last random digits, so shards fill evenly."""
    return int(sid[-6:], 16) % shards


def _sharded(value: str, shard: int) -> str:
    return f"{value}#{shard}"


def list_partitions(account_sid: str, to: str | None, from_: str | None, shards: int):
    """(index, [partition values]) a list with these filters reads."""
    if to and from_:
        return INDEX_BY_TO_FROM, [f"{account_sid}|{to}|{from_}"]
    if to:
        return INDEX_BY_TO, [f"{account_sid}|{to}"]
    if from_:
        base = f"{account_sid}|{from_}"
        return INDEX_BY_FROM, [_sharded(base, shard) for shard in range(shards)]
    return INDEX_BY_ACCOUNT, [_sharded(account_sid, shard) for shard in range(shards)]


def message_item(fields: dict, shard: int) -> dict:
    """A message's whole item: its fields plus its keys and index attributes."""
    account_sid, to, from_ = fields["account_sid"], fields["to"], fields.get("from")
    item = {
        "pk": message_pk(account_sid, fields["sid"]),
        "sk": MESSAGE_SK,
        **fields,
        LIST_SORT_KEY: list_key(order_ms(fields), fields["sid"]),
        "list_pk": _sharded(account_sid, shard),
        "to_key": f"{account_sid}|{to}",
    }
    if from_:
        item["from_key"] = _sharded(f"{account_sid}|{from_}", shard)
        item["to_from_key"] = f"{account_sid}|{to}|{from_}"
    if fields.get("status") == "scheduled":
        item.update(due_attributes(fields["sid"], fields["send_at_ms"]))
    return item


def sender_attributes(account_sid: str, to: str, from_: str, shard: int) -> dict:
    """The index attributes of a message whose From is chosen after it was stored (sent
    through a Messaging Service), written with the From in the same update."""
    return {
        "from_key": _sharded(f"{account_sid}|{from_}", shard),
        "to_from_key": f"{account_sid}|{to}|{from_}",
    }


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
    """A message item without its keys and index attributes."""
    return {k: v for k, v in item.items() if k not in _LAYOUT_ATTRIBUTES}


_LAYOUT_ATTRIBUTES = {"pk", "sk", LIST_SORT_KEY, *LIST_INDEXES.values(), *DUE_ATTRIBUTES}


def table_definition(table_name: str) -> dict:
    """The CreateTable request: the one description of keys and indexes the code relies on."""
    attributes = {"pk", "sk", LIST_SORT_KEY, *LIST_INDEXES.values(), *DUE_ATTRIBUTES}
    list_indexes = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": hash_key, "KeyType": "HASH"},
                {"AttributeName": LIST_SORT_KEY, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": LIST_PROJECTED},
        }
        for index, hash_key in LIST_INDEXES.items()
    ]
    due_index = {
        "IndexName": INDEX_DUE,
        "KeySchema": [
            {"AttributeName": "due_pk", "KeyType": "HASH"},
            {"AttributeName": "due_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [*list_indexes, due_index],
        # Delivery starts from the table's own change stream (chalicelib.delivery.dispatch):
        # a message that is stored is a message that will be handed over.
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
