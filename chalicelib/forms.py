"""Request parameters, from a form body, a JSON object or a query string.

Every source becomes the same shape, `{name: [value, …]}`, so repeated keys
(`MediaUrl=a&MediaUrl=b`) and blank values (`Body=`, which means "redact") survive.
"""

import json
from urllib.parse import parse_qsl

from chalicelib import errors

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
    except (UnicodeDecodeError, ValueError) as error:
        raise errors.bad_parameter(f"Malformed form body: {error}") from None
    params: Params = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _parse_json(raw: bytes) -> Params:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # RecursionError: arrays or objects nested past the parser's depth limit.
        raise errors.bad_parameter(f"Malformed JSON body: {error}") from None
    if not isinstance(document, dict):
        raise errors.bad_parameter("A JSON body must be an object of parameters")
    params: Params = {}
    for name, value in document.items():
        if not _is_encodable(name):
            raise errors.bad_parameter("Parameter names must be valid UTF-8")
        values = value if isinstance(value, list) else [value]
        params[name] = [_scalar(name, v) for v in values]
    return params


def _scalar(name: str, value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not _is_encodable(value):
            raise errors.bad_parameter(f"Parameter {name} holds an unpaired surrogate")
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
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
