"""Request parameters, from a form body, a JSON object or a query string, and the rules every
resource reads them by: one value per single-valued name, integers within their range.

Every source becomes the same shape, `{name: [value, …]}`, so repeated keys
(`MediaUrl=a&MediaUrl=b`) and blank values (`Body=`, which means "redact") survive.
"""

import json
from urllib.parse import parse_qsl

from chalicelib.twilio import errors

Params = dict[str, list[str]]

MAX_BODY_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def parse_body(raw: bytes | None, content_type: str | None) -> Params:
    raw = raw or b""
    if len(raw) > MAX_BODY_BYTES:
        raise errors.payload_too_large(MAX_BODY_BYTES)
    kind = media_type(content_type)
    if kind == JSON:
        return _parse_json(raw) if raw.strip() else {}
    if kind in (FORM, ""):
        return parse_form(raw)
    raise errors.unsupported_media_type(kind)


def parse_form(raw: bytes) -> Params:
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=200)
    except UnicodeDecodeError:
        raise errors.bad_parameter("Malformed form body: it is not UTF-8") from None
    except ValueError:  # more than max_num_fields fields
        raise errors.bad_parameter("Malformed form body: more than 200 fields") from None
    return _collect(pairs)


def _collect(pairs) -> Params:
    """One rule for every source: a name given again adds its values to the first's (a
    single-valued parameter given twice is then refused by `single`), never replaces them."""
    params: Params = {}
    for name, values in pairs:
        params.setdefault(name, []).extend(values if isinstance(values, list) else [values])
    return params


class _Object(tuple):
    """A JSON object as its (name, value) pairs in order, repeated names kept: json's own
    dict would keep only a repeated name's last value, where a form keeps them all."""


def _parse_json(raw: bytes) -> Params:
    # Numbers stay the text they were written as: never converted, so never rewritten
    # (1.50 stays 1.50) and never refused by Python's own limits (a 5,000-digit integer
    # reaches the parameter's check, which answers as for a form). NaN and Infinity are
    # not JSON.
    try:
        document = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_Object,
            parse_int=str,
            parse_float=str,
            parse_constant=_not_json,
        )
    except UnicodeDecodeError:
        raise errors.bad_parameter("Malformed JSON body: it is not UTF-8") from None
    except json.JSONDecodeError as error:
        # Only where: the parser's own wording is Python's, not the API's.
        where = f"line {error.lineno} column {error.colno}"
        raise errors.bad_parameter(f"Malformed JSON body at {where}") from None
    except (ValueError, RecursionError):
        # RecursionError: arrays or objects nested past the parser's depth limit.
        raise errors.bad_parameter("Malformed JSON body") from None
    if not isinstance(document, _Object):
        raise errors.bad_parameter("A JSON body must be an object of parameters")
    pairs = []
    for name, value in document:
        if not _is_encodable(name):
            raise errors.bad_parameter("Parameter names must be valid UTF-8")
        values = value if isinstance(value, list) else [value]
        pairs.append((name, [_scalar(name, v) for v in values]))
    return _collect(pairs)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _scalar(name: str, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # numbers too, as written
        if not _is_encodable(value):
            raise errors.bad_parameter(f"Parameter {name} holds an unpaired surrogate")
        return value
    raise errors.bad_parameter(f"Parameter {name} must be a string, number or boolean")


def _is_encodable(text: str) -> bool:
    """JSON's \\ud800 escapes make strings that have no UTF-8 form and cannot be stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def from_multidict(multidict) -> Params:
    """Chalice's query MultiDict (or None) as Params."""
    if not multidict:
        return {}
    return {name: list(multidict.getlist(name)) for name in multidict}


def reject_unknown(params: Params, known: frozenset[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise errors.bad_parameter(f"Unknown parameter: {', '.join(unknown)}")


def single(params: Params, name: str) -> str | None:
    """The one value of a parameter; repeating a single-valued parameter is an error."""
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise errors.bad_parameter(f"Parameter {name} may be given only once")
    return values[0]


def is_decimal(text: str) -> bool:
    # str.isdigit() alone admits '²' and other digits int() refuses.
    return text.isascii() and text.isdigit()


def in_range(value: str | None, low: int, high: int) -> bool:
    """Whether `value` is decimal digits for an integer from `low` (>= 0) to `high`. Too
    many digits are refused by their count before int() sees them: Python will not convert
    more than 4,300 (a 5,000-digit PageSize was a 500)."""
    return (
        value is not None
        and is_decimal(value)
        and len(value.lstrip("0")) <= len(str(high))
        and low <= int(value) <= high
    )


def integer(params: Params, name: str, default: int, low: int, high: int) -> int:
    value = single(params, name)
    if value is None or value == "":
        return default
    if not in_range(value, low, high):
        raise errors.bad_parameter(f"{name} must be an integer from {low} to {high}")
    return int(value)
