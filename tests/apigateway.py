"""API Gateway REST API (v1) Lambda proxy events, built the way API Gateway builds them.

Chalice's own test client and `chalice local` lowercase header names, never base64-encode a
form body and leave out most of the event; API Gateway does none of that. Here:

- `path` has no stage; `requestContext.path` has it (`/api/…`), `resource` and
  `requestContext.resourcePath` are the matched route template;
- header names keep the client's casing (lowercase from HTTP/2 clients), API Gateway adds
  its own (`Host`, `X-Forwarded-*`, `X-Amzn-Trace-Id`), `headers` holds the last value of
  each and `multiValueHeaders` all of them;
- the query string is decoded as a form (`%3E` → `>`, `%2B` → `+`, `+` → space) into
  `queryStringParameters` (last value) and `multiValueQueryStringParameters` (all), both
  null without a query;
- the body is text, or base64 with `isBase64Encoded` when its Content-Type is one of the
  API's binary media types (or the API lists `*/*`).
"""

import base64
import time
import uuid
from urllib.parse import parse_qsl, urlsplit

API_ID = "h3rald0api"
REGION = "us-east-1"
STAGE = "api"
HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
ACCOUNT_ID = "123456789012"
SOURCE_IP = "203.0.113.7"


class LambdaContext:
    """The attributes of the Lambda runtime's context object that a handler may read."""

    function_name = "herald-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:herald-dev"
    log_group_name = "/aws/lambda/herald-dev"
    log_stream_name = "2026/11/25/[$LATEST]0123456789abcdef"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def _path_parameters(resource: str, path: str) -> dict | None:
    names = resource.strip("/").split("/")
    values = path.strip("/").split("/")
    assert len(names) == len(values), f"{path} does not match {resource}"
    captured = {}
    for name, value in zip(names, values, strict=True):
        if name.startswith("{") and name.endswith("}"):
            captured[name[1:-1]] = value
        else:
            assert name == value, f"{path} does not match {resource}"
    return captured or None


def _query(raw: str) -> tuple[dict | None, dict | None]:
    if not raw:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def _headers(client_headers: list[tuple[str, str]]) -> tuple[dict, dict]:
    added = [
        ("Host", HOST),
        ("X-Amzn-Trace-Id", "Root=1-6744a1b2-0123456789abcdef01234567"),
        ("X-Forwarded-For", SOURCE_IP),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    multi: dict[str, list[str]] = {}
    for name, value in [*client_headers, *added]:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def rest_event(
    method: str,
    url: str,
    resource: str,
    headers: list[tuple[str, str]] = (),
    body: bytes | None = None,
    binary: bool = False,
) -> dict:
    """The event for `method url` (a path with its raw query string) matched to `resource`."""
    parts = urlsplit(url)
    single_headers, multi_headers = _headers(list(headers))
    query, multi_query = _query(parts.query)
    if body is None:
        event_body = None
    elif binary:
        event_body = base64.b64encode(body).decode("ascii")
    else:
        event_body = body.decode("utf-8")
    now = time.time()
    user_agent = single_headers.get("User-Agent") or single_headers.get("user-agent")
    return {
        "resource": resource,
        "path": parts.path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": _path_parameters(resource, parts.path),
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "BmXyZFe0IAMFvXw=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{STAGE}{parts.path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": SOURCE_IP,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": HOST,
            "deploymentId": "d3pl0y",
            "apiId": API_ID,
        },
        "body": event_body,
        "isBase64Encoded": binary and body is not None,
    }


def url_event(
    method: str,
    url: str,
    headers: list[tuple[str, str]] = (),
    body: bytes | None = None,
    binary: bool = False,
) -> dict:
    """The event a Lambda function URL (or an API Gateway HTTP API's `$default` route, with
    its own apiId and stage) sends for `method url`: payload format 2.0. Header names are
    lowercased and a repeated header's values joined with commas, cookies come apart, the
    path and query string are as the client sent them (undecoded), and no route is named."""
    parts = urlsplit(url)
    joined: dict[str, list[str]] = {}
    cookies = []
    for name, value in headers:
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";")]
            continue
        joined.setdefault(name.lower(), []).append(value)
    single = {name: ",".join(values) for name, values in joined.items()}
    single.update({"host": f"{API_ID}.lambda-url.{REGION}.on.aws", "x-forwarded-proto": "https",
                   "x-forwarded-for": SOURCE_IP, "x-forwarded-port": "443"})  # fmt: skip
    now = time.time()
    if body is None:
        event_body = None
    elif binary:
        event_body = base64.b64encode(body).decode("ascii")
    else:
        event_body = body.decode("utf-8")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": single,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": API_ID,
            "domainName": single["host"],
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": single.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": binary and body is not None,
    }
    if event_body is not None:
        event["body"] = event_body
    if cookies:
        event["cookies"] = cookies
    return event
