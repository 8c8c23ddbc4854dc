"""IncomingPhoneNumbers: a number's resource item and its owner item, always written together.

    resource  pk = AccountSid#PN…     sk = "number"   every field of the number
    owner     pk = "number#" + E.164  sk = "owner"    schema.OWNER_FIELDS: account and webhook

Create is one TransactWriteItems of both puts, each only where no item is: the owner item is
what makes a number belong to one account at most, however many creates race for it. Update
and delete read the resource (strongly consistent: it names the owner item's key) and then
write both in one transaction, the resource only at the revision that was read, so the owner
copy always mirrors the resource's webhook fields. Inbound texts read the owner item alone
(`get_owner`, one GetItem). A foreign Sid is simply not under the caller's AccountSid: it
takes the same calls and gets the same answers as a missing one.

Every transaction carries a ClientRequestToken, so a retry of one whose answer was lost is
answered as the first one was instead of being refused by its own write.
"""

import uuid

from chalicelib.storage import client, listing, marshal, schema
from chalicelib.storage.client import Exists, Missing, Unavailable
from chalicelib.storage.services import NUMBER_SK_PREFIX

# How long a write waits out other transactions on the same items (TransactionConflict:
# DynamoDB cancels a transaction that touches an item another one is writing; that one
# commits within milliseconds) before answering 503.
CONFLICT_WAIT_SECONDS = 3.0


class Taken(Exception):
    """The number is already registered (by this account or another: never said which)."""


class Stale(Exception):
    """The number changed (or went) since it was read: read it again."""


def put_new_number(fields: dict) -> None:
    """Register a number: its resource item and its owner item, atomically. Raises Taken
    when the number has an owner, Exists when the Sid is taken (a new Sid will do)."""
    request = _transaction(
        {"Put": _put(schema.number_item(fields))},
        {"Put": _put(schema.owner_item(fields))},
    )
    reasons = _run(request)
    if reasons is None:
        return
    resource, owner = reasons
    if owner == "ConditionalCheckFailed":
        raise Taken(fields["phone_number"])
    if resource == "ConditionalCheckFailed":
        raise Exists(fields["sid"])
    raise Unavailable(f"TransactionCanceled {reasons}")


def get_number(account_sid: str, sid: str) -> dict | None:
    """The number's fields (strongly consistent), or None when there is none (or it is
    another account's)."""
    item = client.get(schema.number_key(account_sid, sid))
    return schema.fields_of(item) if item is not None else None


def get_owner(phone_number: str) -> dict | None:
    """Who owns an E.164 number and where its texts go, with one strongly consistent
    GetItem: every schema.OWNER_FIELDS name and `service_sid`, the Messaging Service it is
    in (chalicelib.storage.service_senders), None where unset; or None when no account has
    registered the number."""
    item = client.get(schema.owner_key(phone_number))
    if item is None:
        return None
    return {name: item.get(name) for name in (*schema.OWNER_FIELDS, "service_sid")}


def update_number(current: dict, changes: dict) -> None:
    """Apply `changes` (None removes a field) to the number `current` was read as.

    The resource is written only at the revision that was read (its `revision` goes up by
    one), and the owner item gets the same changes to the fields it copies, in the same
    transaction; a change of no copied field is a single UpdateItem. Raises Stale when the
    number changed or went since it was read."""
    from botocore.exceptions import ClientError

    revision = current["revision"]
    key = schema.number_key(current["account_sid"], current["sid"])
    resource = _update(
        key,
        {**changes, "revision": revision + 1},
        "attribute_exists(pk) AND #rev = :rev",
        {"#rev": "revision"},
        {":rev": {"N": str(revision)}},
    )
    mirrored = {name: value for name, value in changes.items() if name in schema.OWNER_FIELDS}
    if not mirrored:
        try:
            client.call("update_item", **resource)
        except ClientError as error:
            if client.is_condition_failure(error):
                raise Stale(current["sid"]) from error
            raise
        return
    owner = _update(
        schema.owner_key(current["phone_number"]),
        mirrored,
        "attribute_exists(pk) AND #sid = :sid",
        {"#sid": "sid"},
        {":sid": {"S": current["sid"]}},
    )
    reasons = _run(_transaction({"Update": resource}, {"Update": owner}))
    if reasons is not None:
        # The resource moved on (another update, a delete); the owner item can only disagree
        # if the number was deleted and registered again meanwhile. Either way: read again.
        raise Stale(current["sid"])


