"""Inputs the contract-fuzzing work found mishandled, pinned in-process (moto, no server)."""

import json

import pytest

from tests.oas import twilio_error_problems

TO = "+14155550100"
FROM = "+15005550006"


def error_code(response) -> int:
    body = json.loads(response.body)
    assert twilio_error_problems(body, response.status_code) == []
    return body["code"]


@pytest.mark.parametrize(
    "document",
    [
        "[" * 5000,  # an array nested past the JSON parser's depth limit
        '{"To": ' + "[" * 3000 + "]" * 3000 + "}",
        '{"Body": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_deeply_nested_json_is_a_400_not_a_500(api, document, method):
    created = api.create(To=TO, From=FROM, Body="x")
    sid = json.loads(created.body)["sid"]
    path = api.base + ("/Messages.json" if method == "POST" else f"/Messages/{sid}.json")
    response = api.request(
        method, path, body=document, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_code(response) == 20001


@pytest.mark.parametrize("sender", ["Herald\n", "Herald\r\n", "\nHerald", "Her\nald"])
def test_an_alphanumeric_sender_with_a_newline_is_refused(api, sender):
    response = api.create(To=TO, From=sender, Body="x")
    assert response.status_code == 400
    assert error_code(response) == 21212


def test_a_list_filter_with_a_newline_matches_nothing(api):
    assert api.create(To=TO, From="Herald", Body="x").status_code == 201
    page = json.loads(api.list("From=Herald%0A").body)
    assert page["messages"] == []
    assert len(json.loads(api.list("From=Herald").body)["messages"]) == 1


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " "])
def test_a_sid_parameter_with_trailing_whitespace_is_refused(api, suffix):
    # Echoed back, "MG…\n" broke the messaging_service_sid pattern of Twilio's schema.
    response = api.create(To=TO, MessagingServiceSid="MG" + "a" * 32 + suffix, Body="x")
    assert response.status_code == 400
    assert error_code(response) == 20001
