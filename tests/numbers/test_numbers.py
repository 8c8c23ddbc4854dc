"""IncomingPhoneNumbers on every backend: fetch, list, paging and filters, every refusal that
comes before a write, and tenant isolation of every route.

BACKENDS runs this module on moto, on dynalite and on the in-memory DynamoDB (conftest.py).
dynalite 4.0.0 has no
TransactWriteItems, which every write of a number is (one transaction of both its items):
there numbers are registered by putting the same two items one after the other (the
`register` fixture), a create, update or delete that gets as far as its write answers a clean
503, and test_writes.py covers the writes on moto.
"""

import copy
import json
import re
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from chalicelib.accounts import credentials
from chalicelib.storage import numbers as stored_numbers
from tests.conftest import basic, body, error_of, normalized_calls
from tests.numbers.conftest import (
    CONTRACT,
    INSTANCE,
    LIST,
    TWILIO,
    Numbers,
    assert_number,
    assert_page,
)

BACKENDS = ("moto", "dynalite", "memory")  # conftest.py: every test on each DynamoDB
MISSING = "PN" + "0123456789abcdef" * 2


def sids_of(page: dict) -> list[str]:
    return [number["sid"] for number in page["incoming_phone_numbers"]]


def token_of(uri: str) -> str:
    return parse_qs(urlsplit(uri).query)["PageToken"][0]


# --- fetch ------------------------------------------------------------------------------


def test_fetch_answers_the_number_as_registered(numbers, register, phone):
    registered = register(
        numbers,
        phone(100),
        SmsUrl="https://example.com/sms",
        SmsMethod="GET",
        StatusCallback="https://example.com/status",
    )
    response = numbers.fetch(registered["sid"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    fetched = assert_number(body(response), "fetch")
    assert fetched == registered
    assert fetched["phone_number"] == phone(100)
    assert fetched["friendly_name"] == f"(415) {phone(100)[5:8]}-0100"
    assert (fetched["sms_url"], fetched["sms_method"]) == ("https://example.com/sms", "GET")
    assert fetched["sms_fallback_url"] is None and fetched["sms_fallback_method"] == "POST"
    assert fetched["status_callback"] == "https://example.com/status"
    assert fetched["uri"] == f"{numbers.base}/{registered['sid']}.json"
    assert re.fullmatch(r"PN[0-9a-f]{32}", fetched["sid"])


@pytest.mark.parametrize(
    "sid",
    [
        MISSING,
        "PN" + "0" * 31,
        "PN" + "A" * 32,
        "SM" + "0" * 32,
        "whatever",
        "PN" + "0" * 32 + "\n",
    ],
)
def test_fetch_of_a_missing_or_malformed_sid_is_20404(numbers, sid):
    response = numbers.fetch(quote(sid))
    assert error_of(response) == (404, 20404)
    assert body(response)["message"].endswith("was not found")


def test_a_sid_without_json_is_not_found(numbers, register, phone):
    sid = register(numbers, phone(1))["sid"]
    response = numbers.api.request("GET", f"{numbers.base}/{sid}")
    assert error_of(response) == (404, 20404)


def test_get_owner_answers_who_owns_a_number_and_where_its_texts_go(numbers, register, phone):
    registered = register(
        numbers, phone(7), SmsUrl="https://example.com/in", SmsFallbackUrl="https://f.test/x"
    )
    assert stored_numbers.get_owner(phone(7)) == {
        "account_sid": numbers.account_sid,
        "sid": registered["sid"],
        "phone_number": phone(7),
        "sms_url": "https://example.com/in",
        "sms_method": "POST",
        "sms_fallback_url": "https://f.test/x",
        "sms_fallback_method": "POST",
        "status_callback": None,
        "status_callback_method": "POST",
        "service_sid": None,  # the Messaging Service it is in: none
    }
    assert stored_numbers.get_owner(phone(8)) is None


# --- list and paging --------------------------------------------------------------------


def test_an_empty_list_is_twilio_page_json(numbers):
    page = numbers.page()
    base = f"{numbers.base}.json"
    assert page == {
        "incoming_phone_numbers": [],
        "start": 0,
        "end": 0,
        "page": 0,
        "page_size": 50,
        "first_page_uri": f"{base}?PageSize=50&Page=0",
        "next_page_uri": None,
        "previous_page_uri": None,
        "uri": f"{base}?PageSize=50&Page=0",
    }


def test_the_list_is_newest_first_and_pages_both_ways(numbers, register, phone):
    made = [register(numbers, phone(i))["sid"] for i in range(5)]
    newest_first = sorted(made, reverse=True)
    # A Sid starts with its creation time in ms; two made in the same millisecond (the
    # in-memory backend is that fast) order by their random rest, as the list does.
    times = [sid[2:14] for sid in made]
    assert times == sorted(times), "Sids carry their creation time"
    assert sids_of(numbers.page()) == newest_first

    first = numbers.page(PageSize=2)
    assert sids_of(first) == newest_first[:2]
    assert (first["start"], first["end"], first["page"]) == (0, 1, 0)
    assert first["previous_page_uri"] is None
    second = body(numbers.api.request("GET", first["next_page_uri"]))
    assert_page(second)
    assert sids_of(second) == newest_first[2:4]
    assert (second["start"], second["end"], second["page"]) == (2, 3, 1)
    assert token_of(second["uri"]) == token_of(first["next_page_uri"])
    third = body(numbers.api.request("GET", second["next_page_uri"]))
    assert sids_of(third) == newest_first[4:] and third["next_page_uri"] is None
    assert (third["start"], third["end"]) == (4, 4)
    # And back again.
    back = body(numbers.api.request("GET", third["previous_page_uri"]))
    assert sids_of(back) == newest_first[2:4]
    back = body(numbers.api.request("GET", back["previous_page_uri"]))
    assert sids_of(back) == newest_first[:2] and back["previous_page_uri"] is None
    assert numbers.walk(page_size=1) == newest_first
    assert numbers.walk(page_size=1000) == newest_first


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("PageSize=0", 20001),
        ("PageSize=1001", 20001),
        ("PageSize=ten", 20001),
        ("Page=-1", 20001),
        ("PageToken=PAnotatoken", 21481),
        ("PageToken=XYabc", 21481),
        ("Colour=red", 20001),
        ("To=%2B14155550100", 20001),
        ("Beta=maybe", 20001),
        ("PhoneNumber=1&PhoneNumber=2", 20001),
    ],
)
def test_bad_list_parameters(numbers, query, code):
    assert error_of(numbers.list(query)) == (400, code)


