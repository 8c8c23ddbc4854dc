"""The table's change stream, read as message changes (the dispatcher's input).

A DynamoDB Streams record (NEW_AND_OLD_IMAGES) of a message item becomes a Change with the
message's fields before and after; records of other items (accounts, idempotency records,
callback attempts) are not changes of a message and read as None.
"""

from dataclasses import dataclass

from chalicelib.storage import marshal, schema


@dataclass
class Change:
    account_sid: str
    sid: str
    old: dict | None
    new: dict | None


def message_change(record: dict) -> Change | None:
    data = record.get("dynamodb") or {}
    keys = data.get("Keys") or {}
    if keys.get("sk", {}).get("S") != schema.MESSAGE_SK:
        return None
    account_sid, sid = schema.split_message_pk(keys.get("pk", {}).get("S", ""))
    if not (account_sid and sid):
        return None

    def fields(image):
        # A stand-in (a deleted keyed message's, schema.STAND_IN) is no message: its
        # arrival reads as a removal, its expiry as nothing.
        item = marshal.from_attrs(image) if image else None
        return schema.fields_of(item) if item and not schema.is_stand_in(item) else None

    old, new = fields(data.get("OldImage")), fields(data.get("NewImage"))
    if old is None and new is None:
        return None
    return Change(account_sid, sid, old, new)
