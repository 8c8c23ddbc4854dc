"""The Lambda entry point, `app.app(event, context)`, called the way API Gateway calls it.

Every operation goes through a REST API (v1) proxy event as API Gateway delivers it (see
tests/apigateway.py): stage prefix in requestContext.path, the client's header casing,
form-decoded multi-value query strings and text or base64 bodies, on moto's DynamoDB.
"""

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from tests.apigateway import STAGE, LambdaContext, rest_event
from tests.conftest import basic, mark_sent

MESSAGES = "/2010-04-01/Accounts/{account_sid}/Messages.json"
MESSAGE = "/2010-04-01/Accounts/{account_sid}/Messages/{sid_json}"
TO = "+14155550100"
OTHER_TO = "+14155550101"
FROM = "+15005550006"
FORM = "application/x-www-form-urlencoded"


def sdk_headers(auth: str, form: bool = False) -> list[tuple[str, str]]:
    """What twilio-python (requests, HTTP/1.1) sends, in its casing."""
    headers = [
        ("User-Agent", "twilio-python/9.13.0 (Linux x86_64) Python/3.11.9"),
        ("X-Twilio-Client", "python-9.13.0"),
        ("Accept-Charset", "utf-8"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "application/json"),
        ("Authorization", auth),
    ]
    if form:
        headers.append(("Content-Type", FORM))
    return headers


class Caller:
    """One account's requests, as events, through the Lambda handler."""

    def __init__(self, account: dict):
        from app import app

        self.handler = app
        self.sid = account["account_sid"]
        self.auth = basic(account["account_sid"], account["auth_token"])
        self.base = f"/2010-04-01/Accounts/{self.sid}"

    def call(self, event: dict) -> dict:
        return self.handler(event, LambdaContext())

    def create(self, params, headers=(), binary=False) -> dict:
        body = urlencode(params, doseq=True).encode()
        event = rest_event(
            "POST",
            f"{self.base}/Messages.json",
            MESSAGES,
            [*sdk_headers(self.auth, form=True), *headers],
            body,
            binary=binary,
        )
        return self.call(event)

    def message(self, method: str, sid: str, params=None, headers=None) -> dict:
        body = None if params is None else urlencode(params).encode()
        headers = headers if headers is not None else sdk_headers(self.auth, form=body is not None)
        event = rest_event(method, f"{self.base}/Messages/{sid}.json", MESSAGE, headers, body)
        return self.call(event)

    def list(self, url: str) -> dict:
        return self.call(rest_event("GET", url, MESSAGES, sdk_headers(self.auth)))


@pytest.fixture
def caller(account):
    return Caller(account)


def json_body(response: dict, status: int) -> dict:
    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Content-Type"] == "application/json"
    assert not response.get("isBase64Encoded")
    assert response["multiValueHeaders"] == {}
    return json.loads(response["body"])


