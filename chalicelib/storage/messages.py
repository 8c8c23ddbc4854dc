"""Message items: create (plain or with an idempotency record), get, update and delete.

Every call is one round trip on the message's own partition, whose key holds the caller's
AccountSid (so another account's Sid is simply missing). Writes carry their checks as
condition expressions: that the message exists, and the statuses a change is allowed from
(chalicelib.messages.status decides which).
A refused write answers with the item it saw, so "missing" and "wrong state" are told apart
without a read-then-write.
"""

import time
from collections.abc import Collection

from chalicelib.storage import client, marshal, schema
from chalicelib.storage.client import Exists, Missing, Unavailable, WrongState

# How long a create waits for a concurrent create with the same Idempotency-Key to commit
# before answering 503. DynamoDB cancels a transaction that touches an item another
# transaction is writing (TransactionConflict); that one commits within milliseconds.
IDEMPOTENCY_WAIT_SECONDS = 3.0


def put_new_message(fields: dict, shard: int) -> None:
    """Store a new message; never overwrites (a Sid collision raises Exists)."""
    from botocore.exceptions import ClientError

    item = schema.message_item(fields, shard)
    try:
        client.call(
            "put_item",
            Item=marshal.to_attrs(item),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            raise Exists(fields["sid"]) from error
        raise


def put_new_message_once(fields: dict, shard: int, record: dict, now_s: int) -> dict | None:
    """Store a new message with its idempotency record, atomically, in one transaction.

    `record` holds `key` (the Idempotency-Key), `request_digest` and `expires_at`. When a
    live record already holds that key, nothing is written and that record is returned (with
    `message_sid` and a copy of the first message as `message`), so a retried create finds
    the first one's message however many retries race each other. A retry that meets another
    one still in flight waits for it, up to IDEMPOTENCY_WAIT_SECONDS.
    """
    account_sid = fields["account_sid"]
    record_key = schema.idempotency_key(account_sid, record["key"])
    record_item = {
        **{k: marshal.value(v) for k, v in record_key.items()},
        "account_sid": account_sid,
        "request_digest": record["request_digest"],
        schema.TTL_ATTRIBUTE: record[schema.TTL_ATTRIBUTE],
        "message_sid": fields["sid"],
        "message": fields,
    }
    request = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": client.table(),
                    "Item": marshal.to_attrs(record_item),
                    "ConditionExpression": "attribute_not_exists(pk) OR #exp < :now",
                    "ExpressionAttributeNames": {"#exp": schema.TTL_ATTRIBUTE},
                    "ExpressionAttributeValues": {":now": {"N": str(now_s)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": client.table(),
                    "Item": marshal.to_attrs(schema.message_item(fields, shard)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    }
    deadline = time.monotonic() + IDEMPOTENCY_WAIT_SECONDS
    while True:
        try:
            reasons = client.transact(request, max(0.0, deadline - time.monotonic()))
        except Unavailable:
            # The create in flight may have committed just as the wait ran out.
            existing = client.get(record_key)
            if existing is None:
                raise
            return existing
        if reasons is None:
            return None
        first, second = [*reasons, {}, {}][:2]
        if second.get("Code") == "ConditionalCheckFailed":
            raise Exists(fields["sid"])
        existing = marshal.from_attrs(first["Item"]) if first.get("Item") else None
        existing = existing or client.get(record_key)
        if existing is not None:
            return existing
        # The record expired and went between the refusal and the read: try again.


def get_message(account_sid: str, sid: str) -> dict | None:
    """The message's fields, or None when there is none (or it is another account's)."""
    item = client.get(schema.message_key(account_sid, sid))
    return schema.fields_of(item) if item is not None else None


def update_message(
    account_sid: str,
    sid: str,
    changes: dict,
    *,
    statuses: Collection[str] | None = None,
    remove: Collection[str] = (),
    condition: str | None = None,
    values: dict | None = None,
    history: dict | None = None,
) -> dict:
    """Apply `changes` (and REMOVE `remove`) to a message in one conditional write; its
    new fields.

    The write happens only while the message exists, has one of `statuses` (when given; an
    entry may also be a (status, marker) pair: that status while the item has the attribute
    `marker`) and meets `condition` (an extra expression over `values`).
    Raises Missing when there is no such message and WrongState (with what it holds) when a
    condition refused it. `history` is appended to the message's status history. Storage
    keeps the index keys in step: setting `sent_ms` moves the message in the lists, and
    leaving `scheduled` takes it out of the scheduler's index.
    """
    from botocore.exceptions import ClientError

    changes = dict(changes)
    remove = list(remove)
    if "sent_ms" in changes:
        changes[schema.LIST_SORT_KEY] = schema.list_key(changes["sent_ms"], sid)
    leaving_schedule = statuses is None or "scheduled" in statuses
    if changes.get("status", "scheduled") != "scheduled" and leaving_schedule:
        remove.extend(schema.DUE_ATTRIBUTES)
    names: dict[str, str] = {}
    attr_values: dict[str, dict] = {}
    assignments = []
    for index, (field, value) in enumerate(changes.items()):
        names[f"#f{index}"] = field
        attr_values[f":v{index}"] = marshal.attr(value)
        assignments.append(f"#f{index} = :v{index}")
    if history is not None:
        names["#history"] = "history"
        attr_values[":history"] = marshal.attr([history])
        attr_values[":none"] = {"L": []}
        assignments.append("#history = list_append(if_not_exists(#history, :none), :history)")
    expression = "SET " + ", ".join(assignments) if assignments else ""
    if remove:
        for index, field in enumerate(remove):
            names[f"#r{index}"] = field
        expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(remove)))
    conditions = ["attribute_exists(pk)"]
    if statuses is not None:
        conditions.append(_status_condition(statuses, names, attr_values))
    if condition:
        conditions.append(f"({condition})")
        attr_values.update(marshal.to_attrs(values or {}))
    try:
        response = client.call(
            "update_item",
            Key=schema.message_key(account_sid, sid),
            UpdateExpression=expression.strip(),
            ConditionExpression=" AND ".join(conditions),
            **({"ExpressionAttributeNames": names} if names else {}),
            **({"ExpressionAttributeValues": attr_values} if attr_values else {}),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not client.is_condition_failure(error):
            raise
        raise _refused(error, account_sid, sid) from error
    return schema.fields_of(marshal.from_attrs(response["Attributes"]))


def _status_condition(statuses: Collection, names: dict, attr_values: dict) -> str:
    """`#status IN (…)`, or'ed with `(#status = … AND attribute_exists(marker))` for each
    (status, marker) entry."""
    names["#status"] = "status"
    plain = sorted(str(status) for status in statuses if isinstance(status, str))
    marked = sorted((str(s), m) for s, m in (e for e in statuses if not isinstance(e, str)))
    either = []
    if plain:
        for index, status in enumerate(plain):
            attr_values[f":s{index}"] = {"S": status}
        either.append(f"#status IN ({', '.join(f':s{i}' for i in range(len(plain)))})")
    for index, (status, marker) in enumerate(marked):
        names[f"#m{index}"] = marker
        attr_values[f":m{index}"] = {"S": status}
        either.append(f"(#status = :m{index} AND attribute_exists(#m{index}))")
    if not either:
        raise ValueError("no status to move from")
    return either[0] if len(either) == 1 else f"({' OR '.join(either)})"


def delete_message(account_sid: str, sid: str, refuse_statuses: Collection[str]) -> dict:
    """Delete a message unless it is in one of `refuse_statuses`; the fields it held."""
    from botocore.exceptions import ClientError

    values = {}
    for index, status in enumerate(sorted(refuse_statuses)):
        values[f":r{index}"] = {"S": status}
    condition = "attribute_exists(pk)"
    if values:
        condition += f" AND NOT #status IN ({', '.join(values)})"
    try:
        response = client.call(
            "delete_item",
            Key=schema.message_key(account_sid, sid),
            ConditionExpression=condition,
            **({"ExpressionAttributeNames": {"#status": "status"}} if values else {}),
            **({"ExpressionAttributeValues": values} if values else {}),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not client.is_condition_failure(error):
            raise
        raise _refused(error, account_sid, sid) from error
    return schema.fields_of(marshal.from_attrs(response.get("Attributes", {})))


def _refused(error: Exception, account_sid: str, sid: str) -> Exception:
    """Missing or WrongState for a refused write, from the item the refusal saw."""
    old = client.refused_item(error, schema.message_key(account_sid, sid))
    if old is None:
        return Missing(sid)
    return WrongState(schema.fields_of(old))


def due_messages(partition: str, until_ms: int, limit: int) -> list[tuple[str, str]]:
    """(AccountSid, Sid) of up to `limit` scheduled messages of one due partition whose
    SendAt is at or before `until_ms`, earliest first."""
    response = client.call(
        "query",
        IndexName=schema.INDEX_DUE,
        KeyConditionExpression="due_pk = :p AND due_at <= :until",
        ExpressionAttributeValues={
            ":p": {"S": partition},
            ":until": {"S": f"{until_ms:012x}" + "f" * 32},
        },
        Limit=limit,
    )
    return [schema.split_message_pk(item["pk"]["S"]) for item in response.get("Items", [])]


def remove_media(account_sid: str, sid: str, place: int, media_sid: str) -> None:
    """Remove the message's media at `place`, only while it is still `media_sid` there."""
    from botocore.exceptions import ClientError

    lists = ("media_urls", "media_sids", "media_types")
    try:
        client.call(
            "update_item",
            Key=schema.message_key(account_sid, sid),
            UpdateExpression="REMOVE " + ", ".join(f"{name}[{place}]" for name in lists),
            ConditionExpression=f"media_sids[{place}] = :media",
            ExpressionAttributeValues={":media": {"S": media_sid}},
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            raise WrongState({}) from error
        raise
