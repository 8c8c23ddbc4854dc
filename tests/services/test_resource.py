"""The Services resource (messaging/v1) on one Herald host under /messaging: create with
Twilio's defaults, fetch, update, delete, list with v1 paging, every answer checked against
Twilio's description, and errors in Twilio's JSON."""

import pytest

from tests.conftest import basic, body, error_of
from tests.services.conftest import SERVICE, SERVICES, assert_twilio

DEFAULTS = {
    "sticky_sender": True,
    "mms_converter": True,
    "smart_encoding": True,
    "fallback_to_long_code": True,
    "area_code_geomatch": True,
    "synchronous_validation": True,
    "validity_period": 36000,
    "scan_message_content": "inherit",
    "usecase": "undeclared",
    "use_inbound_webhook_on_number": False,
    "us_app_to_person_registered": False,
    "inbound_method": "POST",
    "fallback_method": "POST",
    "inbound_request_url": None,
    "fallback_url": None,
    "status_callback": None,
}


def test_create_answers_twilios_defaults_and_absolute_urls(v1):
    response = v1.create(FriendlyName="Reminders")
    assert response.status_code == 201
    service = assert_twilio(SERVICES, "post", 201, body(response), "service")
    assert service["sid"].startswith("MG") and len(service["sid"]) == 34
    assert service["friendly_name"] == "Reminders"
    assert {k: service[k] for k in DEFAULTS} == DEFAULTS
    assert service["url"] == f"http://herald.test/messaging/v1/Services/{service['sid']}"
    assert service["links"]["phone_numbers"] == service["url"] + "/PhoneNumbers"
    assert service["links"]["alpha_senders"] == service["url"] + "/AlphaSenders"
    fetched = v1.fetch(service["sid"])
    assert body(fetched) == service
    assert_twilio(SERVICE, "get", 200, body(fetched), "service")


def test_the_answers_urls_follow_the_host_and_stage_the_request_came_to(api):
    from tests.services.conftest import V1

    on_gateway = V1(api, host="abc.execute-api.us-east-1.amazonaws.com")
    response = on_gateway.request(
        "POST", SERVICES, params={"FriendlyName": "x"}, headers={"X-Forwarded-Proto": "https"}
    )
    url = body(response)["url"]
    assert url.startswith("https://abc.execute-api.us-east-1.amazonaws.com/messaging/v1/")


def test_update_changes_what_it_names_and_keeps_the_rest(v1):
    sid = v1.made(StatusCallback="https://example.com/status")["sid"]
    response = v1.update(
        sid, StickySender="false", ValidityPeriod="600", InboundRequestUrl="https://example.com/in"
    )
    assert response.status_code == 200
    updated = assert_twilio(SERVICE, "post", 200, body(response), "service")
    assert (updated["sticky_sender"], updated["validity_period"]) == (False, 600)
    assert updated["inbound_request_url"] == "https://example.com/in"
    assert updated["status_callback"] == "https://example.com/status"
    assert body(v1.fetch(sid)) == updated
    # An empty URL clears it; a URL with credentials is answered masked and kept as given.
    cleared = body(v1.update(sid, StatusCallback=""))
    assert cleared["status_callback"] is None


def test_credentials_in_a_url_are_masked_and_survive_being_written_back(v1):
    service = v1.made(StatusCallback="https://hook:s3cret@example.com/cb")
    assert service["status_callback"] == "https://hook:****@example.com/cb"
    again = body(v1.update(service["sid"], StatusCallback=service["status_callback"]))
    assert again["status_callback"] == "https://hook:****@example.com/cb"
    from chalicelib.storage import services as stored

    kept = stored.get_service(service["account_sid"], service["sid"])["status_callback"]
    assert "s3cret" not in kept and "****" not in kept  # sealed, not the mask


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"FriendlyName": ""}, 20001),
        ({"FriendlyName": "x" * 65}, 20001),
        ({"StickySender": "yes"}, 20001),
        ({"ValidityPeriod": "0"}, 20001),
        ({"ValidityPeriod": "36001"}, 20001),
        ({"InboundMethod": "PUT"}, 20001),
        ({"Usecase": "spam"}, 20001),
        ({"ScanMessageContent": "always"}, 20001),
        ({"InboundRequestUrl": "javascript:alert(1)"}, 21502),
        ({"StatusCallback": "https://example.com/%0d%0a"}, 21502),
        ({"Bogus": "1"}, 20001),
    ],
)
def test_bad_parameters_are_twilios_errors(v1, params, code):
    assert error_of(v1.create(**params)) == (400, code)


