"""OpenAPI 3.0 schemas as JSON Schema validators, and the shape of Twilio's error JSON.

OpenAPI 3.0's Schema Object is close to JSON Schema draft 4 but not the same. The difference
that matters here is `nullable`: it is not a JSON Schema keyword, so a plain validator would
ignore it and then refuse every null. `to_json_schema` translates it as OpenAPI 3.0.3 says:
`nullable: true` adds "null" to the `type` given in the same Schema Object, and does nothing
without one (so a `$ref`, whose siblings OpenAPI 3.0 ignores, never becomes nullable). An
`enum` keeps its values: a nullable enum accepts null only if it lists null.
"""

import re
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from chalicelib.twilio import addresses

# Schema keywords that hold one schema, a list of schemas, or a map of name -> schema.
_ONE = ("items", "not", "additionalProperties")
_LIST = ("allOf", "anyOf", "oneOf")
_MAP = ("properties",)
_ERROR_KEYS = {"code", "message", "more_info", "status"}
_URN = "urn:herald:openapi-document"

# Twilio's description of the Message resource, vendored (tests/contract/README.md).
TWILIO_DOCUMENT = Path(__file__).parent / "contract" / "twilio_api_v2010_messages.json"


def to_json_schema(schema):
    """An OpenAPI 3.0 Schema Object as an equivalent JSON Schema (draft 4) object."""
    if not isinstance(schema, dict):
        return schema  # `additionalProperties: false` and the like
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    out = {key: value for key, value in schema.items() if key != "nullable"}
    for key in _ONE:
        if key in schema:
            out[key] = to_json_schema(schema[key])
    for key in _LIST:
        if key in schema:
            out[key] = [to_json_schema(item) for item in schema[key]]
    for key in _MAP:
        if key in schema:
            out[key] = {name: to_json_schema(item) for name, item in schema[key].items()}
    if schema.get("nullable") is True and "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        out["type"] = [*types, "null"]
    return out


def _rfc2822_gmt(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return value.endswith(" +0000") and format_datetime(parsed) == value


def _uri(value) -> bool:
    """A URI or, as in every Twilio `*_uri` field, a path relative to the API's host."""
    if not isinstance(value, str):
        return True
    if not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if parts.scheme:
        return parts.scheme in ("http", "https") and bool(parts.netloc)
    return value.startswith("/")


def _phone_number(value) -> bool:
    if not isinstance(value, str):
        return True
    return addresses.normalize_address(value, allow_alphanumeric=True) == value


def _uri_map(value) -> bool:
    if not isinstance(value, dict):
        return True
    return all(isinstance(uri, str) and _uri(uri) for uri in value.values())


def _currency(value) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"[A-Za-z]{3}", value) is not None


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time-rfc-2822")(_rfc2822_gmt)
FORMATS.checks("uri")(_uri)
FORMATS.checks("uri-reference")(_uri)
FORMATS.checks("phone-number")(_phone_number)
FORMATS.checks("uri-map")(_uri_map)
FORMATS.checks("currency")(_currency)


class Document:
    """One OpenAPI 3.0 document; hands out validators for schemas inside it."""

    def __init__(self, document: dict):
        self.document = document
        schemas = document.get("components", {}).get("schemas", {})
        self._translated = {
            "components": {"schemas": {name: to_json_schema(s) for name, s in schemas.items()}}
        }

    def validator(self, schema: dict) -> Draft4Validator:
        """A validator for `schema` (an OpenAPI Schema Object taken from this document)."""
        contents = {**self._translated, "target": to_json_schema(schema)}
        registry = Registry().with_resource(_URN, Resource(contents, specification=DRAFT4))
        return Draft4Validator(
            {"$ref": f"{_URN}#/target"}, registry=registry, format_checker=FORMATS
        )

    def resource_validators(
        self, list_path: str, instance_path: str, component: str, name: str
    ) -> dict:
        """Validators of a v2010 resource's answers, by operation: create, fetch, update, a
        list's page, and the resource itself (under `name`)."""
        return {
            "create": self.validator(self.response_schema(list_path, "POST", 201)),
            "fetch": self.validator(self.response_schema(instance_path, "GET", 200)),
            "update": self.validator(self.response_schema(instance_path, "POST", 200)),
            "page": self.validator(self.response_schema(list_path, "GET", 200)),
            name: self.validator(self.component(component)),
        }

    def component(self, name: str) -> dict:
        return self.document["components"]["schemas"][name]

    def operation(self, path: str, method: str) -> dict:
        return self.document["paths"][path][method.lower()]

    def response_schema(self, path: str, method: str, status: int | str) -> dict:
        return self.response_schema_of(self.operation(path, method)["responses"][str(status)])

    def response_schema_of(self, response: dict) -> dict:
        """The JSON schema of a Response Object (or of a `$ref` to one)."""
        if "$ref" in response:
            response = self.resolve(response["$ref"])
        return response["content"]["application/json"]["schema"]

    def resolve(self, pointer: str) -> dict:
        node = self.document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def properties(self, schema: dict) -> set[str]:
        if "$ref" in schema:
            schema = self.resolve(schema["$ref"])
        return set(schema["properties"])


def errors_of(validator: Draft4Validator, instance) -> list[str]:
    """Every validation error, as `path: message` lines (empty when valid)."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    ]


def twilio_error_problems(body, status: int) -> list[str]:
    """What keeps `body` from being Twilio's error JSON for an HTTP `status` (empty if none).

    Exactly code, message, more_info and status, plus an optional detail: nothing else."""
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r:.200}"]
    problems = []
    keys = set(body)
    if missing := _ERROR_KEYS - keys:
        problems.append(f"missing {sorted(missing)}")
    if extra := keys - _ERROR_KEYS - {"detail"}:
        problems.append(f"extra {sorted(extra)}")
    code = body.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        problems.append(f"code is not an integer: {code!r}")
    if not isinstance(body.get("message"), str):
        problems.append(f"message is not a string: {body.get('message')!r}")
    if body.get("more_info") != f"https://www.twilio.com/docs/errors/{code}":
        problems.append(f"more_info does not name error {code}: {body.get('more_info')!r}")
    if body.get("status") != status or isinstance(body.get("status"), bool):
        problems.append(f"status {body.get('status')!r} is not the HTTP status {status}")
    if "detail" in body and not isinstance(body["detail"], str):
        problems.append(f"detail is not a string: {body['detail']!r}")
    return problems
