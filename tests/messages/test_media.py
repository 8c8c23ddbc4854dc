"""A message's Media (list, fetch, delete) and Feedback, against Twilio's schemas."""

import json

import pytest

from tests.conftest import body, error_of, make, mark_sent
from tests.oas import TWILIO_DOCUMENT, Document, errors_of

BACKENDS = ("moto", "dynalite", "memory")  # conftest.py: every test on each DynamoDB
TWILIO = Document(json.loads(TWILIO_DOCUMENT.read_text(encoding="utf-8")))
MEDIA_LIST = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json"
MEDIA = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json"
FEEDBACK = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Feedback.json"
VALIDATE = {
    "page": TWILIO.validator(TWILIO.response_schema(MEDIA_LIST, "GET", 200)),
    "media": TWILIO.validator(TWILIO.response_schema(MEDIA, "GET", 200)),
    "feedback": TWILIO.validator(TWILIO.response_schema(FEEDBACK, "POST", 200)),
}
PNG, JPG = "https://cdn.example/a.png", "https://cdn.example/photos/b.jpg?size=large"


def media_of(api, sid, query=""):
    response = api.request("GET", f"{api.base}/Messages/{sid}/Media.json{query}")
    assert response.status_code == 200, response.body
    page = body(response)
    assert errors_of(VALIDATE["page"], page) == []
    assert set(page) == {
        "media_list", "start", "end", "page", "page_size", "first_page_uri", "next_page_uri",
        "previous_page_uri", "uri",
    }  # fmt: skip
    return page


def test_a_media_message_lists_its_media_with_their_types(api):
    message = make(api, MediaUrl=[PNG, JPG], Body="look")
    assert message["num_media"] == "2"
    page = media_of(api, message["sid"])
    listed = page["media_list"]
    assert {m["content_type"] for m in listed} == {"image/png", "image/jpeg"}
    for media in listed:
        assert errors_of(VALIDATE["media"], media) == []
        assert media["parent_sid"] == message["sid"] and media["sid"].startswith("ME")
        assert media["uri"] == f"{api.base}/Messages/{message['sid']}/Media/{media['sid']}.json"
        assert media["date_created"] == message["date_created"]
        fetched = api.request("GET", media["uri"])
        assert body(fetched) == media
    assert page["uri"].startswith(f"{api.base}/Messages/{message['sid']}/Media.json?")


def test_a_media_item_keeps_its_dates_while_its_message_moves_on(api, clock):
    """Media never changes once stored: the message going on to `sent` an hour later does
    not touch its media's date_updated (a list and a fetch either side of it agree)."""
    clock("2024-01-02T10:00:00")
    message = make(api, MediaUrl=[PNG], Body="look")
    listed = media_of(api, message["sid"])["media_list"][0]
    clock("2024-01-02T11:00:00")
    mark_sent(api.account_sid, message["sid"])
    assert body(api.fetch(message["sid"]))["date_updated"] == "Tue, 02 Jan 2024 11:00:00 +0000"
    fetched = body(api.request("GET", listed["uri"]))
    assert fetched == listed
    assert fetched["date_updated"] == fetched["date_created"] == message["date_created"]


def test_deleting_a_media_keeps_the_others_and_their_sids(api):
    message = make(api, MediaUrl=[PNG, JPG, "https://cdn.example/c.gif"])
    first, second, third = (m["sid"] for m in media_of(api, message["sid"])["media_list"])
    target = next(
        m for m in media_of(api, message["sid"])["media_list"] if m["content_type"] == "image/jpeg"
    )
    response = api.request("DELETE", target["uri"])
    assert response.status_code == 204 and response.body in (b"", "")
    remaining = {m["sid"] for m in media_of(api, message["sid"])["media_list"]}
    assert remaining == {first, second, third} - {target["sid"]}
    assert error_of(api.request("GET", target["uri"])) == (404, 20404)
    assert error_of(api.request("DELETE", target["uri"])) == (404, 20404)
    assert body(api.fetch(message["sid"]))["num_media"] == "2"


