"""Every Message response Herald produces, validated against Twilio's own OpenAPI document.

`tests/contract/twilio_api_v2010_messages.json` (Twilio's, vendored) is the contract: each
response is checked against the schema of the operation that produced it (with OpenAPI
3.0's `nullable` translated, see tests/oas.py), must carry every property Twilio's Message
schema lists and no other, and every error must be exactly Twilio's error JSON.
"""

import copy
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.oas import TWILIO_DOCUMENT, Document, errors_of, twilio_error_problems
from tests.services.helpers import make_service, service_of

LIST = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
INSTANCE = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"
MESSAGE = "api.v2010.account.message"
TO = "+14155550100"
FROM = "+15005550006"

TWILIO = Document(json.loads(TWILIO_DOCUMENT.read_text(encoding="utf-8")))
MESSAGE_PROPERTIES = TWILIO.properties(TWILIO.component(MESSAGE))
PAGE_SCHEMA = TWILIO.response_schema(LIST, "GET", 200)
PAGE_PROPERTIES = TWILIO.properties(PAGE_SCHEMA)
VALIDATORS = TWILIO.resource_validators(LIST, INSTANCE, MESSAGE, "message")


def json_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


def assert_message(message: dict, operation: str) -> None:
    """`message` conforms to Twilio's Message schema for `operation`: types and keys."""
    assert errors_of(VALIDATORS[operation], message) == []
    assert set(message) - MESSAGE_PROPERTIES == set(), "properties Twilio's schema lacks"
    assert MESSAGE_PROPERTIES - set(message) == set(), "properties of Twilio's schema missing"


def assert_page(page: dict, count: int) -> None:
    assert errors_of(VALIDATORS["page"], page) == []
    assert set(page) == PAGE_PROPERTIES, "a page has exactly the keys of Twilio's schema"
    assert len(page["messages"]) == count
    for message in page["messages"]:
        assert_message(message, "message")


def scheduling(api) -> dict:
    """The parameters that schedule a message two hours ahead, through a Messaging Service
    (scheduling asks for one, 35118)."""
    send_at = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "ScheduleType": "fixed",
        "SendAt": send_at,
        "MessagingServiceSid": service_of(api.account_sid),
    }


def created(api, operation: str = "create", **params) -> dict:
    response = api.create(**{"To": TO, **params})
    assert response.status_code == 201, response.body
    message = json_of(response)
    assert_message(message, operation)
    return message


# --- the schema and the checks themselves ---------------------------------------------------


def test_the_document_is_twilio_messages_and_has_the_schemas_we_check():
    assert TWILIO.document["openapi"].startswith("3.0.")
    assert {"sid", "status", "num_segments", "error_code", "date_sent"} <= MESSAGE_PROPERTIES
    assert {
        "messages", "start", "end", "page", "page_size", "first_page_uri", "next_page_uri",
        "previous_page_uri", "uri",
    } == PAGE_PROPERTIES  # fmt: skip


def example_message() -> dict:
    examples = TWILIO.operation(LIST, "POST")["responses"]["201"]["content"]["application/json"]
    message = copy.deepcopy(examples["examples"]["create"]["value"])
    message["subresource_uris"]["feedback"] = message["subresource_uris"]["media"]
    return message


def test_twilio_own_example_passes_so_the_validator_is_not_too_strict():
    assert errors_of(VALIDATORS["message"], example_message()) == []


@pytest.mark.parametrize(
    "field", ["body", "from", "price", "price_unit", "date_sent", "error_code", "sid", "uri"]
)
def test_a_nullable_field_accepts_null(field):
    assert TWILIO.component(MESSAGE)["properties"][field]["nullable"] is True
    assert errors_of(VALIDATORS["message"], {**example_message(), field: None}) == []


@pytest.mark.parametrize("field", ["status", "direction"])
def test_a_field_that_is_not_nullable_refuses_null(field):
    # `status` and `direction` are bare $refs to enums: OpenAPI 3.0 gives them no nullable.
    problems = errors_of(VALIDATORS["message"], {**example_message(), field: None})
    assert problems and problems[0].startswith(field)


