"""A Messaging Service's senders, and the sticky sender of each of its recipients.

A number's link to a service is two writes in one transaction: the link item in the
service's partition (chalicelib.storage.services) and `service_sid` on the number's owner
item (chalicelib.storage.numbers), set only where it has none. So a number is in one
service at most however many adds race, and every link has its owner's `service_sid` and
the reverse: adding (ConditionCheck on the service, Put of the link, Update of the owner),
removing (Delete of the link, REMOVE of the owner's service_sid where it names this
service) and deleting the number itself (storage.numbers.delete_number takes the link with
it) each keep both sides together, with one TransactWriteItems.

    sticky sender   pk = "sticky#" + AccountSid#MG… + "#" + To    sk = "sticky"

The sticky sender of a (service, To) is its own partition: a service sending to a million
recipients spreads over a million keys. The first send to a To writes it only where none
exists (one conditional PutItem); a send racing it on another container is refused and is
handed the winner's choice with the refusal itself (ReturnValuesOnConditionCheckFailure),
so both send from the same number. A choice that is no longer in the pool is replaced only
where it is still the one that was read.
"""

import uuid

from chalicelib.runtime import clock
from chalicelib.storage import client, marshal, schema
from chalicelib.storage.services import (
    ALPHA_SK_PREFIX,
    NUMBER_SK_PREFIX,
    service_key,
    service_pk,
)

CONFLICT_WAIT_SECONDS = 3.0
STICKY_SK = "sticky"


class ServiceGone(Exception):
    """The service is not there (or is being deleted)."""


class AlreadyLinked(Exception):
    """The sender is in this service already."""


class InAnotherService(Exception):
    """The number is in another service (the owner's service_sid is that one)."""

    def __init__(self, service_sid: str | None):
        super().__init__(service_sid)
        self.service_sid = service_sid


class NumberGone(Exception):
    """The number was deleted (or changed hands) since it was read."""


def _key(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def link_key(account_sid: str, service_sid: str, number_sid: str) -> dict:
    return _key(service_pk(account_sid, service_sid), NUMBER_SK_PREFIX + number_sid)


def alpha_key(account_sid: str, service_sid: str, alpha_sid: str) -> dict:
    return _key(service_pk(account_sid, service_sid), ALPHA_SK_PREFIX + alpha_sid)


def _service_check(account_sid: str, service_sid: str) -> dict:
    return {
        "ConditionCheck": {
            "TableName": client.table(),
            "Key": service_key(account_sid, service_sid),
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(deleting)",
        }
    }


def _reasons(request: dict) -> list[str] | None:
    request["ClientRequestToken"] = str(uuid.uuid4())
    reasons = client.transact(request, CONFLICT_WAIT_SECONDS)
    return None if reasons is None else [r.get("Code", "None") for r in reasons]


def add_number(link: dict) -> None:
    """Link a number to a service: `link` has account_sid, service_sid, sid (the PN Sid),
    phone_number, country_code, created_ms. Raises ServiceGone, AlreadyLinked,
    InAnotherService or NumberGone."""
    account_sid, service_sid = link["account_sid"], link["service_sid"]
    key = link_key(account_sid, service_sid, link["sid"])
    item = {"pk": key["pk"]["S"], "sk": key["sk"]["S"], **link}
    owner = {
        "TableName": client.table(),
        "Key": schema.owner_key(link["phone_number"]),
        "UpdateExpression": "SET service_sid = :mg",
        "ConditionExpression": (
            "attribute_exists(pk) AND #sid = :pn AND account_sid = :ac"
            " AND attribute_not_exists(service_sid)"
        ),
        "ExpressionAttributeNames": {"#sid": "sid"},
        "ExpressionAttributeValues": {
            ":mg": {"S": service_sid},
            ":pn": {"S": link["sid"]},
            ":ac": {"S": account_sid},
        },
    }
    put = {
        "TableName": client.table(),
        "Item": marshal.to_attrs(item),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    request = {
        "TransactItems": [_service_check(account_sid, service_sid), {"Put": put}, {"Update": owner}]
    }
    reasons = _reasons(request)
    if reasons is None:
        return
    service, linked, _owner = reasons
    if service == "ConditionalCheckFailed":
        raise ServiceGone(service_sid)
    if linked == "ConditionalCheckFailed":
        raise AlreadyLinked(link["sid"])
    found = client.get(schema.owner_key(link["phone_number"]))
    if found is None or found.get("sid") != link["sid"]:
        raise NumberGone(link["sid"])
    if found.get("service_sid") == service_sid:
        raise AlreadyLinked(link["sid"])
    raise InAnotherService(found.get("service_sid"))


def remove_number(link: dict) -> bool:
    """Unlink a number from its service (link item and owner's service_sid together);
    False when the link is not there (removed, or its number deleted, meanwhile)."""
    account_sid, service_sid = link["account_sid"], link["service_sid"]
    delete = {
        "TableName": client.table(),
        "Key": link_key(account_sid, service_sid, link["sid"]),
        "ConditionExpression": "attribute_exists(pk)",
    }
    owner = {
        "TableName": client.table(),
        "Key": schema.owner_key(link["phone_number"]),
        "UpdateExpression": "REMOVE service_sid",
        "ConditionExpression": "service_sid = :mg",
        "ExpressionAttributeValues": {":mg": {"S": service_sid}},
    }
    return _reasons({"TransactItems": [{"Delete": delete}, {"Update": owner}]}) is None


def get_link(account_sid: str, service_sid: str, number_sid: str) -> dict | None:
    item = client.get(link_key(account_sid, service_sid, number_sid))
    return schema.fields_of(item) if item is not None else None


def account_alpha_key(account_sid: str, alpha_sender: str, service_sid: str) -> dict:
    """The account's record that it holds `alpha_sender` (in `service_sid`): what the
    registered-From check reads for an alphanumeric From (one Query, `holds_alpha`)."""
    return _key(f"alphasender#{account_sid}#{alpha_sender}", service_sid)


def put_alpha(alpha: dict) -> None:
    """Add an alphanumeric sender: its item in the service's partition and the account's
    record of it, in one transaction, only while the service is there."""
    key = alpha_key(alpha["account_sid"], alpha["service_sid"], alpha["sid"])
    put = {
        "TableName": client.table(),
        "Item": marshal.to_attrs({"pk": key["pk"]["S"], "sk": key["sk"]["S"], **alpha}),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    record = account_alpha_key(alpha["account_sid"], alpha["alpha_sender"], alpha["service_sid"])
    request = {
        "TransactItems": [
            _service_check(alpha["account_sid"], alpha["service_sid"]),
            {"Put": put},
            {"Put": {"TableName": client.table(), "Item": {**record, "sid": {"S": alpha["sid"]}}}},
        ]
    }
    reasons = _reasons(request)
    if reasons is None:
        return
    if reasons[0] == "ConditionalCheckFailed":
        raise ServiceGone(alpha["service_sid"])
    raise AlreadyLinked(alpha["sid"])


def get_alpha(account_sid: str, service_sid: str, alpha_sid: str) -> dict | None:
    item = client.get(alpha_key(account_sid, service_sid, alpha_sid))
    return schema.fields_of(item) if item is not None else None


def delete_alpha(alpha: dict) -> bool:
    """Remove an alphanumeric sender and the account's record of it; False when gone."""
    delete = {
        "TableName": client.table(),
        "Key": alpha_key(alpha["account_sid"], alpha["service_sid"], alpha["sid"]),
        "ConditionExpression": "attribute_exists(pk)",
    }
    record = {
        "TableName": client.table(),
        "Key": account_alpha_key(alpha["account_sid"], alpha["alpha_sender"], alpha["service_sid"]),
    }
    return _reasons({"TransactItems": [{"Delete": delete}, {"Delete": record}]}) is None


def holds_alpha(account_sid: str, alpha_sender: str) -> bool:
    """Whether any service of the account has `alpha_sender` (one Query, at most one item)."""
    response = client.call(
        "query",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"alphasender#{account_sid}#{alpha_sender}"}},
        Limit=1,
        ConsistentRead=True,
    )
    return bool(response.get("Items"))


def page(
    account_sid: str, service_sid: str, prefix: str, after: str | None, limit: int
) -> tuple[list[dict], bool]:
    """Up to `limit` senders of one kind (`prefix`: NUMBER_SK_PREFIX or ALPHA_SK_PREFIX) in
    Sid order after the sk `after`, and whether there are more. One Query."""
    values = {":pk": {"S": service_pk(account_sid, service_sid)}, ":p": {"S": prefix}}
    request = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": values,
        "Limit": limit + 1,
    }
    if after:
        request["ExclusiveStartKey"] = _key(service_pk(account_sid, service_sid), after)
    response = client.call("query", **request)
    items = [schema.fields_of(marshal.from_attrs(i)) for i in response.get("Items", [])]
    return items[:limit], len(items) > limit


