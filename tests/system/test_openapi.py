"""Herald's own OpenAPI 3 document (chalicelib/openapi.json) and `GET /openapi.json`.

The document must be valid OpenAPI 3, served without auth, and describe exactly the routes
app.py serves: every route and method is in it, and it has nothing app.py does not serve.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

import app as herald
from tests.oas import TWILIO_DOCUMENT, Document, errors_of, twilio_error_problems

DOCUMENT_PATH = Path(herald.__file__).parent / "chalicelib" / "openapi.json"
DOCUMENT = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
HERALD = Document(DOCUMENT)
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
LIST = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
INSTANCE = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"
# The catch-all routes answer unknown paths with 20404: one per depth, made only of {pN}.
CATCH_ALL = re.compile(r"^(/|(/\{p\d+\})+)$")
# Herald Inbox's page and its own data routes (chalicelib/web/inbox.py, docs/inbox.md) are
# no part of Twilio's API, so the document leaves them out.
INBOX = "/inbox"


def shape(path: str) -> str:
    """A path with each parameterised segment as `{}`.

    Chalice captures only whole segments, so app.py routes `/Messages/{sid_json}` where the
    document (like Twilio's) says `/Messages/{Sid}.json`: both become `/Messages/{}`.
    """
    return "/".join("{}" if "{" in segment else segment for segment in path.split("/"))


def app_routes() -> set[tuple[str, str]]:
    routes = set()
    for path, entries in herald.app.routes.items():
        if path == INBOX or path.startswith(INBOX + "/"):
            continue
        for method, entry in entries.items():
            if entry.view_name.startswith("unknown"):
                assert CATCH_ALL.match(path), f"{path} is named like a catch-all but is not one"
                continue
            # A resource's route takes every method and answers the ones it does not serve
            # with 405 (see test_unserved_methods_are_405_with_allow): those are not operations.
            if method.upper() not in herald.SERVED_METHODS.get(entry.view_name, (method.upper(),)):
                continue
            routes.add((shape(path), method.upper()))
    return routes


def document_routes() -> set[tuple[str, str]]:
    return {
        (shape(path), method.upper())
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3():
    assert DOCUMENT["openapi"].startswith("3.0.")
    validate(DOCUMENT, cls=OpenAPIV30SpecValidator)


def test_every_route_is_documented_and_every_documented_route_exists():
    routes, documented = app_routes(), document_routes()
    assert routes - documented == set(), "routes app.py serves that the document lacks"
    assert documented - routes == set(), "documented operations app.py does not serve"
    assert ("/2010-04-01/Accounts/{}/Messages/{}", "PUT") in routes
    assert ("/openapi.json", "GET") in routes


def test_the_route_check_sees_a_difference():
    assert shape("/a/{x}.json/b") == shape("/a/{y}/b") != shape("/a/{y}/c")
    extra = {("/2010-04-01/Accounts/{}/Messages/{}", "PATCH")}
    assert extra - document_routes() == extra


def test_every_path_parameter_is_declared():
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS & set(item):
            declared = [
                HERALD.resolve(p["$ref"]) if "$ref" in p else p
                for p in [*item.get("parameters", []), *item[method].get("parameters", [])]
            ]
            in_path = {p["name"] for p in declared if p["in"] == "path"}
            assert in_path == set(re.findall(r"\{(\w+)\}", path)), (method, path)


def test_basic_auth_everywhere_but_the_document_itself():
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes == {"accountSid_authToken": {**schemes["accountSid_authToken"]}}
    assert schemes["accountSid_authToken"]["type"] == "http"
    assert schemes["accountSid_authToken"]["scheme"] == "basic"
    assert DOCUMENT["security"] == [{"accountSid_authToken": []}]
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS & set(item):
            operation = item[method]
            if path == "/openapi.json":
                assert operation["security"] == []
            else:
                assert "security" not in operation  # inherits Basic
                assert "401" in operation["responses"]


def test_bodies_take_form_and_json():
    for path, method in [(LIST, "post"), (INSTANCE, "post"), (INSTANCE, "put")]:
        content = DOCUMENT["paths"][path][method]["requestBody"]["content"]
        assert set(content) == {"application/x-www-form-urlencoded", "application/json"}


def test_the_page_error_and_message_schemas_are_exact():
    page = HERALD.component("ListMessageResponse")
    assert page["additionalProperties"] is False
    assert set(page["required"]) == set(page["properties"]) == {
        "messages", "start", "end", "page", "page_size", "first_page_uri", "next_page_uri",
        "previous_page_uri", "uri",
    }  # fmt: skip
    message = HERALD.component("api.v2010.account.message")
    assert message["additionalProperties"] is False
    assert set(message["required"]) == set(message["properties"])
    error = HERALD.component("TwilioError")
    assert error["additionalProperties"] is False
    assert set(error["required"]) == {"code", "message", "more_info", "status"}
    assert set(error["properties"]) == {"code", "message", "more_info", "status", "detail"}


def test_every_error_response_is_twilio_error_json():
    for item in DOCUMENT["paths"].values():
        for method in METHODS & set(item):
            for status, response in item[method]["responses"].items():
                if int(status) >= 400:
                    schema = HERALD.response_schema_of(response)
                    assert schema == {"$ref": "#/components/schemas/TwilioError"}


def test_message_fields_match_twilio_schema():
    twilio = Document(json.loads(TWILIO_DOCUMENT.read_text(encoding="utf-8")))
    name = "api.v2010.account.message"
    assert HERALD.properties(HERALD.component(name)) == twilio.properties(twilio.component(name))


# --- served by the app ----------------------------------------------------------------------


def test_served_without_auth_as_json(chalice_client):
    for _ in range(2):  # the second answer comes from the cache
        response = chalice_client.http.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(response.body) == DOCUMENT


def test_served_whatever_the_request_content_type(chalice_client):
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic x"}
    response = chalice_client.http.get("/openapi.json", headers=headers)
    assert response.status_code == 200 and json.loads(response.body) == DOCUMENT


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/Messages.json", {"GET", "POST"}),
        ("/Messages/SM" + "0" * 32 + ".json", {"GET", "POST", "PUT", "DELETE"}),
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_unserved_methods_are_405_with_allow(chalice_client, path, allowed, method):
    if method in allowed:
        return
    account = "/2010-04-01/Accounts/AC" + "0" * 32
    response = chalice_client.http.request(method, account + path, body=b"")
    assert response.status_code == 405
    assert twilio_error_problems(json.loads(response.body), 405) == []
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_other_methods_on_the_document_are_405(chalice_client):
    response = chalice_client.http.request("POST", "/openapi.json", body=b"")
    assert response.status_code == 405
    assert twilio_error_problems(json.loads(response.body), 405) == []


# --- Herald's answers match its own document ------------------------------------------------


def check(response, path: str, method: str) -> dict:
    schema = HERALD.response_schema(path, method, response.status_code)
    body = json.loads(response.body)
    assert errors_of(HERALD.validator(schema), body) == []
    return body


def test_responses_match_the_document(api):
    send_at = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    plain = check(api.create(To="+14155550100", From="+15005550006", Body="hi"), LIST, "POST")
    scheduled = check(
        api.create(
            To="+14155550100",
            MessagingServiceSid="MG" + "a" * 32,
            MediaUrl="https://example.com/a.png",
            ScheduleType="fixed",
            SendAt=send_at,
        ),
        LIST,
        "POST",
    )
    check(api.fetch(plain["sid"]), INSTANCE, "GET")
    check(api.update(plain["sid"], Body=""), INSTANCE, "POST")
    check(api.update(scheduled["sid"], method="PUT", Status="canceled"), INSTANCE, "PUT")
    check(api.list("PageSize=1"), LIST, "GET")
    check(api.list("PageSize=1&Page=0&To=nobody"), LIST, "GET")
    check(api.update(plain["sid"], Status="canceled"), INSTANCE, "POST")  # 400, 30409
    check(api.fetch("SM" + "0" * 32), INSTANCE, "GET")  # 404
    check(api.request("GET", api.base + "/Messages.json", auth=False), LIST, "GET")  # 401
    assert api.delete(plain["sid"]).status_code == 204
    assert "204" in DOCUMENT["paths"][INSTANCE]["delete"]["responses"]


@pytest.mark.parametrize("status", ["400", "401", "404", "413", "415", "429", "503"])
def test_error_schema_accepts_herald_errors_and_refuses_others(status):
    validator = HERALD.validator(HERALD.component("TwilioError"))
    body = {
        "code": 20001,
        "message": "x",
        "more_info": "https://www.twilio.com/docs/errors/20001",
        "status": int(status),
    }
    assert errors_of(validator, body) == []
    assert errors_of(validator, {**body, "detail": "d"}) == []
    assert errors_of(validator, {**body, "type": "t"})
    assert errors_of(validator, {**body, "code": "20001"})