def test_a_page_token_is_good_for_its_own_filters_only(numbers, register, phone):
    for i in range(3):
        register(numbers, phone(i), FriendlyName="same")
    page = numbers.page(PageSize=1)
    token = token_of(page["next_page_uri"])
    assert numbers.list(f"PageSize=1&PageToken={token}").status_code == 200
    for other in ("FriendlyName=same", "PhoneNumber=415", "Origin=hosted", "Beta=true"):
        response = numbers.list(f"PageSize=1&{other}&PageToken={token}")
        assert error_of(response) == (400, 21481), other
    filtered = numbers.page(PageSize=1, FriendlyName="same")
    token = token_of(filtered["next_page_uri"])
    assert numbers.list(f"PageSize=1&FriendlyName=same&PageToken={token}").status_code == 200
    assert error_of(numbers.list(f"PageSize=1&PageToken={token}")) == (400, 21481)


# --- filters ----------------------------------------------------------------------------


@pytest.fixture
def four(numbers, register, phone) -> dict[str, str]:
    """Four numbers of this test's exchange: name -> Sid."""
    return {
        "a": register(numbers, phone(1234), FriendlyName="Support")["sid"],
        "b": register(numbers, phone(1299), FriendlyName="Sales")["sid"],
        "c": register(numbers, phone(5634), FriendlyName="Support")["sid"],
        "d": register(numbers, phone(9999))["sid"],
    }


def filtered(numbers: Numbers, four: dict, **query) -> set[str]:
    names = {sid: name for name, sid in four.items()}
    page = numbers.page(**query)
    found = {names[sid] for sid in sids_of(page)}
    # Every filter is echoed in the page's URIs, in Twilio's order.
    echoed = [(k, v) for k, v in parse_qs(urlsplit(page["uri"]).query).items() if k in query]
    assert sorted(echoed) == sorted((k, [str(v)]) for k, v in query.items())
    assert numbers.walk(page_size=1, **query) == sids_of(page), "paging sees the same"
    return found


