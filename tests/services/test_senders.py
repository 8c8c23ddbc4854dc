"""A service's senders: PhoneNumbers by PN Sid (a number in one service at most, whatever
races), AlphaSenders, ShortCodes refused; and the two sides of a link (the service's list,
the number's owner item) kept together by every path that changes either."""

import contextlib
import functools

from chalicelib.services import senders
from chalicelib.storage import numbers as stored_numbers
from tests.conftest import body, error_of, run_together
from tests.services.conftest import (
    ALPHA,
    ALPHAS,
    NUMBER,
    NUMBERS,
    SERVICES,
    assert_twilio,
    register,
)

US = "+14155550111"


def owner_service(phone_number: str) -> str | None:
    return stored_numbers.get_owner(phone_number)["service_sid"]


def test_a_number_is_added_listed_fetched_and_removed(v1, api):
    sid = v1.made()["sid"]
    pn = register(api, US)
    added = v1.add_number(sid, pn)
    assert added.status_code == 201
    link = assert_twilio(NUMBERS, "post", 201, body(added), "phone_number")
    assert (link["sid"], link["phone_number"], link["country_code"]) == (pn, US, "US")
    assert (link["service_sid"], link["capabilities"]) == (sid, ["SMS", "MMS"])
    assert owner_service(US) == sid
    page = assert_twilio(NUMBERS, "get", 200, body(v1.senders(sid)), "phone_number")
    assert page["phone_numbers"] == [link]
    one = v1.request("GET", f"{SERVICES}/{sid}/PhoneNumbers/{pn}")
    assert body(assert_twilio(NUMBER, "get", 200, body(one), "phone_number") and one) == link
    removed = v1.request("DELETE", f"{SERVICES}/{sid}/PhoneNumbers/{pn}")
    assert removed.status_code == 204
    assert body(v1.senders(sid))["phone_numbers"] == [] and owner_service(US) is None
    again = v1.request("DELETE", f"{SERVICES}/{sid}/PhoneNumbers/{pn}")
    assert error_of(again) == (404, 20404)


def test_a_number_is_in_one_service_at_most(v1, api, other_api):
    first, second = v1.made()["sid"], v1.made()["sid"]
    pn = register(api, US)
    assert v1.add_number(first, pn).status_code == 201
    assert error_of(v1.add_number(first, pn)) == (409, 21710)
    assert error_of(v1.add_number(second, pn)) == (409, 21712)
    # A Sid that is not one of the account's numbers (another's, a made-up one): 21421.
    theirs = register(other_api, "+14155550122")
    for number_sid in (theirs, "PN" + "0" * 32, "nonsense"):
        assert error_of(v1.add_number(first, number_sid)) == (400, 21421)
    missing = v1.request("POST", f"{SERVICES}/{first}/PhoneNumbers", params={})
    assert error_of(missing) == (400, 20001)


def test_adds_racing_for_one_number_leave_it_in_exactly_one_service(v1, api, atomic_moto):
    # atomic_moto: one request at a time, as DynamoDB applies them (plain moto checks a
    # condition and writes in two steps, so two racing transactions could both pass).
    # The threads call chalicelib directly: chalice's test client is not thread-safe (the
    # app keeps one current request, and each request swaps os.environ for a copy, which
    # racing threads left in place for every later test of the process).
    services = [v1.made()["sid"] for _ in range(6)]
    pn = register(api, US)
    add = functools.partial(senders.add_phone_number, api.account_sid)
    outcomes = run_together([functools.partial(add, s, {"PhoneNumberSid": [pn]}) for s in services])
    winners = [s for s, outcome in zip(services, outcomes, strict=True) if outcome[0] == "ok"]
    assert len(winners) == 1, outcomes
    assert sorted({o for o in outcomes if o[0] != "ok"}) == [(409, 21712)], outcomes
    listed = [s for s in services if body(v1.senders(s))["phone_numbers"]]
    assert listed == winners and owner_service(US) == winners[0]


