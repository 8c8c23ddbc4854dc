"""Fetch, update (redact, cancel, PUT), delete, auth, isolation and routing errors."""

import json

import pytest

import admin
from chalicelib.storage import messages as stored
from tests.conftest import basic, body, error_of, make, scheduled

BACKENDS = ("moto", "dynalite", "memory")  # conftest.py: every test on each DynamoDB
FROM = "+15005550006"
TO = "+14155550100"


def test_fetch_returns_what_create_returned(api):
    created = make(api)
    response = api.fetch(created["sid"])
    assert response.status_code == 200
    assert body(response) == created


@pytest.mark.parametrize(
    "sid",
    ["SM" + "0" * 32, "MM" + "f" * 32, "SMnothex", "XX" + "0" * 32, "SM" + "A" * 32],
)
def test_fetch_missing_or_malformed_is_20404(api, sid):
    assert error_of(api.fetch(sid)) == (404, 20404)


def test_fetch_with_the_wrong_prefix_is_20404(api):
    created = make(api)
    assert error_of(api.fetch("MM" + created["sid"][2:])) == (404, 20404)


def test_path_without_json_suffix_is_20404(api):
    created = make(api)
    response = api.request("GET", f"{api.base}/Messages/{created['sid']}")
    assert error_of(response) == (404, 20404)


def test_redact_empties_the_body_and_keeps_the_rest(api):
    created = make(api)
    response = api.update(created["sid"], Body="")
    assert response.status_code == 200
    redacted = body(response)
    assert redacted["body"] == ""
    for field in ("sid", "to", "from", "status", "num_segments", "date_created", "date_sent"):
        assert redacted[field] == created[field]
    assert body(api.fetch(created["sid"]))["body"] == ""


