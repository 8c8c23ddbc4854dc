"""POST /Messages.json: every parameter rule and error code of create."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import body, error_of
from tests.services.helpers import make_service, with_sender  # noqa: F401 (a fixture)

BACKENDS = ("moto", "dynalite", "memory")  # conftest.py: every test on each DynamoDB
FROM = "+15005550006"
TO = "+14155550100"


def test_create_returns_201_and_the_full_message(api):
    response = api.create(To=TO, From=FROM, Body="Hello there")
    assert response.status_code == 201
    message = body(response)
    assert message["sid"].startswith("SM") and len(message["sid"]) == 34
    assert message["account_sid"] == api.account_sid
    assert message["to"] == TO and message["from"] == FROM
    assert message["body"] == "Hello there"
    assert message["status"] == "queued"
    assert message["direction"] == "outbound-api"
    assert message["api_version"] == "2010-04-01"
    assert message["num_segments"] == "1" and message["num_media"] == "0"
    assert message["price"] is None and message["error_code"] is None
    # As on Twilio, a message has no date_sent until a carrier takes it.
    assert message["date_sent"] is None
    assert message["date_created"].endswith(" +0000")
    assert message["uri"] == f"{api.base}/Messages/{message['sid']}.json"
    assert (
        message["subresource_uris"]["media"] == f"{api.base}/Messages/{message['sid']}/Media.json"
    )


def test_create_accepts_a_json_body(api):
    payload = json.dumps(
        {"To": TO, "From": FROM, "Body": "json", "MediaUrl": ["https://e.com/a.png"]}
    )
    response = api.request(
        "POST",
        api.base + "/Messages.json",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.body
    message = body(response)
    assert message["body"] == "json" and message["num_media"] == "1"
    assert message["sid"].startswith("MM")


def test_media_messages_get_mm_sids_and_count_media(api):
    urls = [f"https://example.com/{i}.jpg" for i in range(3)]
    message = body(api.create(To=TO, From=FROM, MediaUrl=urls))
    assert message["sid"].startswith("MM")
    assert message["num_media"] == "3"
    assert message["body"] == ""


def test_phone_numbers_are_normalised_to_e164(api):
    message = body(api.create(To="+1 (415) 555-0100", From=FROM, Body="x"))
    assert message["to"] == TO


def test_whatsapp_and_alphanumeric_senders(api):
    wa = body(api.create(To="whatsapp:+14155550100", From="whatsapp:+15005550006", Body="hi"))
    assert wa["to"] == "whatsapp:+14155550100" and wa["from"] == "whatsapp:+15005550006"
    alpha = body(api.create(To="+447911123456", From="Herald", Body="hi"))
    assert alpha["from"] == "Herald"


def test_messaging_service_creates_an_accepted_message(api, with_sender):  # noqa: F811
    service = with_sender(api.account_sid)
    message = body(api.create(To=TO, MessagingServiceSid=service, Body="x"))
    assert message["status"] == "accepted"
    assert message["messaging_service_sid"] == service
    assert message["from"] is None


def test_a_messaging_service_must_be_the_accounts_and_have_a_sender(api, other_api, with_sender):  # noqa: F811
    theirs = with_sender(other_api.account_sid)
    empty = make_service(api.account_sid)
    for service, code in ((theirs, 21701), ("MG" + "a" * 32, 21701), (empty, 21704)):
        assert error_of(api.create(To=TO, MessagingServiceSid=service, Body="x")) == (400, code)
    # With a From of its own, an empty service is no obstacle.
    message = body(api.create(To=TO, From=FROM, MessagingServiceSid=empty, Body="x"))
    assert (message["status"], message["from"]) == ("accepted", FROM)


def test_documented_optional_parameters_are_accepted(api):
    response = api.create(
        To=TO,
        From=FROM,
        Body="x",
        StatusCallback="https://example.com/cb",
        ApplicationSid="AP" + "0" * 32,
        MaxPrice="0.5",
        ProvideFeedback="true",
        Attempt="2",
        ValidityPeriod="600",
        ForceDelivery="false",
        ContentRetention="retain",
        AddressRetention="obfuscate",
        SmartEncoded="true",
        PersistentAction=["mailto:a@example.com"],
        TrafficType="free",
        ShortenUrls="false",
        SendAsMms="false",
        ContentVariables='{"1":"x"}',
        RiskCheck="disable",
        FallbackFrom="+15005550006",
    )
    assert response.status_code == 201, response.body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"From": FROM, "Body": "x"}, (400, 21604)),
        ({"To": "", "From": FROM, "Body": "x"}, (400, 21604)),
        ({"To": "415555", "From": FROM, "Body": "x"}, (400, 21211)),
        ({"To": "+1415555", "From": FROM, "Body": "x"}, (400, 21211)),
        ({"To": "whatsapp:nope", "From": FROM, "Body": "x"}, (400, 21211)),
        ({"To": TO, "Body": "x"}, (400, 21603)),
        ({"To": TO, "From": "+123", "Body": "x"}, (400, 21212)),
        ({"To": TO, "From": "TooLongSenderID", "Body": "x"}, (400, 21212)),
        ({"To": TO, "From": "12345", "Body": "x"}, (400, 21212)),
        ({"To": TO, "From": FROM}, (400, 21602)),
        ({"To": TO, "From": FROM, "Body": ""}, (400, 21602)),
        ({"To": TO, "MessagingServiceSid": "MG" + "a" * 32}, (400, 21619)),
        ({"To": TO, "MessagingServiceSid": "nope", "Body": "x"}, (400, 21705)),
        ({"To": TO, "From": FROM, "Body": "x" * 1601}, (400, 21617)),
        ({"To": TO, "From": FROM, "MediaUrl": ["ftp://e.com/a"]}, (400, 21620)),
        ({"To": TO, "From": FROM, "MediaUrl": ["not a url"]}, (400, 21620)),
        (
            {"To": TO, "From": FROM, "MediaUrl": [f"https://e.com/{i}" for i in range(11)]},
            (400, 21623),
        ),
        ({"To": TO, "From": FROM, "Body": "x", "Bogus": "1"}, (400, 20001)),
        ({"To": TO, "From": FROM, "Body": "x", "ForceDelivery": "yes"}, (400, 20001)),
        ({"To": TO, "From": FROM, "Body": "x", "ValidityPeriod": "0"}, (400, 20001)),
        ({"To": TO, "From": FROM, "Body": "x", "ValidityPeriod": "36001"}, (400, 20001)),
        ({"To": TO, "From": FROM, "Body": "x", "TrafficType": "paid"}, (400, 20001)),
        ({"To": TO, "From": FROM, "Body": "x", "StatusCallback": "javascript:1"}, (400, 21609)),
        ({"To": TO, "From": FROM, "Body": "x", "ContentSid": "HXnope"}, (400, 20001)),
        ({"To": [TO, TO], "From": FROM, "Body": "x"}, (400, 20001)),
    ],
)
def test_create_errors(api, params, expected):
    assert error_of(api.create(**params)) == expected


def test_body_of_exactly_1600_characters_is_accepted(api):
    message = body(api.create(To=TO, From=FROM, Body="x" * 1600))
    assert message["num_segments"] == "11"


def test_ten_media_urls_are_accepted(api):
    urls = [f"https://e.com/{i}" for i in range(10)]
    assert body(api.create(To=TO, From=FROM, MediaUrl=urls))["num_media"] == "10"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def service(api) -> str:
    """A Messaging Service of the account: scheduling asks for one, as on Twilio."""
    return make_service(api.account_sid)


def test_scheduling_without_a_messaging_service_is_35118(api, service):
    send_at = iso(datetime.now(UTC) + timedelta(hours=1))
    refused = api.create(To=TO, From=FROM, Body="x", ScheduleType="fixed", SendAt=send_at)
    assert error_of(refused) == (400, 35118)
    taken = api.create(
        To=TO,
        From=FROM,
        Body="x",
        ScheduleType="fixed",
        SendAt=send_at,
        MessagingServiceSid=service,
    )
    assert body(taken)["status"] == "scheduled"


def test_fixed_schedule_creates_a_scheduled_message_without_date_sent(api, service):
    send_at = datetime.now(UTC) + timedelta(hours=1)
    response = api.create(
        To=TO, From=FROM, Body="later", ScheduleType="fixed", SendAt=iso(send_at),
        MessagingServiceSid=service,
    )  # fmt: skip
    assert response.status_code == 201, response.body
    message = body(response)
    assert message["status"] == "scheduled"
    assert message["date_sent"] is None


@pytest.mark.parametrize(
    ("schedule", "code"),
    [
        ({"ScheduleType": "fixed"}, 35111),
        ({"ScheduleType": "fixed", "SendAt": "tomorrow"}, 35111),
        ({"ScheduleType": "fixed", "SendAt": "+200s"}, 35114),
        ({"ScheduleType": "fixed", "SendAt": "+36d"}, 35114),
        ({"ScheduleType": "fixed", "SendAt": "-1h"}, 35114),
        ({"SendAt": "+1h"}, 35115),
        ({"ScheduleType": "later", "SendAt": "+1h"}, 20001),
    ],
)
def test_schedule_errors(api, service, schedule, code):
    offsets = {"+200s": timedelta(seconds=200), "+36d": timedelta(days=36),
               "-1h": timedelta(hours=-1), "+1h": timedelta(hours=1)}  # fmt: skip
    if schedule.get("SendAt") in offsets:
        schedule = {**schedule, "SendAt": iso(datetime.now(UTC) + offsets[schedule["SendAt"]])}
    params = {"To": TO, "From": FROM, "Body": "x", "MessagingServiceSid": service, **schedule}
    status, got = error_of(api.create(**params))
    assert (status, got) == (400, code)


def test_schedule_window_edges(api, service):
    now = datetime.now(UTC)
    inside = api.create(
        To=TO,
        From=FROM,
        MessagingServiceSid=service,
        Body="x",
        ScheduleType="fixed",
        SendAt=iso(now + timedelta(days=35) - timedelta(minutes=1)),
    )
    assert inside.status_code == 201, inside.body
    too_soon = api.create(
        To=TO, From=FROM, Body="x", ScheduleType="fixed", SendAt=iso(now + timedelta(seconds=299)),
        MessagingServiceSid=service,
    )  # fmt: skip
    assert error_of(too_soon) == (400, 35114)


def test_malformed_form_body_is_a_400_not_a_500(api):
    response = api.request(
        "POST",
        api.base + "/Messages.json",
        body=b"To=%ff%fe&From=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response) == (400, 20001)


@pytest.mark.parametrize("payload", [b"{not json", b"[1,2]", b'{"To": {"a": 1}}', b"\xff\xfe"])
def test_malformed_json_body_is_a_400(api, payload):
    response = api.request(
        "POST",
        api.base + "/Messages.json",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response) == (400, 20001)


def test_unsupported_content_type_is_415_with_twilio_json(api):
    response = api.request(
        "POST", api.base + "/Messages.json", body=b"<xml/>", headers={"Content-Type": "text/xml"}
    )
    assert error_of(response) == (415, 20001)


def test_oversized_body_is_refused_before_any_work(api):
    response = api.request(
        "POST",
        api.base + "/Messages.json",
        body=b"Body=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response) == (413, 20001)


@pytest.mark.parametrize(
    "extra",
    [
        {"ValidityPeriod": "\u00b2"},
        {"Attempt": "\u0663"},
        {"ScheduleType": "fixed", "SendAt": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_odd_digits_and_dates_are_400_not_500(api, service, extra):
    params = {"To": TO, "From": FROM, "Body": "x", "MessagingServiceSid": service, **extra}
    status, code = error_of(api.create(**params))
    assert status == 400 and code in (20001, 35111, 35114)
