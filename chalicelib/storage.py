"""Every DynamoDB call Herald makes, and the table design they rely on.

One table holds everything, keyed by the account so one tenant's items never share a key
with another's:

    pk = AccountSid    sk = "#account"         the account and its hashed AuthToken
    pk = AccountSid    sk = "#key#SK…"         an API key and its hashed secret
    pk = AccountSid    sk = <32 hex of a Sid>  a Message (the hex sorts by creation time)
    pk = AccountSid    sk = "#idem#<sha256>"   an Idempotency-Key and the message it made

Lists read global secondary indexes whose sort key `lk` is the list order: 12 hex digits of
the millisecond the message was sent (or created, while it is unsent) followed by the Sid's
hex, so newest-first is a descending Query and a DateSent range is a key condition. The
indexes are sparse: only messages carry `lk`, and only messages with a From carry `from_key`.

No Scan anywhere: every read is a GetItem or a Query whose Limit is what the page needs.
Writes are conditional so that a race can never overwrite, resurrect or lose a message.
"""

import functools
import time
from dataclasses import dataclass

from chalicelib import config

ACCOUNT_SK = "#account"
KEY_SK_PREFIX = "#key#"
IDEMPOTENCY_SK_PREFIX = "#idem#"
# Idempotency records carry an expiry in epoch seconds; DynamoDB's TTL deletes them later.
TTL_ATTRIBUTE = "expires_at"

# Index name -> hash-key attribute. All of them sort on LIST_SORT_KEY.
LIST_SORT_KEY = "lk"
INDEX_BY_ACCOUNT = "by-account"
INDEX_BY_TO = "by-to"
INDEX_BY_FROM = "by-from"
INDEX_BY_TO_FROM = "by-to-from"
LIST_INDEXES = {
    INDEX_BY_ACCOUNT: "pk",
    INDEX_BY_TO: "to_key",
    INDEX_BY_FROM: "from_key",
    INDEX_BY_TO_FROM: "to_from_key",
}

# The IAM actions the request path needs; the deploy templates grant exactly these.
# TransactWriteItems has no action of its own: IAM checks a PutItem for each item in it.
ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")
ADMIN_ACTIONS = ("CreateTable", "DescribeTable", "UpdateTimeToLive")
# Client errors that callers handle themselves rather than as an outage.
_PASSED_THROUGH = {"ConditionalCheckFailedException", "TransactionCanceledException"}

RETRYABLE_THROTTLES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}


def table_definition(table_name: str) -> dict:
    """The CreateTable request: the one description of keys and indexes the code relies on."""
    attributes = {"pk", "sk", LIST_SORT_KEY, *LIST_INDEXES.values()}
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
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": hash_key, "KeyType": "HASH"},
                    {"AttributeName": LIST_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, hash_key in LIST_INDEXES.items()
        ],
    }


class Missing(Exception):
    """The item is not there (or belongs to another account: the same thing)."""


@dataclass
class WrongState(Exception):
    """The item is there but a condition on its state failed; `item` is what it holds."""

    item: dict


class Exists(Exception):
    """A create found an item already under that key."""


class Throttled(Exception):
    """DynamoDB kept refusing for capacity after the client's own retries."""


class Unavailable(Exception):
    """DynamoDB failed in a way the caller can only retry later."""


# --- the client -------------------------------------------------------------------------


@functools.cache
def _client():
    # Imported here, not at module load: a Lambda cold start pays only when a request
    # actually needs DynamoDB.
    import boto3
    from botocore.config import Config

    settings = config.load()
    return boto3.client(
        "dynamodb",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
        ),
    )


def reset() -> None:
    """Forget the client and settings (tests switch endpoints between runs)."""
    _client.cache_clear()
    _table.cache_clear()


@functools.cache
def _table() -> str:
    return config.load().table_name


def _call(operation: str, **kwargs) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    if "TransactItems" not in kwargs:
        kwargs["TableName"] = _table()
    try:
        return getattr(_client(), operation)(**kwargs)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _PASSED_THROUGH:
            raise
        if code in RETRYABLE_THROTTLES:
            raise Throttled(code) from error
        raise Unavailable(code) from error
    except BotoCoreError as error:
        raise Unavailable(type(error).__name__) from error


