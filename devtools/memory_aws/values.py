"""DynamoDB's typed attribute values as the in-memory DynamoDB holds them: checked and copied
on the way in (so nothing a caller keeps can change a stored item), sized as DynamoDB sizes
them, copied on the way out, and turned into the orderable Python values keys sort by.

Stored items are never changed in place: a write stores a new dict, so an item (and every
value in it) may be shared by the table, its indexes and its stream records.
"""

import contextlib
import threading
from decimal import Decimal, InvalidOperation

from devtools.memory_aws.errors import validation

SCALARS = frozenset({"S", "N", "B", "BOOL", "NULL"})
SETS = frozenset({"SS", "NS", "BS"})
KEY_TYPES = frozenset({"S", "N", "B"})
MAX_ITEM_BYTES = 400 * 1024
# DynamoDB keeps 38 significant digits, from 1E-130 to 9.9999…E+125.
_NUMBER_DIGITS = 38


# Set on a thread while it answers a call whose answer is serialized before anyone sees it.
_serialized = threading.local()


@contextlib.contextmanager
def serialized():
    """Within it, this thread's answers are not copied: they are pickled (the door) or
    written as JSON (the HTTP side) before any caller holds them, which copies them anyway,
    and a stored item never changes in place. Copying first was a third of what a 50-message
    list page cost make run's embedded AWS."""
    was = getattr(_serialized, "on", False)
    _serialized.on = True
    try:
        yield
    finally:
        _serialized.on = was


def copy_item(item: dict) -> dict:
    """A copy the caller may change: stored values are shared, never handed out (but see
    `serialized`)."""
    if getattr(_serialized, "on", False):
        return item
    return {
        # A value holds one type: a string or a number (most of them) is a flat dict.
        name: value.copy() if "S" in value or "N" in value else copy_value(value)
        for name, value in item.items()
    }


def copy_value(value: dict) -> dict:
    ((kind, raw),) = value.items()
    if kind in SCALARS:
        return {kind: raw}
    if kind == "M":
        return {"M": {name: copy_value(inner) for name, inner in raw.items()}}
    if kind == "L":
        return {"L": [copy_value(inner) for inner in raw]}
    return {kind: list(raw)}


def take_item(item, operation: str) -> tuple[dict, int]:
    """A caller's item, checked and copied, and its size in bytes."""
    if not isinstance(item, dict):
        raise validation(operation, "Item must be a map of attribute names to values")
    taken, size = {}, 0
    for name, value in item.items():
        size += len(name) if name.isascii() else len(name.encode())
        # Strings first, inline: most of an item (the hot path of every put).
        if type(value) is dict and len(value) == 1 and type(raw := value.get("S")) is str:
            taken[name] = {"S": raw}
            size += len(raw) if raw.isascii() else len(raw.encode())
        else:
            taken[name], value_size = take_value(value, operation)
            size += value_size
    return taken, size


def take_values(values, operation: str) -> dict:
    """ExpressionAttributeValues, checked and copied (an update may store them)."""
    if values is None:
        return {}
    if not values:
        raise validation(operation, "ExpressionAttributeValues must not be empty")
    return {name: take_value(value, operation)[0] for name, value in values.items()}