def test_deleting_the_number_takes_it_out_of_its_service(v1, api):
    sid = v1.made()["sid"]
    pn = register(api, US)
    v1.add_number(sid, pn)
    deleted = api.request("DELETE", f"{api.base}/IncomingPhoneNumbers/{pn}.json")
    assert deleted.status_code == 204
    assert body(v1.senders(sid))["phone_numbers"] == []
    # Registered again, it is a new number, in no service.
    pn_again = register(api, US)
    assert owner_service(US) is None
    assert v1.add_number(sid, pn_again).status_code == 201


def test_deleting_the_service_frees_its_numbers_for_another(v1, api):
    old, new = v1.made()["sid"], v1.made()["sid"]
    pn = register(api, US)
    v1.add_number(old, pn)
    assert v1.delete(old).status_code == 204
    assert owner_service(US) is None
    assert v1.add_number(new, pn).status_code == 201


def test_a_delete_that_died_halfway_is_finished_by_the_next(v1, api, monkeypatch):
    from chalicelib.storage import service_senders

    old, new = v1.made()["sid"], v1.made()["sid"]
    pn = register(api, US)
    v1.add_number(old, pn)

    def crash(*_):
        raise RuntimeError("the function died")

    monkeypatch.setattr(service_senders, "unlink_all", crash)
    with contextlib.suppress(RuntimeError):
        v1.delete(old)
    monkeypatch.undo()
    # Marked, so it answers as missing; its number still points at it until it is finished,
    # and adding the number elsewhere finishes that share of it.
    assert error_of(v1.fetch(old)) == (404, 20404)
    assert v1.add_number(new, pn).status_code == 201
    assert owner_service(US) == new
    assert v1.delete(old).status_code == 204


def test_alpha_senders(v1):
    sid = v1.made()["sid"]
    response = v1.request(
        "POST", f"{SERVICES}/{sid}/AlphaSenders", params={"AlphaSender": "Herald"}
    )
    assert response.status_code == 201
    alpha = assert_twilio(ALPHAS, "post", 201, body(response), "alpha_sender")
    assert alpha["sid"].startswith("AI") and alpha["alpha_sender"] == "Herald"
    fetched = body(v1.request("GET", f"{SERVICES}/{sid}/AlphaSenders/{alpha['sid']}"))
    assert assert_twilio(ALPHA, "get", 200, fetched, "alpha_sender") == alpha
    assert body(v1.senders(sid, "AlphaSenders"))["alpha_senders"] == [alpha]
    second = v1.request("POST", f"{SERVICES}/{sid}/AlphaSenders", params={"AlphaSender": "Other"})
    assert error_of(second) == (409, 21710)
    for bad in ("", "123", "ThisIsTooLong", "Ünïcode"):
        refused = v1.request("POST", f"{SERVICES}/{sid}/AlphaSenders", params={"AlphaSender": bad})
        assert error_of(refused) == (400, 20001)
    removed = v1.request("DELETE", f"{SERVICES}/{sid}/AlphaSenders/{alpha['sid']}")
    assert removed.status_code == 204
    assert body(v1.senders(sid, "AlphaSenders"))["alpha_senders"] == []


def test_short_codes_are_refused_honestly(v1):
    sid = v1.made()["sid"]
    page = body(v1.senders(sid, "ShortCodes"))
    assert page["short_codes"] == [] and page["meta"]["key"] == "short_codes"
    added = v1.request(
        "POST", f"{SERVICES}/{sid}/ShortCodes", params={"ShortCodeSid": "SC" + "a" * 32}
    )
    assert error_of(added) == (400, 21421)
    assert b"no short codes" in added.body


def test_the_senders_list_pages(v1, api):
    sid = v1.made()["sid"]
    pns = [register(api, f"+1415555012{i}") for i in range(5)]
    for pn in pns:
        v1.add_number(sid, pn)
    seen, url = [], f"{SERVICES}/{sid}/PhoneNumbers?PageSize=2"
    while url:
        page = body(v1.request("GET", url))
        assert len(page["phone_numbers"]) <= 2
        seen += [n["sid"] for n in page["phone_numbers"]]
        next_url = page["meta"]["next_page_url"]
        url = next_url.split("/messaging", 1)[1] if next_url else None
    assert seen == sorted(pns)