def test_friendly_name_filter_is_exact(numbers, four, phone):
    assert filtered(numbers, four, FriendlyName="Support") == {"a", "c"}
    assert filtered(numbers, four, FriendlyName="Sales") == {"b"}
    assert filtered(numbers, four, FriendlyName="support") == set()
    assert filtered(numbers, four, FriendlyName="Sup") == set()
    default = f"(415) {phone(0)[5:8]}-9999"
    assert filtered(numbers, four, FriendlyName=default) == {"d"}


def contains(number: str, pattern: str) -> bool:
    """The reference: `pattern`'s digits (`*` any one) appear in the number's digits, at
    the start when the pattern starts with +."""
    digits, anchored = number.lstrip("+"), pattern.startswith("+")
    pattern = pattern.lstrip("+")
    starts = [0] if anchored else range(len(digits) - len(pattern) + 1)
    return any(
        len(digits) - start >= len(pattern)
        and all(p in ("*", d) for p, d in zip(pattern, digits[start:], strict=False))
        for start in starts
    )


def test_phone_number_filter_takes_partial_numbers_and_wildcards(numbers, four, phone):
    exchange = phone(0)[5:8]
    by_name = {"a": phone(1234), "b": phone(1299), "c": phone(5634), "d": phone(9999)}
    exact = {
        phone(1234): {"a"},
        phone(1234)[1:]: {"a"},  # without the +: contained anywhere
        f"415{exchange}1234": {"a"},
        f"({exchange}) 12-34": {"a"},  # spaces, brackets and dashes are ignored
        f"{exchange}.56.34": {"c"},
        f"+1415{exchange}": {"a", "b", "c", "d"},  # a prefix
        f"+1 (415) {exchange}-": {"a", "b", "c", "d"},
        "+1415*": {"a", "b", "c", "d"},
        f"{exchange}12**": {"a", "b"},
        f"{exchange}*6*4": {"c"},
        "+2": set(),  # anchored: no number starts +2
        "+1416": set(),
        f"{phone(1234)}5": set(),  # longer than any number
        "abc": set(),  # not digits: matches nothing
        "12;34": set(),
        "+": set(),
    }
    for query, expected in exact.items():
        assert filtered(numbers, four, PhoneNumber=query) == expected, query
    # Short patterns can also meet the exchange's digits: the reference says where.
    for query in ("34", "*34", "**99", "1234*", "99", "4*5", "*"):
        expected = {name for name, number in by_name.items() if contains(number, query)}
        assert filtered(numbers, four, PhoneNumber=query) == expected, query
    assert contains("+14152001234", "*34") and not contains("+14152001234", "1234*")


def test_filters_combine(numbers, four):
    assert filtered(numbers, four, FriendlyName="Support", PhoneNumber="56") == {"c"}
    assert filtered(numbers, four, FriendlyName="Sales", PhoneNumber="56") == set()


def test_origin_and_beta_filters(numbers, four):
    everything = {"a", "b", "c", "d"}
    assert filtered(numbers, four, Origin="hosted") == everything
    assert filtered(numbers, four, Origin="twilio") == set()
    assert filtered(numbers, four, Beta="true") == everything
    assert filtered(numbers, four, Beta="false") == everything


def test_a_blank_filter_is_no_filter(numbers, four):
    page = numbers.page(FriendlyName="", PhoneNumber="", Beta="", Origin="")
    assert set(sids_of(page)) == set(four.values())


def test_a_filtered_page_reads_on_until_it_is_full(numbers, register, phone, monkeypatch):
    """A filter that matches few numbers still fills its pages and walks every match, even
    when the matches are further apart than one read."""
    monkeypatch.setattr("chalicelib.numbers.listing.FILTERED_CHUNK", 3)
    made = [register(numbers, phone(i), FriendlyName="x" if i % 4 == 0 else "y") for i in range(13)]
    wanted = sorted((n["sid"] for n in made if n["friendly_name"] == "x"), reverse=True)
    assert len(wanted) == 4
    page = numbers.page(FriendlyName="x", PageSize=3)
    assert sids_of(page) == wanted[:3] and page["next_page_uri"] is not None
    assert numbers.walk(page_size=2, FriendlyName="x") == wanted
    assert numbers.walk(page_size=1, FriendlyName="x") == wanted


