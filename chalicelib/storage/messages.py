"""Message items: create (plain, or once per Idempotency-Key), get, update and delete.

Every call is one round trip on the message's own partition, whose key holds the caller's
AccountSid (so another account's Sid is simply missing). Writes carry their checks as
condition expressions: that the message exists, and the statuses a change is allowed from
(chalicelib.messages.status decides which).
A refused write answers with the item it saw, so "missing" and "wrong state" are told apart
without a read-then-write.

A message made with an Idempotency-Key has a Sid derived from the key (chalicelib.twilio.sids), so
a retry's create is the same conditional put, refused, answering with the first message: one
item, one write. A keyed message deleted within the key's 24 hours leaves a stand-in
(schema.STAND_IN) that a retry finds instead, and that nothing else sees.
"""

from collections.abc import Collection

from chalicelib.storage import client, marshal, schema
from chalicelib.storage.client import Exists, Missing, WrongState

# The condition every write to a message carries: it is there, and it is a message.
_IS_MESSAGE = f"attribute_exists(pk) AND attribute_not_exists({schema.STAND_IN})"
KEY_SECONDS = 24 * 3600  # how long an Idempotency-Key replays even a deleted message


def put_new_message(fields: dict, shard: int, request_digest: str | None = None) -> None:
    """Store a new message; never overwrites a message. A keyed one (`request_digest`, the
    digest of the request that made it) may take the place of a stand-in whose time is up.
    When the Sid is taken, raises Exists with what holds it (a message or a stand-in, as
    stored: its fields and schema's idempotency attributes)."""
    from botocore.exceptions import ClientError

    item = schema.message_item(fields, shard)
    condition, values = "attribute_not_exists(pk)", {}
    if request_digest is not None:
        item[schema.IDEMPOTENCY_DIGEST] = request_digest
        condition += f" OR (attribute_exists({schema.STAND_IN}) AND {schema.TTL_ATTRIBUTE} < :now)"
        values = {":now": {"N": str(fields["created_ms"] // 1000)}}
    try:
        client.call(
            "put_item",
            Item=marshal.to_attrs(item),
            ConditionExpression=condition,
            **({"ExpressionAttributeValues": values} if values else {}),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            key = schema.message_key(fields["account_sid"], fields["sid"])
            raise Exists(client.refused_item(error, key) or {}) from error
        raise


def get_message(account_sid: str, sid: str) -> dict | None:
    """The message's fields, or None when there is none (or it is another account's)."""
    item = client.get(schema.message_key(account_sid, sid))
    return schema.fields_of(item) if item is not None and not schema.is_stand_in(item) else None


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
    condition refused it. `history` is appended to the message's status history. A
    date_sent is recorded with schema.sent_attributes (never as `sent_ms`): the list key
    never moves. Leaving `scheduled` takes the message out of the scheduler's index.
    """
    from botocore.exceptions import ClientError

    if "sent_ms" in changes and schema.SENT not in changes:
        raise ValueError("record a date_sent with schema.sent_attributes")
    changes = dict(changes)
    remove = list(remove)
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
    conditions = [_IS_MESSAGE]
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


def delete_message(
    account_sid: str, sid: str, refuse_statuses: Collection[str], now_ms: int
) -> dict:
    """Delete a message unless it is in one of `refuse_statuses`; the fields it held. A
    message made with an Idempotency-Key less than KEY_SECONDS ago is replaced by a stand-in
    that keeps it for the key's retries (a second call only for those)."""
    from botocore.exceptions import ClientError

    names = {"#status": "status", "#digest": schema.IDEMPOTENCY_DIGEST}
    values = {":recent": {"N": str(now_ms - KEY_SECONDS * 1000)}}
    for index, status in enumerate(sorted(refuse_statuses)):
        values[f":r{index}"] = {"S": status}
    allowed = f"NOT #status IN ({', '.join(v for v in values if v != ':recent')})"
    keyless = "(attribute_not_exists(#digest) OR created_ms < :recent)"
    try:
        response = client.call(
            "delete_item",
            Key=schema.message_key(account_sid, sid),
            ConditionExpression=f"{_IS_MESSAGE} AND {allowed} AND {keyless}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not client.is_condition_failure(error):
            raise
        old = client.refused_item(error, schema.message_key(account_sid, sid))
        if old and not schema.is_stand_in(old) and old.get("status") not in refuse_statuses:
            return _stand_in_for(account_sid, sid, old, refuse_statuses)
        raise _refused(error, account_sid, sid) from error
    return schema.fields_of(marshal.from_attrs(response.get("Attributes", {})))


def _stand_in_for(account_sid: str, sid: str, item: dict, refuse_statuses) -> dict:
    """Replace a recent keyed message with its stand-in, while it is still that message in
    an allowed status; the fields it held."""
    from botocore.exceptions import ClientError

    fields = schema.fields_of(item)
    expires = fields["created_ms"] // 1000 + KEY_SECONDS
    stand_in = {
        **{k: marshal.value(v) for k, v in schema.message_key(account_sid, sid).items()},
        schema.STAND_IN: "deleted",
        schema.IDEMPOTENCY_DIGEST: item[schema.IDEMPOTENCY_DIGEST],
        schema.TTL_ATTRIBUTE: expires,
        schema.REPLAY: fields,
    }
    values = {f":r{index}": {"S": status} for index, status in enumerate(sorted(refuse_statuses))}
    values[":digest"] = {"S": item[schema.IDEMPOTENCY_DIGEST]}
    allowed = f"NOT #status IN ({', '.join(v for v in values if v != ':digest')})"
    try:
        client.call(
            "put_item",
            Item=marshal.to_attrs(stand_in),
            ConditionExpression=f"{_IS_MESSAGE} AND #digest = :digest AND {allowed}",
            ExpressionAttributeNames={"#status": "status", "#digest": schema.IDEMPOTENCY_DIGEST},
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not client.is_condition_failure(error):
            raise
        raise _refused(error, account_sid, sid) from error
    return fields


def _refused(error: Exception, account_sid: str, sid: str) -> Exception:
    """Missing or WrongState for a refused write, from the item the refusal saw."""
    old = client.refused_item(error, schema.message_key(account_sid, sid))
    if old is None or schema.is_stand_in(old):
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
            ConditionExpression=f"{_IS_MESSAGE} AND media_sids[{place}] = :media",
            ExpressionAttributeValues={":media": {"S": media_sid}},
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            raise WrongState({}) from error
        raise
