"""GET /Messages.json: order, filters, paging, page JSON and PageToken errors."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import body, error_of, listing, make, make_sent, ms, newest_first, sids_of
from tests.services.helpers import service_of, with_sender  # noqa: F401 (a fixture)

BACKENDS = ("moto", "dynalite", "memory")  # conftest.py: every test on each DynamoDB
LIST_SHARDS = (1, 8)  # and on a 1-shard and an 8-shard account
FROM = "+15005550006"
OTHER_FROM = "+15005550007"
TO = "+14155550100"
OTHER_TO = "+14155550101"
PAGE_KEYS = {
    "messages", "start", "end", "page", "page_size", "first_page_uri",
    "next_page_uri", "previous_page_uri", "uri",
}  # fmt: skip


def create(api, **params) -> str:
    return make(api, **params)["sid"]


def test_empty_list_has_exactly_the_page_keys(api):
    page = listing(api)
    assert set(page) == PAGE_KEYS
    assert page["messages"] == []
    assert (page["start"], page["end"], page["page"], page["page_size"]) == (0, 0, 0, 50)
    assert page["next_page_uri"] is None and page["previous_page_uri"] is None
    assert page["first_page_uri"] == f"{api.base}/Messages.json?PageSize=50&Page=0"
    assert page["uri"] == f"{api.base}/Messages.json?PageSize=50&Page=0"


def test_newest_first(api, clock):
    made = []
    for minute in range(5):
        clock(f"2024-01-02T10:0{minute}:00")
        made.append(create(api))
    assert sids_of(listing(api)) == made[::-1]


def test_paging_forward_and_back_across_pages(api, clock):
    made = []
    for second in range(7):
        clock(f"2024-01-02T10:00:0{second}")
        made.append(create(api))
    newest_first = made[::-1]

    first = listing(api, PageSize=3)
    assert sids_of(first) == newest_first[:3]
    assert (first["start"], first["end"], first["page"]) == (0, 2, 0)
    assert first["previous_page_uri"] is None

    second = body(api.request("GET", first["next_page_uri"]))
    assert sids_of(second) == newest_first[3:6]
    assert (second["start"], second["end"], second["page"]) == (3, 5, 1)

    third = body(api.request("GET", second["next_page_uri"]))
    assert sids_of(third) == newest_first[6:]
    assert (third["start"], third["end"], third["page"]) == (6, 6, 2)
    assert third["next_page_uri"] is None

    back = body(api.request("GET", third["previous_page_uri"]))
    assert sids_of(back) == newest_first[3:6]
    assert back["page"] == 1
    back_again = body(api.request("GET", back["previous_page_uri"]))
    assert sids_of(back_again) == newest_first[:3]
    assert back_again["page"] == 0 and back_again["previous_page_uri"] is None
    assert sids_of(body(api.request("GET", back_again["next_page_uri"]))) == newest_first[3:6]


def test_exact_multiple_of_page_size_has_no_empty_last_page(api, clock):
    for second in range(4):
        clock(f"2024-01-02T10:00:0{second}")
        create(api)
    second = body(api.request("GET", listing(api, PageSize=2)["next_page_uri"]))
    assert len(second["messages"]) == 2
    assert second["next_page_uri"] is None


def test_page_uris_are_relative_and_keep_every_filter(api, clock):
    for second in range(3):
        clock(f"2024-01-02T10:00:0{second}")
        make_sent(api)
    page = listing(api, To=TO, From=FROM, **{"DateSent>": "2024-01-01", "DateSent<": "2024-01-03"},
                   PageSize=1)  # fmt: skip
    for name in ("first_page_uri", "next_page_uri", "uri"):
        uri = page[name]
        assert uri.startswith(f"{api.base}/Messages.json?")
        query = parse_qs(urlsplit(uri).query)
        assert query["To"] == [TO] and query["From"] == [FROM]
        assert query["DateSent>"] == ["2024-01-01"] and query["DateSent<"] == ["2024-01-03"]
        assert query["PageSize"] == ["1"]
    assert "PageToken" in parse_qs(urlsplit(page["next_page_uri"]).query)
    second = body(api.request("GET", page["next_page_uri"]))
    assert len(second["messages"]) == 1 and second["page"] == 1


def test_to_from_and_both_filters(api, with_sender):  # noqa: F811
    a = create(api, To=TO, From=FROM)
    b = create(api, To=OTHER_TO, From=FROM)
    c = create(api, To=TO, From=OTHER_FROM)
    service = with_sender(api.account_sid)
    d = create(api, To=OTHER_TO, MessagingServiceSid=service, From="")
    assert set(sids_of(listing(api, To=TO))) == {a, c}
    assert set(sids_of(listing(api, To=OTHER_TO))) == {b, d}
    assert set(sids_of(listing(api, From=FROM))) == {a, b}
    assert sids_of(listing(api, To=TO, From=FROM)) == [a]
    assert sids_of(listing(api, To=OTHER_TO, From=OTHER_FROM)) == []
    assert sids_of(listing(api, To="+1 415-555-0100", From=OTHER_FROM)) == [c]
    assert sids_of(listing(api, To="+19999999999")) == []
    assert sids_of(listing(api, To="not a number")) == []


def test_filters_match_the_normalised_number(api):
    sid = create(api, To=TO)
    assert sids_of(listing(api, To="+1 415-555-0100")) == [sid]


def test_date_sent_equals_a_day(api, three_days):
    got = sids_of(listing(api, DateSent="2024-01-02"))
    assert got == newest_first(
        three_days, "2024-01-02T00:00:00", "2024-01-02T12:30:00", "2024-01-02T23:59:59"
    )


def test_date_sent_with_a_midnight_datetime_means_that_day(api, three_days):
    got = sids_of(listing(api, DateSent="2024-01-02T00:00:00Z"))
    assert len(got) == 3


def test_date_sent_before_and_after_days_are_inclusive(api, three_days):
    before = sids_of(listing(api, **{"DateSent<": "2024-01-01"}))
    assert before == newest_first(
        three_days, "2024-01-01T00:00:00", "2024-01-01T12:30:00", "2024-01-01T23:59:59"
    )
    after = sids_of(listing(api, **{"DateSent>": "2024-01-03"}))
    assert len(after) == 3
    between = sids_of(listing(api, **{"DateSent>": "2024-01-02", "DateSent<": "2024-01-02"}))
    assert len(between) == 3


def test_date_sent_with_precise_datetimes(api, three_days):
    got = sids_of(
        listing(api, **{"DateSent>": "2024-01-02T12:00:00Z", "DateSent<": "2024-01-03T12:30:00Z"})
    )
    assert got == newest_first(
        three_days, "2024-01-02T12:30:00", "2024-01-02T23:59:59", "2024-01-03T00:00:00",
        "2024-01-03T12:30:00",
    )  # fmt: skip
    offset = sids_of(listing(api, **{"DateSent<": "2024-01-01T13:30:00+01:00"}))
    assert offset == newest_first(three_days, "2024-01-01T00:00:00", "2024-01-01T12:30:00")


def test_date_filters_page_across_pages(api, three_days):
    first = listing(api, **{"DateSent>": "2024-01-02"}, PageSize=4)
    second = body(api.request("GET", first["next_page_uri"]))
    assert len(first["messages"]) == 4 and len(second["messages"]) == 2
    assert second["next_page_uri"] is None
    assert set(sids_of(first) + sids_of(second)) == set(
        newest_first(three_days, *[k for k in three_days if k >= "2024-01-02"])
    )


def test_unsent_messages_are_listed_but_never_match_date_sent(api, clock):
    clock("2024-01-02T10:00:00")
    sent = make_sent(api)["sid"]
    clock("2024-01-02T10:00:01")
    send_at = datetime.fromtimestamp((ms("2024-01-02T12:00:00")) / 1000, tz=UTC)
    waiting = create(
        api, ScheduleType="fixed", SendAt=send_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        MessagingServiceSid=service_of(api.account_sid),
    )  # fmt: skip
    clock("2024-01-02T10:00:02")
    queued = create(api)
    # Lists order by creation, or by SendAt for a scheduled message (here 2 h ahead, so it
    # is the newest); unsent messages have no date_sent to match.
    assert sids_of(listing(api)) == [waiting, queued, sent]
    assert sids_of(listing(api, DateSent="2024-01-02")) == [sent]


@pytest.mark.parametrize(
    "query",
    [
        "PageSize=0",
        "PageSize=1001",
        "PageSize=abc",
        "Page=-1",
        "DateSent=yesterday",
        "DateSent%3C=2024-13-01",
        "Bogus=1",
        "PageSize=1&PageSize=2",
    ],
)
def test_bad_list_parameters_are_400(api, query):
    response = api.list(query)
    assert response.status_code == 400
    assert body(response)["code"] == 20001


def test_page_size_bounds_are_accepted(api):
    assert listing(api, PageSize=1)["page_size"] == 1
    assert listing(api, PageSize=1000)["page_size"] == 1000


@pytest.mark.parametrize("token", ["garbage", "PA", "PAxyz", "PB!!!!", "XX" + "A" * 40])
def test_bad_page_tokens_are_21481(api, token):
    response = api.list("PageToken=" + quote(token))
    assert response.status_code == 400
    assert body(response)["code"] == 21481


def next_token(api, **query):
    for _ in range(2):
        create(api)
    page = listing(api, PageSize=1, **query)
    return parse_qs(urlsplit(page["next_page_uri"]).query)["PageToken"][0]


def test_a_tampered_token_is_21481(api):
    token = next_token(api)
    for position in (2, len(token) // 2, len(token) - 3):
        flipped = (
            token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        )
        assert error_of(api.list("PageToken=" + quote(flipped))) == (400, 21481)
    assert api.list("PageToken=" + quote(token)).status_code == 200


def test_a_token_for_other_filters_or_another_account_is_21481(api, other_api):
    token = next_token(api)
    assert error_of(api.list(f"To={quote(TO)}&PageToken={quote(token)}")) == (400, 21481)
    assert error_of(api.list(f"DateSent=2024-01-01&PageToken={quote(token)}")) == (400, 21481)
    assert error_of(other_api.list("PageToken=" + quote(token))) == (400, 21481)
    swapped = "PB" + token[2:]
    assert error_of(api.list("PageToken=" + quote(swapped))) == (400, 21481)


def test_sdk_style_form_content_type_on_get_is_accepted(api):
    response = api.request(
        "GET", api.base + "/Messages.json?PageSize=5",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status_code == 200


def test_non_ascii_digits_in_page_size_are_400(api):
    response = api.list("PageSize=%C2%B2")
    assert response.status_code == 400 and body(response)["code"] == 20001