def _condition_failed(error: Exception, account_sid: str, sort_key: str) -> dict | None:
    """The item a failed condition saw, or None when there was none.

    DynamoDB returns it with the error (ReturnValuesOnConditionCheckFailure), so the
    usual refusal costs no extra call. Some servers (dynalite) ignore that parameter; then,
    and when the item is truly missing, one consistent read tells "missing" from "wrong state".
    This read only chooses the error code: the write was already refused atomically.
    """
    response = getattr(error, "response", {}) or {}
    item = response.get("Item")
    return _from_attrs(item) if item else _get(account_sid, sort_key)


def _is_condition_failure(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# --- attribute values -------------------------------------------------------------------


def _attr(value) -> dict:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list | tuple):
        return {"L": [_attr(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: _attr(v) for k, v in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__}")


def _value(attr: dict):
    ((kind, raw),) = attr.items()
    if kind == "S" or kind == "BOOL":
        return raw
    if kind == "N":
        return int(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_value(v) for v in raw]
    if kind == "M":
        return {k: _value(v) for k, v in raw.items()}
    raise TypeError(f"unexpected attribute type {kind}")


def _to_attrs(item: dict) -> dict:
    return {k: _attr(v) for k, v in item.items() if v is not None}


def _from_attrs(attrs: dict) -> dict:
    return {k: _value(v) for k, v in attrs.items()}


def _key(account_sid: str, sort_key: str) -> dict:
    return {"pk": {"S": account_sid}, "sk": {"S": sort_key}}


# --- tables -----------------------------------------------------------------------------


def ensure_table() -> bool:
    """Create the table when it is missing; True when it was created now."""
    from botocore.exceptions import ClientError

    client = _client()
    try:
        client.describe_table(TableName=_table())
        return False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    try:
        client.create_table(**table_definition(_table()))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        return False
    client.get_waiter("table_exists").wait(
        TableName=_table(), WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    client.update_time_to_live(
        TableName=_table(),
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
    return True


# --- accounts and keys ------------------------------------------------------------------


def put_account(account_sid: str, token_hash: str, created_ms: int) -> None:
    """Create or replace an account's credentials (admin only)."""
    item = {"pk": account_sid, "sk": ACCOUNT_SK, "token_hash": token_hash, "created_ms": created_ms}
    _call("put_item", Item=_to_attrs(item))


def put_api_key(account_sid: str, key_sid: str, secret_hash: str, created_ms: int) -> None:
    item = {
        "pk": account_sid,
        "sk": KEY_SK_PREFIX + key_sid,
        "secret_hash": secret_hash,
        "created_ms": created_ms,
        "revoked": False,
    }
    _call("put_item", Item=_to_attrs(item), ConditionExpression="attribute_not_exists(pk)")


def revoke_api_key(account_sid: str, key_sid: str) -> None:
    from botocore.exceptions import ClientError

    try:
        _call(
            "update_item",
            Key=_key(account_sid, KEY_SK_PREFIX + key_sid),
            UpdateExpression="SET revoked = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    except ClientError as error:
        if _is_condition_failure(error):
            raise Missing(key_sid) from error
        raise


def get_account(account_sid: str) -> dict | None:
    return _get(account_sid, ACCOUNT_SK)


def get_api_key(account_sid: str, key_sid: str) -> dict | None:
    return _get(account_sid, KEY_SK_PREFIX + key_sid)


def _get(account_sid: str, sort_key: str) -> dict | None:
    response = _call("get_item", Key=_key(account_sid, sort_key), ConsistentRead=True)
    item = response.get("Item")
    return _from_attrs(item) if item else None


# --- messages ---------------------------------------------------------------------------


def put_new_message(item: dict) -> None:
    """Store a new message; never overwrites (a Sid collision raises Exists)."""
    from botocore.exceptions import ClientError

    try:
        _call("put_item", Item=_to_attrs(item), ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if _is_condition_failure(error):
            raise Exists(item["sk"]) from error
        raise


def put_new_message_once(item: dict, record: dict, now_s: int) -> dict | None:
    """Store a new message with its idempotency record, atomically, in one round trip.

    `record` holds the record's key (`sk`), `request_digest` and `expires_at`. When a live
    record already holds that key, nothing is written and that record is returned, so a
    retried create finds the first one's message however many retries race each other.
    """
    from botocore.exceptions import ClientError

    record_item = {"pk": item["pk"], **record, "message": item}
    request = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": _table(),
                    "Item": _to_attrs(record_item),
                    "ConditionExpression": "attribute_not_exists(pk) OR #exp < :now",
                    "ExpressionAttributeNames": {"#exp": TTL_ATTRIBUTE},
                    "ExpressionAttributeValues": {":now": {"N": str(now_s)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": _table(),
                    "Item": _to_attrs(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    }
    for attempt in range(4):
        try:
            _call("transact_write_items", **request)
            return None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            first, second = [*reasons, {}, {}][:2]
            if first.get("Code") == "ConditionalCheckFailed":
                if first.get("Item"):
                    return _from_attrs(first["Item"])
                existing = _get(item["pk"], record["sk"])
                if existing is not None:
                    return existing
            elif second.get("Code") == "ConditionalCheckFailed":
                raise Exists(item["sk"]) from error
            # TransactionConflict: a concurrent retry holds the record; it will have
            # committed or failed in a moment.
            time.sleep(0.02 * (attempt + 1))
    existing = _get(item["pk"], record["sk"])
    if existing is None:
        raise Unavailable("TransactionConflict")
    return existing


def get_message(account_sid: str, sort_key: str) -> dict | None:
    return _get(account_sid, sort_key)


def update_message(
    account_sid: str,
    sort_key: str,
    sid: str,
    changes: dict,
    require_status: str | None = None,
) -> dict:
    """Apply `changes` to an existing message in one conditional write; the new item.

    Raises Missing when there is no such message and WrongState when `require_status` is
    set and the message is in another state.
    """
    from botocore.exceptions import ClientError

    names = {"#sid": "sid"}
    values = {":sid": {"S": sid}}
    assignments = []
    for index, (field, value) in enumerate(changes.items()):
        names[f"#f{index}"] = field
        values[f":v{index}"] = _attr(value)
        assignments.append(f"#f{index} = :v{index}")
    condition = "#sid = :sid"
    if require_status is not None:
        names["#status"] = "status"
        values[":required"] = {"S": require_status}
        condition += " AND #status = :required"
    try:
        response = _call(
            "update_item",
            Key=_key(account_sid, sort_key),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not _is_condition_failure(error):
            raise
        old = _condition_failed(error, account_sid, sort_key)
        if old is None or old.get("sid") != sid:
            raise Missing(sid) from error
        raise WrongState(old) from error
    return _from_attrs(response["Attributes"])


def delete_message(account_sid: str, sort_key: str, sid: str, refuse_status: str) -> None:
    """Delete a message unless it is in `refuse_status`, in one conditional write."""
    from botocore.exceptions import ClientError

    try:
        _call(
            "delete_item",
            Key=_key(account_sid, sort_key),
            ConditionExpression="#sid = :sid AND #status <> :refused",
            ExpressionAttributeNames={"#sid": "sid", "#status": "status"},
            ExpressionAttributeValues={":sid": {"S": sid}, ":refused": {"S": refuse_status}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not _is_condition_failure(error):
            raise
        old = _condition_failed(error, account_sid, sort_key)
        if old is None or old.get("sid") != sid:
            raise Missing(sid) from error
        raise WrongState(old) from error


def query_messages(
    index: str,
    hash_value: str,
    low: str,
    high: str,
    descending: bool,
    limit: int,
    sent_only: bool,
) -> list[dict]:
    """Up to `limit` messages of one index partition with low <= lk <= high, in order.

    `sent_only` drops messages that have no date_sent (scheduled ones): only then can a
    Query read more items than it returns, and only as many as such messages in the range.
    """
    request = {
        "IndexName": index,
        "KeyConditionExpression": "#h = :h AND #lk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#h": LIST_INDEXES[index], "#lk": LIST_SORT_KEY},
        "ExpressionAttributeValues": {
            ":h": {"S": hash_value},
            ":low": {"S": low},
            ":high": {"S": high},
        },
        "ScanIndexForward": not descending,
    }
    if sent_only:
        request["FilterExpression"] = "attribute_exists(sent_ms)"
    items: list[dict] = []
    while len(items) < limit:
        response = _call("query", Limit=limit - len(items), **request)
        items.extend(_from_attrs(item) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return items
