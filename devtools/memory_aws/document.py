"""Typed attribute values as DynamoDB compares, measures and projects them, and document paths
read from items as the wire holds them ({"pk": {"S": "…"}, "m": {"M": {…}}, "l": {"L": […]}}).

Numbers compare as decimals, strings by code point (the order of their UTF-8 bytes), binary
bytewise; values of different types, or a missing one, are neither equal nor ordered (so `<>`
holds for them, but not for two missing ones); a set equals a set of the same elements in any
order; a map or list equals one that holds equal values.
"""

import decimal
from collections.abc import Callable
from decimal import Decimal

from devtools.memory_aws.expression_parser import ValidationError

_NOTHING: dict = {}
_MATH = decimal.Context(prec=38, traps=[decimal.Inexact, decimal.InvalidOperation])


def type_of(value: dict) -> str:
    for type_ in value:
        return type_
    return ""


def raw_of(value: dict):
    for raw in value.values():
        return raw
    return None


# --- paths -----------------------------------------------------------------------------------


def path_text(path: tuple) -> str:
    """A path as DynamoDB's messages write it: [a, b, [0]]."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


def resolver(names: dict) -> Callable[[tuple], tuple]:
    """A path with its "#name" placeholders replaced by the names they stand for."""
    return lambda path: tuple(names.get(p, p) if isinstance(p, str) else p for p in path)


def at(item: dict, path: tuple) -> dict | None:
    """The typed value at `path` in `item`, or None."""
    value = item.get(path[0])
    for key in path[1:]:
        if value is None:
            return None
        if isinstance(key, str):
            value = value.get("M", _NOTHING).get(key)
        else:
            elements = value.get("L")
            value = elements[key] if elements is not None and key < len(elements) else None
    return value


def getter(path: tuple) -> Callable:
    """A function (item, values) -> the typed value at `path`, or None."""
    if len(path) == 1:
        name = path[0]
        return lambda item, values: item.get(name)
    return lambda item, values: at(item, path)


def check_paths(kind: str, paths: list) -> None:
    """DynamoDB's refusal of two paths where one is the other or inside it (overlap), or
    where they differ in kind (a map key and a list index) at the same depth (conflict)."""
    for index, second in enumerate(paths):
        for first in paths[:index]:
            problem = "overlap"
            for a, b in zip(first, second, strict=False):
                if isinstance(a, int) != isinstance(b, int):
                    problem = "conflict"
                    break
                if a != b:
                    problem = None
                    break
            if problem:
                raise ValidationError(
                    f"Invalid {kind}: Two document paths {problem} with each other; must remove"
                    f" or rewrite one of these paths; path one: {path_text(first)}, path two: "
                    + path_text(second)
                )


def project(item: dict, paths: list) -> dict:
    """The parts of `item` at `paths` (resolved): nested ones inside their maps and lists,
    a list's elements in their order, the missing ones left out. Shares, never copies, the
    values it answers."""
    if all(len(path) == 1 for path in paths):
        return {path[0]: item[path[0]] for path in paths if path[0] in item}
    result: dict = {}
    lists = []  # the lists made here, built as {index: element} until the end
    for path in paths:
        value = at(item, path)
        if value is None:
            continue
        container = result
        for depth, key in enumerate(path[:-1]):
            kind = "L" if isinstance(path[depth + 1], int) else "M"
            if key not in container:
                container[key] = {kind: {}}
                if kind == "L":
                    lists.append(container[key])
            container = container[key][kind]
        container[path[-1]] = value
    for made in lists:
        made["L"] = [element for _, element in sorted(made["L"].items())]
    return result


# --- comparisons -----------------------------------------------------------------------------


def equal(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return False
    if a == b:
        return True
    ((ta, va),) = a.items()
    ((tb, vb),) = b.items()
    if ta != tb:
        return False
    if ta == "N":
        return Decimal(va) == Decimal(vb)
    if ta in ("SS", "BS"):
        return set(va) == set(vb)
    if ta == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if ta == "L":
        return len(va) == len(vb) and all(map(equal, va, vb))
    if ta == "M":
        return va.keys() == vb.keys() and all(equal(v, vb[k]) for k, v in va.items())
    return False


def ordered(a: dict | None, b: dict | None) -> tuple | None:
    """(a, b) as Python values that order as DynamoDB orders them; None when they do not
    order (a missing one, different types, a type without an order)."""
    if a is None or b is None:
        return None
    ((ta, va),) = a.items()
    ((tb, vb),) = b.items()
    if ta != tb:
        return None
    if ta == "N":
        return Decimal(va), Decimal(vb)
    if ta == "S" or ta == "B":
        return va, vb
    return None


def less(a, b) -> bool:
    pair = ordered(a, b)
    return pair is not None and pair[0] < pair[1]


def not_equal(a, b) -> bool:
    if a is None:
        return b is not None
    return b is None or not equal(a, b)


def between(x, low, high) -> bool:
    pairs = ordered(x, low), ordered(x, high)
    return None not in pairs and not (pairs[0][0] < pairs[0][1] or pairs[1][1] < pairs[1][0])


COMPARE = {
    "=": equal,
    "<>": not_equal,
    "<": less,
    ">": lambda a, b: less(b, a),
    "<=": lambda a, b: ordered(a, b) is not None and not less(b, a),
    ">=": lambda a, b: ordered(a, b) is not None and not less(a, b),
}


def begins_with(a, b) -> bool:
    pair = ordered(a, b)
    return pair is not None and isinstance(pair[0], str | bytes) and pair[0].startswith(pair[1])


def contains(haystack, needle) -> bool:
    if haystack is None or needle is None:
        return False
    ((th, vh),) = haystack.items()
    ((tn, vn),) = needle.items()
    if th in ("S", "B", "SS", "BS"):  # a substring, a byte subsequence, an element
        return tn == th[0] and vn in vh
    if th == "NS":
        return tn == "N" and any(Decimal(x) == Decimal(vn) for x in vh)
    if th == "L":
        return any(equal(element, needle) for element in vh)
    return False


def size(value) -> dict | None:
    """size(): a string's characters, a binary's bytes, a set's, list's or map's elements."""
    if value is None:
        return None
    ((type_, raw),) = value.items()
    return None if type_ in ("N", "BOOL", "NULL") else {"N": str(len(raw))}


# --- numbers ---------------------------------------------------------------------------------


def number(compute: Callable, *operands: str) -> dict:
    """{"N": …} for compute(*operands as decimals), with 38 significant digits at most and
    normalized ("3", not "3.0"), as DynamoDB stores numbers."""
    try:
        value = compute(*(Decimal(operand) for operand in operands)).normalize(_MATH)
    except decimal.Inexact:
        raise ValidationError(
            "Attempting to store more than 38 significant digits in a Number"
        ) from None
    if value.adjusted() > 125:
        raise ValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than"
            " supported range"
        )
    return {"N": "0" if value.is_zero() else format(value, "f")}


def add(a: str, b: str) -> dict:
    return number(_MATH.add, a, b)


def subtract(a: str, b: str) -> dict:
    return number(_MATH.subtract, a, b)