def delete_number(current: dict) -> None:
    """Delete a number's resource and owner items together, and its link to a Messaging
    Service if it has one (chalicelib.storage.service_senders): one transaction, so a
    service never keeps a number that is gone. Missing when the number is gone."""
    sid = current["sid"]
    resource = {
        "TableName": client.table(),
        "Key": schema.number_key(current["account_sid"], sid),
        "ConditionExpression": "attribute_exists(pk)",
    }
    # An owner item that is not there is nothing to delete; one of another registration of
    # the number (deleted and registered again since the read) is not this number's. One
    # that is in a service is deleted only with its link: read which service, then again.
    owner = {
        "TableName": client.table(),
        "Key": schema.owner_key(current["phone_number"]),
        "ConditionExpression": "attribute_not_exists(pk) OR (#sid = :sid"
        " AND attribute_not_exists(service_sid))",
        "ExpressionAttributeNames": {"#sid": "sid"},
        "ExpressionAttributeValues": {":sid": {"S": sid}},
    }
    for _ in range(3):
        reasons = _run(_transaction({"Delete": resource}, {"Delete": owner}))
        if reasons is None:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise Missing(sid)
        found = client.get(schema.owner_key(current["phone_number"]))
        service_sid = (found or {}).get("service_sid")
        if found is None or found.get("sid") != sid or not service_sid:
            continue  # changed meanwhile: the plain delete again
        linked_owner = {
            **owner,
            "ConditionExpression": "#sid = :sid AND service_sid = :mg",
            "ExpressionAttributeValues": {":sid": {"S": sid}, ":mg": {"S": service_sid}},
        }
        link = {
            "TableName": client.table(),
            "Key": {
                "pk": {"S": f"{current['account_sid']}#{service_sid}"},
                "sk": {"S": NUMBER_SK_PREFIX + sid},
            },
        }
        request = _transaction({"Delete": resource}, {"Delete": linked_owner}, {"Delete": link})
        reasons = _run(request)
        if reasons is None:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise Missing(sid)
    raise Unavailable("the number kept moving between services")


def list_page(
    account_sid: str, low: str, high: str, descending: bool, limit: int
) -> tuple[list[tuple[str, dict]], str | None]:
    """Up to `limit` of the account's numbers with low <= lk <= high, in list order, as
    (lk, fields); and the lk of the last index entry read, or None when the range holds no
    more. One Query on the account's partition of the numbers index, then one BatchGetItem
    per 100 (eventually consistent, as the index is: a number deleted since is left out)."""
    segment = listing.Segment(schema.INDEX_NUMBERS, [account_sid], low, high)
    found = listing.page(account_sid, [segment], descending, limit, lambda fields: True)
    return found.rows, found.resume if found.more else None


# --- transactions ----------------------------------------------------------------------------


def _put(item: dict) -> dict:
    return {
        "TableName": client.table(),
        "Item": marshal.to_attrs(item),
        "ConditionExpression": "attribute_not_exists(pk)",
    }


def _update(key: dict, changes: dict, condition: str, names: dict, values: dict) -> dict:
    """An Update of `changes` (None: REMOVE) under `condition`."""
    expression = marshal.update_expression(changes, names, values)
    return {
        "TableName": client.table(),
        "Key": key,
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _transaction(*items: dict) -> dict:
    return {"TransactItems": list(items), "ClientRequestToken": str(uuid.uuid4())}


def _run(request: dict) -> list[str] | None:
    """Run a transaction: None when it committed, else the cancellation reason of each item
    (in order) when a condition refused it; conflicts are waited out (storage.client)."""
    reasons = client.transact(request, CONFLICT_WAIT_SECONDS)
    return None if reasons is None else [r.get("Code", "None") for r in reasons]