def test_put_updates_like_post_with_form_or_json(api):
    created = make(api)
    assert body(api.update(created["sid"], method="PUT", Body=""))["body"] == ""
    other = make(api)
    response = api.request(
        "PUT",
        f"{api.base}/Messages/{other['sid']}.json",
        body=json.dumps({"Body": ""}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200 and body(response)["body"] == ""


def test_update_with_other_body_text_is_refused(api):
    created = make(api)
    assert error_of(api.update(created["sid"], Body="new text")) == (400, 20001)
    assert body(api.fetch(created["sid"]))["body"] == "hello"


@pytest.mark.parametrize("params", [{"Status": "sent"}, {"To": TO}, {"Bogus": "x"}])
def test_update_refuses_any_other_change(api, params):
    created = make(api)
    assert error_of(api.update(created["sid"], **params)) == (400, 20001)


def test_cancel_a_scheduled_message(api):
    created = scheduled(api)
    response = api.update(created["sid"], Status="canceled")
    assert response.status_code == 200
    assert body(response)["status"] == "canceled"
    assert body(api.fetch(created["sid"]))["status"] == "canceled"


def test_cancel_a_queued_message_is_30409(api):
    created = make(api)
    assert error_of(api.update(created["sid"], Status="canceled")) == (400, 30409)
    assert body(api.fetch(created["sid"]))["status"] == "queued"


def test_cancel_twice_is_30409(api):
    created = scheduled(api)
    api.update(created["sid"], Status="canceled")
    assert error_of(api.update(created["sid"], Status="canceled")) == (400, 30409)


def test_update_missing_is_20404(api):
    assert error_of(api.update("SM" + "1" * 32, Body="")) == (404, 20404)
    assert error_of(api.update("SM" + "1" * 32, Status="canceled")) == (404, 20404)


def test_delete_is_204_with_an_empty_body_and_the_message_is_gone(api):
    created = make(api)
    response = api.delete(created["sid"])
    assert response.status_code == 204
    assert response.body == b""
    assert error_of(api.fetch(created["sid"])) == (404, 20404)
    assert error_of(api.delete(created["sid"])) == (404, 20404)
    assert error_of(api.update(created["sid"], Body="")) == (404, 20404)


def test_delete_withdraws_a_scheduled_message(api):
    created = scheduled(api)
    assert api.delete(created["sid"]).status_code == 204


def test_delete_refuses_a_message_being_sent(api):
    created = make(api)
    stored.update_message(api.account_sid, created["sid"], {"status": "sending"})
    assert error_of(api.delete(created["sid"])) == (409, 20009)
    assert api.fetch(created["sid"]).status_code == 200


def test_create_read_redact_delete_flow(api):
    created = make(api)
    assert api.fetch(created["sid"]).status_code == 200
    assert api.update(created["sid"], Body="").status_code == 200
    assert api.delete(created["sid"]).status_code == 204


# --- auth -------------------------------------------------------------------------------


def test_no_credentials_is_401_with_www_authenticate(api):
    response = api.request("GET", api.base + "/Messages.json", auth=False)
    assert error_of(response) == (401, 20003)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header",
    ["Basic !!!", "Bearer abc", "Basic " + "dXNlcg==", "Basic", ""],
)
def test_malformed_authorization_is_401(api, header):
    response = api.request("GET", api.base + "/Messages.json", auth=header)
    assert error_of(response) == (401, 20003)


def test_wrong_token_is_401(api):
    response = api.request(
        "GET", api.base + "/Messages.json", auth=basic(api.account_sid, "0" * 32)
    )
    assert error_of(response) == (401, 20003)


def test_api_key_opens_its_own_account(api):
    key = admin.create_key(api.account_sid)
    response = api.request(
        "GET", api.base + "/Messages.json", auth=basic(key["sid"], key["secret"])
    )
    assert response.status_code == 200


def test_api_key_with_wrong_secret_or_revoked_is_401(api, cache_expires):
    key = admin.create_key(api.account_sid)
    wrong = api.request("GET", api.base + "/Messages.json", auth=basic(key["sid"], "nope"))
    assert error_of(wrong) == (401, 20003)
    admin.revoke_key(api.account_sid, key["sid"])
    cache_expires()  # a revocation reaches every container within auth.CACHE_SECONDS
    revoked = api.request("GET", api.base + "/Messages.json", auth=basic(key["sid"], key["secret"]))
    assert error_of(revoked) == (401, 20003)


def test_credentials_never_open_another_accounts_path(api, other_api):
    own = api.auth
    response = other_api.request("GET", other_api.base + "/Messages.json", auth=own)
    assert error_of(response) == (401, 20003)
    key = admin.create_key(api.account_sid)
    response = other_api.request(
        "GET", other_api.base + "/Messages.json", auth=basic(key["sid"], key["secret"])
    )
    assert error_of(response) == (401, 20003)


def test_unknown_account_path_is_401_like_a_wrong_token(api):
    path = "/2010-04-01/Accounts/AC" + "9" * 32 + "/Messages.json"
    response = api.request("GET", path)
    assert error_of(response) == (401, 20003)


def test_a_foreign_sid_answers_exactly_like_a_missing_one(api, other_api):
    foreign = make(other_api)
    missing_sid = foreign["sid"][:-1] + ("0" if foreign["sid"][-1] != "0" else "1")
    for call in (
        lambda sid: api.fetch(sid),
        lambda sid: api.update(sid, Body=""),
        lambda sid: api.update(sid, Status="canceled"),
        lambda sid: api.delete(sid),
    ):
        got_foreign, got_missing = call(foreign["sid"]), call(missing_sid)
        assert got_foreign.status_code == got_missing.status_code == 404
        assert body(got_foreign)["code"] == body(got_missing)["code"] == 20404
        assert body(got_foreign)["message"].replace(foreign["sid"], "X") == body(got_missing)[
            "message"
        ].replace(missing_sid, "X")
        assert dict(got_foreign.headers) == dict(got_missing.headers)
    # and the foreign message is untouched
    assert body(other_api.fetch(foreign["sid"]))["body"] == "hello"


def test_lists_never_include_another_accounts_messages(api, other_api):
    make(other_api)
    mine = make(api)
    listed = body(api.list())["messages"]
    assert [m["sid"] for m in listed] == [mine["sid"]]
    assert body(api.list("To=" + TO.replace("+", "%2B")))["messages"][0]["sid"] == mine["sid"]
    assert len(body(api.list("To=" + TO.replace("+", "%2B")))["messages"]) == 1


# --- routing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/2010-04-01",
        "/2010-04-01/Accounts",
        "/2010-04-01/Accounts/ACx/Calls.json",
        "/2010-04-01/Accounts/ACx/Messages/SMx/Media/MEx/Extra/Deep.json",
        "/nothing/here/at/all",
    ],
)
def test_unknown_routes_are_20404(api, path):
    assert error_of(api.request("GET", path)) == (404, 20404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/Messages.json"), ("DELETE", "/Messages.json"), ("PATCH", "/Messages/SMx.json")],
)
def test_wrong_methods_are_405_with_twilio_json(api, method, path):
    response = api.request(method, api.base + path)
    assert error_of(response) == (405, 20004)
    assert "Allow" in response.headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/Messages.json", {"GET", "POST"}),
        ("PROPFIND", "/Messages/SM" + "0" * 32 + ".json", {"GET", "POST", "PUT", "DELETE"}),
    ],
)
def test_methods_no_route_declares_get_the_resource_s_own_allow(api, method, path, allowed):
    response = api.request(method, api.base + path)
    assert error_of(response) == (405, 20004)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_a_method_no_route_declares_on_an_unknown_path_is_404(api):
    assert error_of(api.request("TRACE", "/no/such/thing")) == (404, 20404)


def test_an_error_inside_the_middleware_is_twilio_500(api, monkeypatch):
    monkeypatch.setattr("chalicelib.web.fallbacks.forms.MAX_BODY_BYTES", None)  # a TypeError
    response = api.create(To="+14155550100", From="+15005550006", Body="x")
    assert error_of(response) == (500, 20500)


def test_non_ascii_authorization_is_401_not_500(api):
    response = api.request("GET", api.base + "/Messages.json", auth="Basic \u00e9\u00e9\u00e9")
    assert error_of(response) == (401, 20003)
