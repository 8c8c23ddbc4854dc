"""Every call Herald makes to AWS's data services, and the table design they rely on.

DynamoDB:
    client.py        the client, `call`, and what DynamoDB's failures mean to Herald
    marshal.py       typed attribute values to and from plain values
    schema.py        the table's keys and indexes: the one place that knows them
    accounts.py      accounts, API keys and list shard counts
    messages.py      message items: create, get, update, delete
    listing.py       list pages: index entries merged across shards, then their messages
    numbers.py       IncomingPhoneNumbers and the owner items that route texts to them
    optouts.py       handsets that texted STOP
    events.py        status callback attempts and other events around a message
    stream.py        the table's change stream, read as message changes
    tables.py        creating the table
    migration.py     `admin migrate`: the items an earlier layout wrote, brought to this one
The others:
    queues.py        SQS: the jobs between delivery's steps
    tokens.py        KMS: each account's AuthToken, encrypted for the signing functions
    url_credentials.py  the user:password@ of users' URLs, sealed with the same key
    media_objects.py S3: the media End User Messaging sends MMS from
    boto.py          making any boto3 client with the garbage collector out of the way

No Scan on any request path (the admin's `migrate` is the one): every read is a GetItem, a
BatchGetItem of keys a page already holds, or a Query whose reads a page bounds. Writes are
conditional so that a race can never overwrite, resurrect or lose a message.
"""

from chalicelib.storage.client import (
    Exists,
    Missing,
    Throttled,
    Unavailable,
    WrongState,
    reset,
)
from chalicelib.storage.schema import ACTIONS, ADMIN_ACTIONS, TTL_ATTRIBUTE
from chalicelib.storage.tables import ensure_table, table_definition

__all__ = [
    "ACTIONS",
    "ADMIN_ACTIONS",
    "TTL_ATTRIBUTE",
    "Exists",
    "Missing",
    "Throttled",
    "Unavailable",
    "WrongState",
    "ensure_table",
    "reset",
    "table_definition",
]
