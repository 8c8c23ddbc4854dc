"""The API behind a Lambda function URL or an API Gateway HTTP API: `app.front_door(event,
context)` with payload-2.0 events as AWS sends them (tests/apigateway.py's url_event), on
moto's DynamoDB.

What a user relies on must not change with the front door: each request below is answered
byte for byte as the REST API's event is answered by `app.app` (authentication, every error
and its JSON, the 404 the REST API's gateway gave for paths and methods no route declares,
the body limit), and the operations work as the SDKs send them.
"""

import json
from urllib.parse import urlencode

import pytest

import app as application
from chalicelib.twilio import forms
from chalicelib.web import front_door
from tests.apigateway import LambdaContext, rest_event, url_event
from tests.conftest import basic
from tests.web.test_lambda_events import FORM, FROM, MESSAGE, MESSAGES, TO, sdk_headers

CATCH_ALL = "/{p0}/{p1}/{p2}/{p3}"


def url(event: dict) -> dict:
    return application.front_door(event, LambdaContext())


def rest(event: dict) -> dict:
    return application.app(event, LambdaContext())


def same_answer(via_url: dict, via_rest: dict) -> None:
    """The function URL's answer is the REST API's, in payload 2.0's shape."""
    assert via_url["statusCode"] == via_rest["statusCode"]
    assert via_url["body"] == via_rest["body"]
    expected = dict(via_rest["headers"])
    for name, values in via_rest.get("multiValueHeaders", {}).items():
        expected[name] = ", ".join(values)
    assert via_url["headers"] == expected
    assert "multiValueHeaders" not in via_url


@pytest.fixture
def base(account) -> str:
    return f"/2010-04-01/Accounts/{account['account_sid']}"


@pytest.fixture
def auth(account) -> str:
    return basic(account["account_sid"], account["auth_token"])


def create(base: str, auth: str, **params) -> dict:
    body = urlencode({"To": TO, "From": FROM, "Body": "hi", **params}).encode()
    answer = url(url_event("POST", f"{base}/Messages.json", sdk_headers(auth, True), body))
    assert answer["statusCode"] == 201, answer["body"]
    return json.loads(answer["body"])


def test_every_operation_through_a_function_url(base, auth):
    made = create(base, auth)
    assert made["status"] == "queued" and made["to"] == TO
    fetched = url(url_event("GET", f"{base}/Messages/{made['sid']}.json", sdk_headers(auth)))
    assert json.loads(fetched["body"]) == made
    body = urlencode({"Body": ""}).encode()
    redacted = url(
        url_event("POST", f"{base}/Messages/{made['sid']}.json", sdk_headers(auth, True), body)
    )
    assert json.loads(redacted["body"])["body"] == ""
    second = create(base, auth, Body="second")
    query = f"To=%2B{TO[1:]}&PageSize=1"
    page = json.loads(
        url(url_event("GET", f"{base}/Messages.json?{query}", sdk_headers(auth)))["body"]
    )
    assert [m["sid"] for m in page["messages"]] == [second["sid"]]
    following = url(url_event("GET", page["next_page_uri"], sdk_headers(auth)))
    assert [m["sid"] for m in json.loads(following["body"])["messages"]] == [made["sid"]]
    deleted = url(url_event("DELETE", f"{base}/Messages/{made['sid']}.json", sdk_headers(auth)))
    assert (deleted["statusCode"], deleted["body"]) == (204, "")


def test_a_base64_body_a_json_body_and_an_idempotency_key(base, auth):
    body = urlencode(
        {"To": TO, "From": FROM, "Body": "é", "MediaUrl": ["https://x.test/a.png"]}, doseq=True
    )
    headers = [
        *sdk_headers(auth),
        ("Content-Type", f"{FORM}; charset=utf-8"),
        ("Idempotency-Key", "k"),
    ]
    first = url(url_event("POST", f"{base}/Messages.json", headers, body.encode(), binary=True))
    again = url(url_event("POST", f"{base}/Messages.json", headers, body.encode(), binary=True))
    assert first["statusCode"] == again["statusCode"] == 201
    assert (
        json.loads(first["body"])["body"] == "é"
        and again["headers"]["Idempotent-Replayed"] == "true"
    )
    as_json = [("authorization", auth), ("content-type", "application/json")]
    made = url(
        url_event(
            "POST",
            f"{base}/Messages.json",
            as_json,
            json.dumps({"To": TO, "From": FROM, "Body": "j"}).encode(),
        )
    )
    assert json.loads(made["body"])["body"] == "j"


