"""The API behind an API Gateway HTTP API or a Lambda function URL (docs/deploy.md, "Front
door"): their events (payload format 2.0) in the shape of the REST API's (1.0), which Chalice
routes by, and Chalice's answer in theirs.

A REST API matches each request to a route itself and says which in the event
(`requestContext.resourcePath`); an HTTP API's `$default` route and a function URL pass every
request as it came. So the route is matched here, as API Gateway matches it: segment by
segment, a literal segment before a parameter, a trailing slash ignored. What the REST API
answered itself without calling the function (deploy/gateway_errors.py), the function answers
here the same way: a path no route takes (deeper than the catch-alls' nine segments) or a
method none declares (HEAD, OPTIONS) is Twilio's 404 / 20404.

The rest is the same code and the same answers: Chalice's routes, Herald's middleware and
errors, its own authentication (neither front door authenticates: AuthType NONE, no
authorizer), its body limit, its request line.
"""

import functools
from urllib.parse import parse_qsl, unquote

from chalicelib.twilio import errors
from chalicelib.web import http
from chalicelib.web.routing import EVERY_METHOD


@functools.cache
def _routes(paths: tuple[str, ...]) -> dict[int, list[tuple[tuple[bool, ...], list[str]]]]:
    """Route templates by segment count, each with which of its segments are literal."""
    by_length: dict[int, list] = {}
    for path in paths:
        parts = path.split("/")
        literal = tuple(not (p.startswith("{") and p.endswith("}")) for p in parts)
        by_length.setdefault(len(parts), []).append((literal, parts))
    return by_length


def match(paths: tuple[str, ...], raw_path: str) -> tuple[str, dict | None] | None:
    """(route template, path parameters) for `raw_path`, or None when no route takes it.
    Of the routes that take it, the one whose first differing segment is literal wins (as
    API Gateway chooses `/Messages.json` over `/{p0}` and `/{p0}/{p1}`)."""
    path = raw_path if raw_path == "/" else raw_path.rstrip("/") or "/"
    parts = path.split("/")
    best = None
    for literal, route in _routes(paths).get(len(parts), []):
        if all(
            (p == r) if is_literal else bool(p)
            for p, r, is_literal in zip(parts, route, literal, strict=True)
        ) and (best is None or literal > best[0]):
            best = (literal, route)
    if best is None:
        return None
    literal, route = best
    captured = {
        r[1:-1]: unquote(p)
        for p, r, is_literal in zip(parts, route, literal, strict=True)
        if not is_literal
    }
    return "/".join(route), captured or None


def rest_event(event: dict, paths: tuple[str, ...]) -> dict | None:
    """The REST API's event for a payload-2.0 event, or None when no route takes it."""
    http = event["requestContext"]["http"]
    method, raw_path = http["method"], event.get("rawPath") or http.get("path") or "/"
    found = match(paths, raw_path)
    if found is None or method not in EVERY_METHOD:
        return None
    resource, parameters = found
    headers = dict(event.get("headers") or {})
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    query, multi_query = None, None
    if event.get("rawQueryString"):
        multi_query = {}
        for name, value in parse_qsl(event["rawQueryString"], keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        query = {name: values[-1] for name, values in multi_query.items()}
    context = event["requestContext"]
    return {
        "resource": resource,
        "path": raw_path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": parameters,
        "stageVariables": event.get("stageVariables"),
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": raw_path,
            "requestId": context.get("requestId"),
            "stage": context.get("stage", "$default"),
            "apiId": context.get("apiId"),
            "domainName": context.get("domainName"),
            "identity": {"sourceIp": http.get("sourceIp"), "userAgent": http.get("userAgent")},
        },
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }


def answer(response: dict) -> dict:
    """Chalice's answer in payload 2.0's shape: one value a header (a repeated one joined
    with commas, as HTTP allows)."""
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(str(v) for v in values)
    shaped = {"statusCode": response["statusCode"], "headers": headers, "body": response["body"]}
    if response.get("isBase64Encoded"):
        shaped["isBase64Encoded"] = True
    return shaped


def not_found(raw_path: str) -> dict:
    return answer(http.error_response(errors.not_found(raw_path)).to_dict())


def handle(app, event: dict, context) -> dict:
    """Serve a payload-2.0 event (an HTTP API's or a function URL's) with the Chalice `app`;
    a REST API event (it has a resourcePath) is served as it is."""
    if event.get("version") != "2.0":
        return app(event, context)
    converted = rest_event(event, tuple(app.routes))
    if converted is None:
        return not_found(event.get("rawPath") or "/")
    return answer(app(converted, context))
