"""DynamoDB's typed attribute values, to and from plain Python values.

Herald stores strings, integers, booleans, binary, lists and maps only; None means "absent"
(an item never holds a NULL written by Herald).
"""


def attr(value) -> dict:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, list | tuple):
        return {"L": [attr(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: attr(v) for k, v in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__}")


def value(typed: dict):
    # Most values are strings and numbers: a lookup each, not the pair unpacked (a list
    # page turns some 2,000 values back).
    if "S" in typed:
        return typed["S"]
    if "N" in typed:
        return int(typed["N"])
    ((kind, raw),) = typed.items()
    if kind in ("BOOL", "B"):
        return raw
    if kind == "NULL":
        return None
    if kind == "L":
        return [value(v) for v in raw]
    if kind == "M":
        return {k: value(v) for k, v in raw.items()}
    raise TypeError(f"unexpected attribute type {kind}")


def to_attrs(item: dict) -> dict:
    return {k: attr(v) for k, v in item.items() if v is not None}


def from_attrs(attrs: dict) -> dict:
    return {k: value(v) for k, v in attrs.items()}


def update_expression(changes: dict, names: dict, values: dict) -> str:
    """The UpdateExpression that SETs each field of `changes` and REMOVEs those whose value
    is None; the fields' names and values are added to `names` and `values` (#f0, :v0, …)."""
    assignments, removals = [], []
    for index, (field, value) in enumerate(sorted(changes.items())):
        names[f"#f{index}"] = field
        if value is None:
            removals.append(f"#f{index}")
        else:
            values[f":v{index}"] = attr(value)
            assignments.append(f"#f{index} = :v{index}")
    clauses = [("SET", assignments), ("REMOVE", removals)]
    return " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts)