@pytest.mark.parametrize(
    ("method", "path", "resource", "headers", "body"),
    [
        # Wrong credentials: 401 with the Basic challenge.
        ("GET", "/Messages.json", MESSAGES, "wrong", None),
        # A bad filter, a repeated parameter, an unknown one.
        ("GET", "/Messages.json?DateSent=yesterday", MESSAGES, "sdk", None),
        ("GET", "/Messages.json?PageSize=1&PageSize=2", MESSAGES, "sdk", None),
        ("GET", "/Messages.json?Colour=red", MESSAGES, "sdk", None),
        # A method the resource does not serve: 405 with Allow.
        ("PATCH", "/Messages.json", MESSAGES, "form", b""),
        # A missing message, a Sid without .json, an unknown resource.
        ("GET", f"/Messages/SM{'0' * 32}.json", MESSAGE, "sdk", None),
        ("GET", f"/Messages/SM{'0' * 32}", MESSAGE, "sdk", None),
        ("GET", "/Calls.json", CATCH_ALL, "sdk", None),
        # A body over Herald's limit, and an unsupported content type.
        ("POST", "/Messages.json", MESSAGES, "form", b"Body=" + b"x" * forms.MAX_BODY_BYTES),
        ("POST", "/Messages.json", MESSAGES, "xml", b"<Body/>"),
    ],
)
def test_an_answer_is_the_rest_apis_byte_for_byte(
    base, auth, account, method, path, resource, headers, body
):
    given = {
        "sdk": sdk_headers(auth),
        "form": sdk_headers(auth, form=True),
        "wrong": sdk_headers(basic(account["account_sid"], "0" * 32)),
        "xml": [("Authorization", auth), ("Content-Type", "application/xml")],
    }[headers]
    full = base + path
    via_rest = rest(rest_event(method, full, resource, given, body))
    via_url = url(url_event(method, full, given, body))
    assert via_rest["statusCode"] >= 400
    same_answer(via_url, via_rest)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("HEAD", "/Messages.json"),  # a method no route declares
        ("OPTIONS", "/Messages.json"),
        ("GET", "/a/b/c/d/e/f/g/h/i/j"),  # deeper than the catch-alls' nine segments
    ],
)
def test_what_the_rest_apis_gateway_answered_is_answered_the_same(base, auth, method, path):
    """These never reached the function behind the REST API: its gateway answered 404 /
    20404 (deploy/gateway_errors.py). Behind a function URL the function answers it."""
    full = path if path.startswith("/a/") else base + path
    answer = url(url_event(method, full, sdk_headers(auth)))
    assert answer["statusCode"] == 404
    error = json.loads(answer["body"])
    assert (error["code"], error["status"]) == (20404, 404)
    assert answer["headers"]["Content-Type"] == "application/json"


def test_a_rest_api_event_is_served_as_it_is(base, auth):
    event = rest_event("GET", f"{base}/Messages.json", MESSAGES, sdk_headers(auth))
    assert url(event) == rest(event)


def test_the_inbox_and_openapi_are_served_with_their_types():
    document = url(url_event("GET", "/openapi.json"))
    assert document["statusCode"] == 200 and json.loads(document["body"])["openapi"]
    page = url(url_event("GET", "/inbox/"))
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        (
            "/2010-04-01/Accounts/AC1/Messages.json",
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
        ),
        (
            "/2010-04-01/Accounts/AC1/Messages/SM1.json",
            "/2010-04-01/Accounts/{account_sid}/Messages/{sid_json}",
        ),
        (
            "/2010-04-01/Accounts/AC1/Messages.json/",
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
        ),
        ("/2010-04-01/Accounts/AC1/Calls.json", CATCH_ALL),
        ("/openapi.json", "/openapi.json"),
        ("/", "/"),
    ],
)
def test_routes_are_matched_as_api_gateway_matches_them(path, resource):
    """A literal segment wins over a parameter, segment by segment, as API Gateway chooses."""
    found = front_door.match(tuple(application.app.routes), path)
    assert found is not None and found[0] == resource


def test_path_parameters_are_decoded():
    found = front_door.match(
        tuple(application.app.routes), "/2010-04-01/Accounts/AC%31/Messages.json"
    )
    assert found[1] == {"account_sid": "AC1"}


def test_a_cookie_header_and_repeated_headers_reach_the_app_as_one_value_each():
    event = url_event(
        "GET", "/openapi.json", [("Cookie", "a=1; b=2"), ("X-Seen", "1"), ("X-Seen", "2")]
    )
    converted = front_door.rest_event(event, tuple(application.app.routes))
    assert converted["headers"]["cookie"] == "a=1; b=2"
    assert converted["headers"]["x-seen"] == "1,2"