# --- refusals before any write ------------------------------------------------------------


NO_NUMBER = {"PhoneNumber": None}  # the case sends no PhoneNumber at all


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (NO_NUMBER, 21421),
        ({**NO_NUMBER, "AreaCode": "415"}, 21452),
        ({"PhoneNumber": "", "AreaCode": "415"}, 21452),
        ({"PhoneNumber": "4155550100"}, 21421),
        ({"PhoneNumber": "+1415555010"}, 21421),
        ({"PhoneNumber": "+999"}, 21421),
        ({"PhoneNumber": "whatsapp:+14155550100"}, 21421),
        ({"PhoneNumber": "Herald"}, 21421),
        ({"SmsUrl": "ftp://example.com/x"}, 21502),
        ({"SmsUrl": "not a url"}, 21502),
        ({"SmsFallbackUrl": "https://"}, 21502),
        ({"StatusCallback": "//example.com"}, 21502),
        ({"SmsUrl": "https://example.com/" + "x" * 4000}, 21502),
        ({"VoiceUrl": "nope"}, 21502),
        ({"VoiceFallbackUrl": "mailto:a@b.c"}, 21502),
        ({"SmsMethod": "PUT"}, 20001),
        ({"StatusCallbackMethod": "DELETE"}, 20001),
        ({"VoiceMethod": "PATCH"}, 20001),
        ({"FriendlyName": "x" * 65}, 20001),
        ({"ApiVersion": "2020-01-01"}, 20001),
        ({"SmsApplicationSid": "AP" + "0" * 32}, 20001),
        ({"VoiceApplicationSid": "XX" + "0" * 32}, 20001),
        ({"TrunkSid": "TK123"}, 20001),
        ({"VoiceReceiveMode": "telex"}, 20001),
        ({"EmergencyStatus": "active"}, 20001),
        ({"VoiceCallerIdLookup": "yes"}, 20001),
        ({"Colour": "red"}, 20001),
        ({"Sid": "PN" + "0" * 32}, 20001),
        ({"AccountSid": "AC" + "0" * 32}, 20001),  # create takes none
        ({"SmsFallbackUrl": "https://example.com/fallback"}, 21406),
    ],
)
def test_create_refusals(numbers, phone, params, code):
    params = {"PhoneNumber": phone(1), **params}
    if params["PhoneNumber"] is None:
        del params["PhoneNumber"]
    response = numbers.create(**params)
    assert error_of(response) == (400, code), response.body
    assert stored_numbers.get_owner(phone(1)) is None
    assert numbers.page()["incoming_phone_numbers"] == []


def test_the_refusals_say_what_herald_does_instead(numbers):
    bought = body(numbers.create(AreaCode="415"))
    assert "does not buy" in bought["message"] and "PhoneNumber" in bought["message"]
    missing = body(numbers.create())
    assert "E.164" in missing["message"] and "does not buy" in missing["message"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"PhoneNumber": "+14155550100"}, 20001),  # a number is not renumbered
        ({"SmsUrl": "nope"}, 21502),
        ({"SmsMethod": "HEAD"}, 20001),
        ({"AccountSid": "AC" + "1" * 32}, 20001),
        ({"SmsApplicationSid": "AP" + "0" * 32}, 20001),
        ({"Colour": "red"}, 20001),
    ],
)
def test_update_refusals_come_before_the_lookup(numbers, register, phone, params, code):
    own = register(numbers, phone(1))
    for sid in (own["sid"], MISSING):
        assert error_of(numbers.update(sid, **params)) == (400, code)
    assert body(numbers.fetch(own["sid"])) == own