def unlink_all(account_sid: str, service_sid: str) -> None:
    """Remove every sender of a service marked `deleting` (nothing new is linked to it)."""
    pk = service_pk(account_sid, service_sid)
    request = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
    }
    while True:
        response = client.call("query", **request)
        for raw in response.get("Items", []):
            item = marshal.from_attrs(raw)
            if item["sk"].startswith(NUMBER_SK_PREFIX):
                remove_number(schema.fields_of(item))
            elif item["sk"].startswith(ALPHA_SK_PREFIX):
                delete_alpha(schema.fields_of(item))
        if not response.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# --- sticky sender ---------------------------------------------------------------------------


def sticky_key(account_sid: str, service_sid: str, to: str) -> dict:
    return _key(f"sticky#{service_pk(account_sid, service_sid)}#{to}", STICKY_SK)


def get_sticky(account_sid: str, service_sid: str, to: str) -> str | None:
    """The From this service sends to `to` from, once chosen (one consistent GetItem)."""
    item = client.get(sticky_key(account_sid, service_sid, to))
    return item.get("from") if item else None


def claim_sticky(account_sid: str, service_sid: str, to: str, chosen: str, replaced: str | None):
    """Record `chosen` as the From for `to`, only where none is recorded (or where the one
    recorded is still `replaced`, a sender no longer in the pool). One conditional PutItem.
    Returns the From to send from: `chosen`, or the one a racing send recorded first."""
    from botocore.exceptions import ClientError

    key = sticky_key(account_sid, service_sid, to)
    item = {"pk": key["pk"]["S"], "sk": STICKY_SK, "from": chosen, "at_ms": clock.now_ms()}
    request = {
        "Item": marshal.to_attrs(item),
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if replaced:
        request["ConditionExpression"] = "attribute_not_exists(pk) OR #from = :old"
        request["ExpressionAttributeNames"] = {"#from": "from"}
        request["ExpressionAttributeValues"] = {":old": {"S": replaced}}
    try:
        client.call("put_item", **request)
    except ClientError as error:
        if not client.is_condition_failure(error):
            raise
        winner = client.refused_item(error, key)
        return (winner or {}).get("from") or chosen
    return chosen