def test_page_nullable_and_not_nullable_fields():
    page = {
        "messages": [], "start": 0, "end": 0, "page": 0, "page_size": 50,
        "first_page_uri": "/x", "next_page_uri": None, "previous_page_uri": None, "uri": "/x",
    }  # fmt: skip
    assert errors_of(VALIDATORS["page"], page) == []
    assert errors_of(VALIDATORS["page"], {**page, "first_page_uri": None})
    assert errors_of(VALIDATORS["page"], {**page, "uri": None})
    assert errors_of(VALIDATORS["page"], {**page, "page": "0"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_segments", 1),  # Twilio sends counts as strings
        ("num_media", 0),
        ("error_code", "30003"),  # and the error code as an integer
        ("price", -0.0075),
        ("status", "pending"),  # not in the enum
        ("direction", "outbound"),
        ("sid", "SM123"),
        ("account_sid", "AC" + "g" * 32),
        ("date_created", "2024-01-02T03:04:05Z"),  # RFC 2822, not ISO 8601
        ("date_sent", "Thu, 24 Aug 2023 05:01:45 +0200"),  # and in GMT
        ("subresource_uris", ["/a"]),
        ("subresource_uris", {"media": "not a uri"}),
        ("from", "+1 415 555 0100"),  # stored and echoed in E.164
        ("error_message", 30003),
        ("api_version", 2010),
    ],
)
def test_a_mistyped_field_fails(field, value):
    problems = errors_of(VALIDATORS["message"], {**example_message(), field: value})
    assert problems and problems[0].startswith(field)


def test_a_missing_or_extra_property_fails():
    message = example_message()
    del message["num_media"]
    with pytest.raises(AssertionError, match="missing"):
        assert_message(message, "message")
    with pytest.raises(AssertionError, match="lacks"):
        assert_message({**example_message(), "tags": []}, "message")


def test_the_error_check_finds_each_kind_of_problem():
    good = {"code": 20404, "message": "x", "more_info": "https://www.twilio.com/docs/errors/20404"}
    assert twilio_error_problems({**good, "status": 404}, 404) == []
    assert twilio_error_problems({**good, "status": 401, "detail": "d"}, 401) == []
    assert twilio_error_problems({**good, "status": 404, "type": "t"}, 404) == ["extra ['type']"]
    assert twilio_error_problems({**good}, 404)
    assert twilio_error_problems({**good, "status": 404, "code": "20404"}, 404)
    assert twilio_error_problems({**good, "status": 404}, 400)
    assert twilio_error_problems({**good, "status": 404, "detail": 1}, 404)
    assert twilio_error_problems({"Code": "NotFound", "Message": "x"}, 404)


# --- Herald's responses ---------------------------------------------------------------------


def test_create_with_body(api):
    message = created(api, From=FROM, Body="Hello \N{THUMBS UP SIGN}")
    assert message["status"] == "queued" and message["from"] == FROM
    assert message["date_sent"] is None and message["messaging_service_sid"] is None


def test_create_with_media(api):
    message = created(api, From=FROM, MediaUrl=["https://example.com/a.png", "https://x.org/b"])
    assert message["sid"].startswith("MM") and message["num_media"] == "2"


def test_create_with_a_messaging_service_and_no_from(api):
    service = make_service(api.account_sid, "+14155550111")
    message = created(api, MessagingServiceSid=service, Body="via a service")
    assert message["from"] is None and message["messaging_service_sid"] == service
    assert message["status"] == "accepted"


def test_create_with_every_optional_parameter(api):
    message = created(
        api,
        From="Herald",
        Body="{[~]}" * 40,
        StatusCallback="https://example.com/cb",
        ProvideFeedback="true",
        ValidityPeriod="60",
        Attempt="1",
        ContentRetention="retain",
        SmartEncoded="false",
        ShortenUrls="false",
        RiskCheck="disable",
    )
    assert message["from"] == "Herald" and message["num_segments"] == "3"