def test_delete_answers_204_then_the_service_is_missing(v1):
    sid = v1.made()["sid"]
    deleted = v1.delete(sid)
    assert (deleted.status_code, deleted.body) == (204, b"")
    for response in (v1.fetch(sid), v1.delete(sid), v1.update(sid, FriendlyName="x")):
        assert error_of(response) == (404, 20404)
    assert sid not in [s["sid"] for s in body(v1.list())["services"]]


def test_the_list_pages_newest_first_in_v1_style(v1):
    made = [v1.made(FriendlyName=f"s{i}")["sid"] for i in range(5)]
    first = assert_twilio(SERVICES, "get", 200, body(v1.list("PageSize=2")), "service")
    assert first["meta"]["key"] == "services" and first["meta"]["page"] == 0
    assert first["meta"]["previous_page_url"] is None
    seen = [s["sid"] for s in first["services"]]
    url = first["meta"]["next_page_url"]
    while url:
        assert url.startswith("http://herald.test/messaging/v1/Services?")
        page = body(v1.request("GET", url.split("/messaging", 1)[1]))
        assert_twilio(SERVICES, "get", 200, page, "service")
        seen += [s["sid"] for s in page["services"]]
        url = page["meta"]["next_page_url"]
    assert seen == list(reversed(made))


def test_a_tampered_page_token_is_21481(v1):
    v1.made()
    v1.made()
    url = body(v1.list("PageSize=1"))["meta"]["next_page_url"]
    assert error_of(v1.request("GET", url.split("/messaging", 1)[1] + "x")) == (400, 21481)


def test_another_accounts_service_answers_exactly_as_a_missing_one(v1, other_v1):
    theirs = other_v1.made()["sid"]
    missing = "MG" + "0" * 32
    for method, suffix, params in (
        ("GET", "", None),
        ("POST", "", {"FriendlyName": "mine now"}),
        ("DELETE", "", None),
        ("GET", "/PhoneNumbers", None),
        ("POST", "/PhoneNumbers", {"PhoneNumberSid": "PN" + "0" * 32}),
        ("GET", "/AlphaSenders", None),
        ("GET", "/PhoneNumbers/PN" + "0" * 32, None),
    ):
        foreign = v1.request(method, f"{SERVICES}/{theirs}{suffix}", params=params)
        absent = v1.request(method, f"{SERVICES}/{missing}{suffix}", params=params)
        assert foreign.status_code == absent.status_code == 404
        assert foreign.body == absent.body.replace(missing.encode(), theirs.encode())
    assert body(other_v1.fetch(theirs))["friendly_name"] == "svc"
    assert theirs not in [s["sid"] for s in body(v1.list())["services"]]


def test_only_the_accounts_own_credentials_open_it(v1, api):
    for auth in (basic(api.account_sid, "wrong"), basic("SK" + "0" * 32, "x"), "Bearer x", None):
        headers = {"Authorization": auth} if auth else {}
        response = v1.request("GET", SERVICES, auth=bool(auth) and auth, headers=headers)
        assert error_of(response) == (401, 20003)


def test_methods_a_path_does_not_serve_are_405(v1):
    sid = v1.made()["sid"]
    assert error_of(v1.request("PUT", SERVICES)) == (405, 20004)
    assert error_of(v1.request("PATCH", f"{SERVICES}/{sid}")) == (405, 20004)
    assert error_of(v1.request("POST", f"{SERVICES}/{sid}/PhoneNumbers/PN" + "0" * 32)) == (
        405,
        20004,
    )
    assert error_of(v1.request("GET", f"{SERVICES}/{sid}/Nothing")) == (404, 20404)


def test_the_messaging_domain_lives_under_its_own_prefix_only(v1, api):
    # Each of Twilio's products has its own host and several a /v1/Services (Conversations,
    # Verify, Notify): on Herald's one host each gets a prefix, so none can take another's.
    from app import app

    versioned = sorted(path for path in app.routes if not path.startswith("/2010-04-01/"))
    assert versioned and all(
        path.startswith("/messaging/v1/") or not path.startswith(("/v1/", "/messaging"))
        for path in versioned
    ), versioned
    assert "/messaging/v1/Services" in versioned
    unprefixed = api.request("GET", "/v1/Services", headers={"Host": "herald.test"})
    assert error_of(unprefixed) == (404, 20404)