def test_paging_and_date_filters(api):
    message = make(api, MediaUrl=[PNG, JPG, "https://cdn.example/c.gif"])
    first = media_of(api, message["sid"], "?PageSize=2")
    assert len(first["media_list"]) == 2 and first["next_page_uri"]
    second = body(api.request("GET", first["next_page_uri"]))
    assert len(second["media_list"]) == 1 and second["next_page_uri"] is None
    sids = [m["sid"] for m in first["media_list"] + second["media_list"]]
    assert len(set(sids)) == 3
    day = message["date_created"]
    assert len(media_of(api, message["sid"], "?DateCreated%3E=2000-01-01")["media_list"]) == 3
    assert media_of(api, message["sid"], "?DateCreated%3C=2000-01-01")["media_list"] == []
    assert day  # (the message's own date is today's)
    tampered = first["next_page_uri"].replace("PageToken=PA", "PageToken=PAx")
    assert error_of(api.request("GET", tampered)) == (400, 21481)


def test_deleting_the_message_deletes_its_media(api):
    message = make(api, MediaUrl=[PNG])
    media = media_of(api, message["sid"])["media_list"][0]
    assert api.delete(message["sid"]).status_code == 204
    assert error_of(api.request("GET", media["uri"])) == (404, 20404)
    path = f"{api.base}/Messages/{message['sid']}/Media.json"
    assert error_of(api.request("GET", path)) == (404, 20404)


def test_a_text_message_has_no_media(api):
    message = make(api)
    assert media_of(api, message["sid"])["media_list"] == []


def test_another_accounts_media_answers_like_missing_media(api, other_api):
    theirs = make(other_api, MediaUrl=[PNG])
    their_media = media_of(other_api, theirs["sid"])["media_list"][0]["sid"]
    missing_message = "MM" + "0" * 32
    foreign = api.request("GET", f"{api.base}/Messages/{theirs['sid']}/Media/{their_media}.json")
    missing = api.request("GET", f"{api.base}/Messages/{missing_message}/Media/{their_media}.json")
    assert error_of(foreign) == error_of(missing) == (404, 20404)
    assert body(foreign)["message"].replace(theirs["sid"], "X") == body(missing)["message"].replace(
        missing_message, "X"
    )
    assert (
        api.request(
            "DELETE", f"{api.base}/Messages/{theirs['sid']}/Media/{their_media}.json"
        ).status_code
        == 404
    )
    assert len(media_of(other_api, theirs["sid"])["media_list"]) == 1


def feedback(api, sid, **params):
    return api.request("POST", f"{api.base}/Messages/{sid}/Feedback.json", params=params)


def test_feedback_on_a_message_made_for_it(api):
    message = make(api, ProvideFeedback="true")
    given = feedback(api, message["sid"], Outcome="unconfirmed")
    assert given.status_code == 200
    first = body(given)
    assert errors_of(VALIDATE["feedback"], first) == []
    assert (first["outcome"], first["message_sid"]) == ("unconfirmed", message["sid"])
    assert first["uri"] == f"{api.base}/Messages/{message['sid']}/Feedback.json"
    second = body(feedback(api, message["sid"], Outcome="confirmed"))
    assert second["outcome"] == "confirmed" and second["date_created"] == first["date_created"]
    assert body(feedback(api, message["sid"]))["outcome"] == "confirmed"  # the default


@pytest.mark.parametrize(
    ("extra", "params", "expected"),
    [
        ({}, {"Outcome": "confirmed"}, (400, 20001)),  # not made with ProvideFeedback=true
        ({"ProvideFeedback": "true"}, {"Outcome": "maybe"}, (400, 20001)),
        ({"ProvideFeedback": "true"}, {"Bogus": "1"}, (400, 20001)),
    ],
)
def test_feedback_refusals(api, extra, params, expected):
    message = make(api, **extra)
    assert error_of(feedback(api, message["sid"], **params)) == expected


def test_feedback_on_a_missing_or_foreign_message_is_404(api, other_api):
    theirs = make(other_api, ProvideFeedback="true")
    assert error_of(feedback(api, theirs["sid"], Outcome="confirmed")) == (404, 20404)
    assert error_of(feedback(api, "SM" + "0" * 32, Outcome="confirmed")) == (404, 20404)