def take_value(value, operation: str) -> tuple[dict, int]:
    """One attribute value, checked and copied, and its size."""
    if not isinstance(value, dict) or len(value) != 1:
        raise validation(
            operation, "Supplied AttributeValue is empty, must contain exactly one of the "
            "supported datatypes",
        )  # fmt: skip
    ((kind, raw),) = value.items()
    if kind == "S":
        if isinstance(raw, str):
            return {"S": raw}, len(raw) if raw.isascii() else len(raw.encode())
    elif kind == "N":
        if isinstance(raw, str):
            return {"N": raw}, number_size(raw, operation)
    elif kind == "B":
        blob = _bytes(raw)
        if blob is not None:
            return {"B": blob}, len(blob)
    elif kind == "BOOL":
        if isinstance(raw, bool):
            return {"BOOL": raw}, 1
    elif kind == "NULL":
        if raw is True:
            return {"NULL": True}, 1
    elif kind == "M":
        if isinstance(raw, dict):
            taken, size = {}, 3
            for name, inner in raw.items():
                taken[name], inner_size = take_value(inner, operation)
                size += len(name.encode()) + inner_size + 1
            return {"M": taken}, size
    elif kind == "L":
        if isinstance(raw, list | tuple):
            taken, size = [], 3
            for inner in raw:
                inner_value, inner_size = take_value(inner, operation)
                taken.append(inner_value)
                size += inner_size + 1
            return {"L": taken}, size
    elif kind in SETS:
        return _take_set(kind, raw, operation)
    raise validation(operation, f"Supplied AttributeValue has an invalid {kind} value")


def _take_set(kind: str, raw, operation: str) -> tuple[dict, int]:
    if not isinstance(raw, list | tuple | set) or not raw:
        raise validation(
            operation, "One or more parameter values were invalid: An string set  may not be empty"
        )
    members = list(raw)
    if kind == "BS":
        members = [_bytes(member) for member in members]
    if any(member is None or not isinstance(member, str | bytes) for member in members):
        raise validation(operation, f"Supplied AttributeValue has an invalid {kind} value")
    sizes = [
        number_size(member, operation) if kind == "NS" else len(member) for member in members
    ]  # fmt: skip
    unique = {Decimal(member) for member in members} if kind == "NS" else set(members)
    if len(unique) != len(members):
        raise validation(
            operation, "One or more parameter values were invalid: Input collection contains "
            "duplicates",
        )  # fmt: skip
    return {kind: members}, sum(sizes)


def _bytes(raw) -> bytes | None:
    # botocore sends a str given for a blob as its UTF-8 bytes.
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode()
    return None


def number_size(raw: str, operation: str) -> int:
    """A number's size: about one byte per two significant digits, plus one."""
    if raw.isdigit() and len(raw) < _NUMBER_DIGITS and (raw[0] != "0" or raw == "0"):
        return (len(raw.rstrip("0") or "0") + 1) // 2 + 1  # a plain integer: most numbers
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise validation(
            operation, "A value provided cannot be converted into a number"
        ) from None  # fmt: skip
    if not number.is_finite():
        raise validation(operation, "A value provided cannot be converted into a number")
    digits = number.as_tuple().digits
    significant = len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))
    if significant > _NUMBER_DIGITS:
        raise validation(
            operation, "Attempting to store more than 38 significant digits in a Number"
        )  # fmt: skip
    return (significant + 1) // 2 + 1


def attribute_size(name: str, value: dict) -> int:
    """The bytes one stored attribute adds to its item."""
    return len(name.encode()) + _stored_size(value)


def _stored_size(value: dict) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw) if raw.isascii() else len(raw.encode())
    if kind == "N":
        return number_size(raw, "")
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _stored_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(_stored_size(v) + 1 for v in raw)
    if kind == "NS":
        return sum(number_size(member, "") for member in raw)
    return sum(len(member) if isinstance(member, bytes) else len(member.encode()) for member in raw)


def item_size(item: dict) -> int:
    return sum(attribute_size(name, value) for name, value in item.items())


def check_size(size: int, operation: str) -> None:
    if size > MAX_ITEM_BYTES:
        raise validation(operation, "Item size has exceeded the maximum allowed size")


def key_value(typed: dict, kind: str):
    """The orderable value of a key attribute of type `kind` ("S", "N" or "B"): strings
    order by code point, which is the order of their UTF-8 bytes (DynamoDB's); numbers by
    value (so "1" and "1.0" are one key); binary bytewise."""
    raw = typed[kind]
    return Decimal(raw) if kind == "N" else raw