def twilio_error(response: dict, status: int, code: int) -> dict:
    error = json_body(response, status)
    assert {"code", "message", "more_info", "status"} <= set(error)
    assert (error["status"], error["code"]) == (status, code)
    assert error["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    return error


def created(caller: Caller, **params) -> dict:
    return json_body(caller.create({"To": TO, "From": FROM, "Body": "hi", **params}), 201)


# --- create -------------------------------------------------------------------------------


def test_create_from_a_text_form_body(caller):
    response = caller.create({"To": "+1 (415) 555-0100", "From": FROM, "Body": "Hello 👋"})
    message = json_body(response, 201)
    assert (message["to"], message["from"], message["body"]) == (TO, FROM, "Hello 👋")
    assert message["status"] == "queued"
    assert message["account_sid"] == caller.sid
    assert message["uri"] == f"{caller.base}/Messages/{message['sid']}.json"
    assert "Idempotent-Replayed" not in response["headers"]


def test_create_from_a_base64_form_body(caller):
    # API Gateway base64-encodes bodies whose type is a binary media type of the API (or
    # every body once `*/*` is one); the charset parameter must not matter either.
    response = caller.create(
        {"To": TO, "From": FROM, "Body": "é and ü", "MediaUrl": ["https://x.test/a.png"] * 2},
        headers=[("Content-Type", f"{FORM}; charset=utf-8")],
        binary=True,
    )
    message = json_body(response, 201)
    assert message["body"] == "é and ü"
    assert message["num_media"] == "2"


def test_create_with_lowercase_headers_from_an_http2_client(caller):
    headers = [("authorization", caller.auth), ("content-type", FORM), ("user-agent", "curl/8")]
    body = urlencode({"To": TO, "From": FROM, "Body": "h2"}).encode()
    event = rest_event("POST", f"{caller.base}/Messages.json", MESSAGES, headers, body)
    assert json_body(caller.call(event), 201)["body"] == "h2"


def test_create_from_a_json_body(caller):
    headers = [("Authorization", caller.auth), ("Content-Type", "application/json")]
    body = json.dumps({"To": TO, "From": FROM, "Body": "json"}).encode()
    event = rest_event("POST", f"{caller.base}/Messages.json", MESSAGES, headers, body)
    assert json_body(caller.call(event), 201)["body"] == "json"


def test_retried_create_replays_with_the_sdk_idempotency_header(caller):
    token = [("I-Twilio-Idempotency-Token", "retry-1")]
    params = {"To": TO, "From": FROM, "Body": "once"}
    first = caller.create(params, headers=token)
    again = caller.create(params, headers=token)
    assert json_body(again, 201) == json_body(first, 201)
    assert again["headers"]["Idempotent-Replayed"] == "true"


def test_create_refuses_a_bad_number_with_twilio_error(caller):
    twilio_error(caller.create({"To": "not a number", "From": FROM, "Body": "x"}), 400, 21211)


def test_wrong_credentials_are_401_with_a_basic_challenge(caller):
    caller.auth = basic(caller.sid, "0" * 32)
    response = caller.create({"To": TO, "From": FROM, "Body": "x"})
    twilio_error(response, 401, 20003)
    assert response["headers"]["WWW-Authenticate"].startswith("Basic")


# --- fetch, update, delete ----------------------------------------------------------------


def test_fetch_returns_what_create_returned(caller):
    message = created(caller)
    assert json_body(caller.message("GET", message["sid"]), 200) == message


def test_update_by_post_redacts_the_body(caller):
    message = created(caller)
    updated = json_body(caller.message("POST", message["sid"], {"Body": ""}), 200)
    assert updated["body"] == ""
    assert updated["sid"] == message["sid"]


def test_update_by_put_redacts_the_body(caller):
    message = created(caller)
    assert json_body(caller.message("PUT", message["sid"], {"Body": ""}), 200)["body"] == ""


def test_delete_is_204_with_an_empty_body_then_404(caller):
    message = created(caller)
    response = caller.message("DELETE", message["sid"])
    assert response["statusCode"] == 204
    assert response["body"] == ""
    twilio_error(caller.message("GET", message["sid"]), 404, 20404)


# --- list -----------------------------------------------------------------------------------


def day(offset: int) -> str:
    return (datetime.now(UTC) + timedelta(days=offset)).strftime("%Y-%m-%d")


def test_list_with_filters_and_a_next_page(caller):
    made = [created(caller, Body=f"m{n}")["sid"] for n in range(3)]
    for sid in made:
        mark_sent(caller.sid, sid)  # DateSent filters match sent messages only
    created(caller, To=OTHER_TO)
    # As twilio-python sends it: `+` as %2B, `>` and `<` of the filter names percent-encoded.
    query = f"To=%2B{TO[1:]}&DateSent%3E={day(-1)}&DateSent%3C={day(1)}&PageSize=2"
    first = caller.list(f"{caller.base}/Messages.json?{query}")
    page = json_body(first, 200)
    assert [m["sid"] for m in page["messages"]] == made[:0:-1]
    assert page["page_size"] == 2
    assert page["next_page_uri"].startswith(f"{caller.base}/Messages.json?")

    second = json_body(caller.list(page["next_page_uri"]), 200)
    assert [m["sid"] for m in second["messages"]] == made[:1]
    assert second["page"] == 1
    assert second["next_page_uri"] is None
    assert second["previous_page_uri"] is not None


def test_list_event_carries_decoded_filter_names(caller):
    # API Gateway hands the function decoded names: the handler sees `DateSent>`.
    event = rest_event("GET", f"{caller.base}/Messages.json?DateSent%3E=2024-01-01", MESSAGES)
    assert event["multiValueQueryStringParameters"] == {"DateSent>": ["2024-01-01"]}


def test_list_without_a_query_has_null_query_parameters(caller):
    created(caller)
    event = rest_event("GET", f"{caller.base}/Messages.json", MESSAGES, sdk_headers(caller.auth))
    assert event["multiValueQueryStringParameters"] is None
    assert len(json_body(caller.call(event), 200)["messages"]) == 1


def test_list_refuses_an_unknown_filter(caller):
    twilio_error(caller.list(f"{caller.base}/Messages.json?Colour=red"), 400, 20001)


# --- routing errors -------------------------------------------------------------------------


def test_unknown_route_is_twilio_404_naming_the_path_without_the_stage(caller):
    path = f"{caller.base}/Calls.json"
    event = rest_event("GET", path, "/{p0}/{p1}/{p2}/{p3}", sdk_headers(caller.auth))
    assert event["requestContext"]["path"] == f"/{STAGE}{path}"
    error = twilio_error(caller.call(event), 404, 20404)
    # Twilio's message names the resource path; API Gateway's stage (absent behind a
    # custom domain) is not part of it.
    assert error["message"] == f"The requested resource {path} was not found"


def test_a_sid_without_json_is_404_naming_the_path_without_the_stage(caller):
    path = f"{caller.base}/Messages/SM{'0' * 32}"
    event = rest_event("GET", path, MESSAGE, sdk_headers(caller.auth))
    error = twilio_error(caller.call(event), 404, 20404)
    assert error["message"] == f"The requested resource {path} was not found"


def test_wrong_method_is_twilio_405_with_allow(caller):
    # The resources' routes declare every method, so API Gateway passes a wrong one on to
    # the function, which answers Twilio's 405 (an undeclared method would never reach it).
    event = rest_event(
        "PATCH", f"{caller.base}/Messages.json", MESSAGES, sdk_headers(caller.auth, form=True), b""
    )
    response = caller.call(event)
    twilio_error(response, 405, 20004)
    assert set(response["headers"]["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_event_shape_is_what_api_gateway_sends(caller):
    body = urlencode({"Body": "x"}).encode()
    event = rest_event(
        "POST", f"{caller.base}/Messages.json", MESSAGES, sdk_headers("a", form=True), body, True
    )
    assert event["path"] == f"{caller.base}/Messages.json"
    assert event["requestContext"]["path"] == f"/{STAGE}{caller.base}/Messages.json"
    assert event["pathParameters"] == {"account_sid": caller.sid}
    assert event["headers"]["Content-Type"] == FORM
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["https"]
    assert base64.b64decode(event["body"]) == body and event["isBase64Encoded"] is True
    assert urlsplit(event["requestContext"]["path"]).path.startswith("/api/")
