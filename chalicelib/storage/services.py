"""Messaging Services: a service's partition holds the service and its senders.

    service         pk = AccountSid#MG…   sk = "service"       every field of the service
    number link     pk = AccountSid#MG…   sk = "number#PN…"    the number's E.164, country
    alpha sender    pk = AccountSid#MG…   sk = "alpha#AI…"     the alphanumeric sender ID

A service is listed through the IncomingPhoneNumbers' sparse index under another partition
value (`numbers_pk` = AccountSid + "|services"), so no new index is needed and the numbers
list never sees a service. Everything a send needs to choose a sender is one Query on the
service's partition (`pool`): the service's settings and every sender, at most 400 numbers
(Twilio's limit, 21714) and their links of ~150 bytes: one page of one call.

Fetch, update and delete are one call each on the service item; the caller's AccountSid is
in the key, so another account's Sid is simply not there. Updates are written only at the
revision that was read. A delete first marks the service `deleting` (from then on it answers
as missing and takes no new sender), then unlinks its senders (chalicelib.storage.
service_senders), then deletes the item: a delete that dies halfway is finished by the next.
"""

from chalicelib.storage import client, listing, marshal, schema
from chalicelib.storage.client import Exists

SERVICE_SK = "service"
NUMBER_SK_PREFIX = "number#"
ALPHA_SK_PREFIX = "alpha#"
# The numbers index's partition value that lists an account's services.
LIST_SUFFIX = "|services"


class Stale(Exception):
    """The service changed (or went) since it was read: read it again."""


def service_pk(account_sid: str, sid: str) -> str:
    return f"{account_sid}#{sid}"


def service_key(account_sid: str, sid: str) -> dict:
    return {"pk": {"S": service_pk(account_sid, sid)}, "sk": {"S": SERVICE_SK}}


def put_new_service(fields: dict) -> None:
    """Store a new service; Exists when its Sid is taken (a new Sid will do)."""
    item = {
        "pk": service_pk(fields["account_sid"], fields["sid"]),
        "sk": SERVICE_SK,
        **fields,
        schema.LIST_SORT_KEY: schema.list_key(fields["created_ms"], fields["sid"]),
        schema.LIST_INDEXES[schema.INDEX_NUMBERS]: fields["account_sid"] + LIST_SUFFIX,
    }
    if not client.put_new(item):
        raise Exists(fields["sid"])


def get_service(account_sid: str, sid: str) -> dict | None:
    """The service's fields (strongly consistent), or None (none, another account's)."""
    item = client.get(service_key(account_sid, sid))
    return schema.fields_of(item) if item is not None else None


def update_service(current: dict, changes: dict) -> None:
    """Apply `changes` (None removes a field) at the revision `current` was read at; Stale
    when the service changed, went, or is being deleted since."""
    from botocore.exceptions import ClientError

    names, values = {"#rev": "revision"}, {":rev": {"N": str(current["revision"])}}
    expression = marshal.update_expression(
        {**changes, "revision": current["revision"] + 1}, names, values
    )
    try:
        client.call(
            "update_item",
            Key=service_key(current["account_sid"], current["sid"]),
            UpdateExpression=expression,
            ConditionExpression=(
                "attribute_exists(pk) AND #rev = :rev AND attribute_not_exists(deleting)"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            raise Stale(current["sid"]) from error
        raise


def mark_deleting(account_sid: str, sid: str) -> bool:
    """Mark the service as being deleted; False when there is no such service."""
    from botocore.exceptions import ClientError

    try:
        client.call(
            "update_item",
            Key=service_key(account_sid, sid),
            UpdateExpression="SET deleting = :yes",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )
    except ClientError as error:
        if client.is_condition_failure(error):
            return False
        raise
    return True


def delete_service_item(account_sid: str, sid: str) -> None:
    """Delete the service item, once it is marked and its senders are unlinked."""
    client.call("delete_item", Key=service_key(account_sid, sid))


def list_page(
    account_sid: str, low: str, high: str, descending: bool, limit: int
) -> tuple[list[tuple[str, dict]], str | None]:
    """Up to `limit` of the account's services with low <= lk <= high (newest first when
    `descending`), as (lk, fields), a service being deleted left out; and the lk to read on
    from, or None when the range holds no more. One Query and one BatchGetItem per 100."""
    segment = listing.Segment(schema.INDEX_NUMBERS, [account_sid + LIST_SUFFIX], low, high)
    found = listing.page(
        account_sid, [segment], descending, limit, lambda fields: not fields.get("deleting")
    )
    return found.rows, found.resume if found.more else None


def pool(account_sid: str, sid: str) -> dict | None:
    """Everything in the service's partition, with one strongly consistent Query (paged
    only past 1 MB, which 400 senders do not reach): {"service": fields, "numbers": [link
    fields], "alphas": [alpha fields]}; None when there is no service (or it is going)."""
    request = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": service_pk(account_sid, sid)}},
        "ConsistentRead": True,
    }
    service, numbers, alphas = None, [], []
    while True:
        response = client.call("query", **request)
        for raw in response.get("Items", []):
            item = marshal.from_attrs(raw)
            sk = item.get("sk", "")
            if sk == SERVICE_SK:
                service = schema.fields_of(item)
            elif sk.startswith(NUMBER_SK_PREFIX):
                numbers.append(schema.fields_of(item))
            elif sk.startswith(ALPHA_SK_PREFIX):
                alphas.append(schema.fields_of(item))
        if not response.get("LastEvaluatedKey"):
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    if service is None or service.get("deleting"):
        return None
    return {"service": service, "numbers": numbers, "alphas": alphas}