def test_writes_are_201_or_a_clean_503_where_there_are_no_transactions(
    numbers, register, phone, backend
):
    """Every write of a number is one TransactWriteItems: dynalite answers a clean 20503 and
    keeps nothing half-written."""
    sid = register(numbers, phone(2))["sid"]
    created = numbers.create(PhoneNumber=phone(1))
    updated = numbers.update(sid, SmsUrl="https://example.com/new")
    deleted = numbers.delete(sid)
    if backend == "dynalite":
        for response in (created, updated, deleted):
            assert error_of(response) == (503, 20503)
            assert response.headers["Retry-After"] == "1"
        assert stored_numbers.get_owner(phone(1)) is None
        assert body(numbers.fetch(sid))["sms_url"] is None
        assert stored_numbers.get_owner(phone(2))["sms_url"] is None
    else:
        assert (created.status_code, updated.status_code, deleted.status_code) == (201, 200, 204)


def test_update_and_delete_of_a_missing_sid_are_20404(numbers):
    assert error_of(numbers.update(MISSING, FriendlyName="x")) == (404, 20404)
    assert error_of(numbers.update("PNnope", FriendlyName="x")) == (404, 20404)
    assert error_of(numbers.delete(MISSING)) == (404, 20404)
    assert error_of(numbers.delete("nope")) == (404, 20404)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [(".json", {"GET", "POST"}), (f"/{MISSING}.json", {"GET", "POST", "DELETE"})],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_unserved_methods_are_405_with_allow(numbers, path, allowed, method):
    if method in allowed:
        return
    response = numbers.api.request(method, numbers.base + path, body=b"")
    assert error_of(response) == (405, 20004)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_a_json_body_is_read_like_a_form(numbers, phone, backend):
    response = numbers.api.request(
        "POST",
        numbers.base + ".json",
        body=json.dumps({"PhoneNumber": phone(3), "SmsUrl": "nope"}),
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response) == (400, 21502)
    response = numbers.api.request(
        "POST", numbers.base + ".json", body="x", headers={"Content-Type": "text/plain"}
    )
    assert error_of(response) == (415, 20001)


# --- tenant isolation ---------------------------------------------------------------------


@pytest.fixture
def two_accounts(numbers, other_numbers, register, phone):
    """(own number, the other account's number)."""
    return register(numbers, phone(10)), register(other_numbers, phone(20), FriendlyName="theirs")