def test_create_from_a_json_body(api):
    response = api.request(
        "POST",
        api.base + "/Messages.json",
        body=json.dumps({"To": "whatsapp:" + TO, "From": "whatsapp:" + FROM, "Body": "hi"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert_message(json_of(response), "create")


def test_scheduled_create_then_cancel(api):
    message = created(
        api,
        From=FROM,
        Body="later",
        **scheduling(api),
    )
    assert message["status"] == "scheduled" and message["date_sent"] is None
    response = api.update(message["sid"], Status="canceled")
    assert response.status_code == 200
    canceled = json_of(response)
    assert_message(canceled, "update")
    assert canceled["status"] == "canceled" and canceled["date_sent"] is None


def test_fetch(api):
    message = created(api, From=FROM, Body="fetch me")
    response = api.fetch(message["sid"])
    assert response.status_code == 200
    fetched = json_of(response)
    assert_message(fetched, "fetch")
    assert fetched == message


def test_fetch_of_a_scheduled_media_message(api):
    message = created(
        api,
        From=FROM,
        MediaUrl="https://example.com/a.png",
        **scheduling(api),
    )
    response = api.fetch(message["sid"])
    assert response.status_code == 200
    assert_message(json_of(response), "fetch")


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_redact(api, method):
    message = created(api, From=FROM, Body="secret")
    response = api.update(message["sid"], method=method, Body="")
    assert response.status_code == 200
    redacted = json_of(response)
    assert_message(redacted, "update")
    assert redacted["body"] == ""


def test_list_pages_with_several_messages(api):
    sids = [created(api, From=FROM, Body=f"m{i}")["sid"] for i in range(5)]
    created(
        api,
        MessagingServiceSid=make_service(api.account_sid, "+14155550111"),
        MediaUrl="https://example.com/a.png",
    )
    created(
        api,
        From=FROM,
        Body="later",
        **scheduling(api),
    )

    first = json_of(api.list("From=%2B15005550006&PageSize=2"))
    assert_page(first, 2)
    assert first["next_page_uri"] is not None and first["previous_page_uri"] is None
    token = parse_qs(urlsplit(first["next_page_uri"]).query)["PageToken"][0]
    second = json_of(api.list(f"From=%2B15005550006&PageSize=2&Page=1&PageToken={token}"))
    assert_page(second, 2)
    assert second["previous_page_uri"] is not None

    everything = json_of(api.list())
    assert_page(everything, 7)
    assert set(sids) <= {m["sid"] for m in everything["messages"]}


def test_empty_list_page(api):
    assert_page(json_of(api.list()), 0)
    assert_page(json_of(api.list("To=%2B14155550199&DateSent=2001-01-01")), 0)


# --- errors ---------------------------------------------------------------------------------


def assert_error(response, status: int, code: int) -> None:
    assert response.status_code == status, response.body
    body = json_of(response)
    assert twilio_error_problems(body, status) == []
    assert body["code"] == code


def test_errors_are_exactly_twilio_error_json(api, other_api):
    base = api.base
    message = created(api, From=FROM, Body="x")
    queued = message["sid"]
    cases = [
        (api.create(To="nonsense", From=FROM, Body="x"), 400, 21211),
        (api.create(To=TO, From=FROM), 400, 21602),
        (api.create(To=TO, From=FROM, Body="x", Colour="red"), 400, 20001),
        (api.list("PageToken=PAnotatoken"), 400, 21481),
        (api.list("PageSize=0"), 400, 20001),
        (api.update(queued, Status="canceled"), 400, 30409),
        (api.fetch("SM" + "0" * 32), 404, 20404),
        (other_api.fetch(queued), 404, 20404),
        (api.request("GET", base + "/Messages.json", auth=False), 401, 20003),
        (api.request("GET", other_api.base + "/Messages.json"), 401, 20003),
        (api.request("GET", "/2010-04-01/Nothing/Here.json"), 404, 20404),
        (api.request("PATCH", f"{base}/Messages/{queued}.json"), 405, 20004),
        (
            api.request(
                "POST", base + "/Messages.json", body="x", headers={"Content-Type": "text/plain"}
            ),
            415,
            20001,
        ),
        (api.create(To=TO, From=FROM, Body="x" * 70_000), 413, 20001),
    ]
    for response, status, code in cases:
        assert_error(response, status, code)
    unauthorized = json_of(cases[8][0])
    assert isinstance(unauthorized["detail"], str)


def test_idempotency_conflict_is_twilio_error_json(api):
    key = {"Idempotency-Key": "schema-test-key"}
    params = "To=%2B14155550100&From=%2B15005550006&Body="
    path = api.base + "/Messages.json"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    first = api.request("POST", path, body=params + "one", headers={**key, **form})
    assert first.status_code == 201
    assert_message(json_of(first), "create")
    replay = api.request("POST", path, body=params + "one", headers={**key, **form})
    assert replay.status_code == 201
    assert_message(json_of(replay), "create")
    conflict = api.request("POST", path, body=params + "two", headers={**key, **form})
    assert_error(conflict, 422, 20001)  # the key, reused with other parameters


@pytest.mark.parametrize("name", ["twilio_api_v2010_messages.json", "LICENSE.twilio-oai"])
def test_the_vendored_contract_is_the_shared_one(name, shared_twilio):
    vendored = TWILIO_DOCUMENT.parent / name
    assert vendored.read_bytes() == (shared_twilio / name).read_bytes()