OPERATIONS = {
    "fetch": ("GET", None),
    "update": ("POST", {"FriendlyName": "mine now"}),
    "update (no change)": ("POST", {}),
    "delete": ("DELETE", None),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_foreign_sid_answers_byte_for_byte_like_a_missing_one(
    numbers,
    other_numbers,
    two_accounts,
    operation,
    storage_calls,
):
    own, foreign = two_accounts
    method, params = OPERATIONS[operation]
    missing = "PN" + foreign["sid"][2:14] + "0" * 20
    answers, traces = {}, {}
    for name, sid in (("foreign", foreign["sid"]), ("missing", missing)):
        credentials.forget()  # both meet the same (cold) credential cache
        storage_calls.clear()
        response = numbers.api.request(method, f"{numbers.base}/{sid}.json", params=params)
        answers[name] = (
            response.status_code,
            response.body.replace(sid.encode(), b"PN<sid>"),
            dict(response.headers),
        )
        traces[name] = normalized_calls(storage_calls, sid)
    assert answers["foreign"] == answers["missing"]
    assert answers["foreign"][0] == 404 and json.loads(answers["foreign"][1])["code"] == 20404
    assert other_numbers.account_sid.encode() not in answers["foreign"][1]
    assert traces["foreign"] and traces["foreign"] == traces["missing"]
    for _operation, request, _outcome in traces["foreign"]:
        assert other_numbers.account_sid not in request
    # The other account's number is untouched, and so is who owns it.
    assert body(other_numbers.fetch(foreign["sid"])) == foreign
    assert stored_numbers.get_owner(foreign["phone_number"])["account_sid"] == (
        other_numbers.account_sid
    )
    # Control: the account's own number is found (and goes on to its write).
    credentials.forget()
    storage_calls.clear()
    numbers.api.request(method, f"{numbers.base}/{own['sid']}.json", params=params)
    assert normalized_calls(storage_calls, own["sid"]) != traces["missing"]


def test_lists_and_filters_never_show_another_accounts_numbers(
    numbers, other_numbers, two_accounts, register, phone
):
    own, foreign = two_accounts
    for i in range(3):
        register(other_numbers, phone(30 + i), FriendlyName="theirs")
    queries = [
        {},
        {"FriendlyName": "theirs"},
        {"PhoneNumber": foreign["phone_number"]},
        {"PhoneNumber": phone(0)[:-4]},
        {"PhoneNumber": "*"},
        {"Origin": "hosted"},
    ]
    for query in queries:
        mine = set(sids_of(numbers.page(**query)))
        assert mine <= {own["sid"]}, query
        assert set(numbers.walk(page_size=1, **query)) == mine
    assert set(sids_of(numbers.page())) == {own["sid"]}
    assert len(sids_of(other_numbers.page(FriendlyName="theirs"))) == 4


def test_a_page_token_of_another_account_is_refused(numbers, other_numbers, register, phone):
    for i in range(2):
        register(numbers, phone(i))
        register(other_numbers, phone(50 + i))
    for query in ({"PageSize": 1}, {"PageSize": 1, "PhoneNumber": "415"}):
        theirs = other_numbers.page(**query)
        token = token_of(theirs["next_page_uri"])
        response = numbers.list(urlencode({**query, "PageToken": token}))
        assert error_of(response) == (400, 21481)
        assert other_numbers.list(urlencode({**query, "PageToken": token})).status_code == 200


def test_every_route_wants_this_accounts_credentials(numbers, other_numbers, two_accounts):
    own, _ = two_accounts
    paths = [
        ("GET", f"{numbers.base}.json"),
        ("POST", f"{numbers.base}.json"),
        ("GET", f"{numbers.base}/{own['sid']}.json"),
        ("POST", f"{numbers.base}/{own['sid']}.json"),
        ("DELETE", f"{numbers.base}/{own['sid']}.json"),
    ]
    reference = numbers.api.request("GET", f"{numbers.base}.json", auth=False)
    assert error_of(reference) == (401, 20003)
    for method, path in paths:
        for header in (False, other_numbers.api.auth, basic(numbers.account_sid, "0" * 32)):
            response = numbers.api.request(method, path, params={"FriendlyName": "x"}, auth=header)
            assert (response.status_code, response.body) == (401, reference.body), (method, path)
    assert body(numbers.fetch(own["sid"])) == own


# --- the contract -------------------------------------------------------------------------


def test_the_vendored_contract_is_the_shared_one(shared_twilio):
    name = CONTRACT.name
    assert CONTRACT.read_bytes() == (shared_twilio / name).read_bytes()
    assert set(TWILIO.document["paths"]) == {LIST, INSTANCE}


def twilio_example(operation: str, status: str, name: str) -> dict:
    path = LIST if operation == "post" else INSTANCE
    responses = TWILIO.operation(path, operation)["responses"]
    return copy.deepcopy(
        responses[status]["content"]["application/json"]["examples"][name]["value"]
    )


def test_twilio_own_examples_pass_so_the_check_is_not_too_strict():
    # (Its fetch and list examples are not: they show "" for unset Sids and URLs, which its
    # own patterns refuse. Herald shows null there, as the schema allows.)
    assert_number(twilio_example("post", "201", "create"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sid", "SM" + "a" * 32),
        ("account_sid", "AC123"),
        ("capabilities", ["sms"]),
        ("capabilities", {"sms": "true"}),
        ("date_created", "2024-01-02T03:04:05Z"),
        ("sms_method", "PUT"),
        ("sms_url", 1),
        ("beta", "false"),
        ("emergency_status", "active"),
        ("emergency_status", None),
        ("voice_receive_mode", None),
        ("address_requirements", "some"),
        ("phone_number", "+1 415 555 0100"),
    ],
)
def test_a_mistyped_field_fails_the_check(field, value):
    example = twilio_example("post", "201", "create")
    with pytest.raises(AssertionError):
        assert_number({**example, field: value})


def test_a_missing_or_extra_property_fails_the_check():
    example = twilio_example("post", "201", "create")
    with pytest.raises(AssertionError, match="lacks"):
        assert_number({**example, "subresource_uris": {}})
    del example["status"]
    with pytest.raises(AssertionError, match="missing"):
        assert_number(example)
