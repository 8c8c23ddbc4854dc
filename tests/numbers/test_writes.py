"""IncomingPhoneNumbers' writes, on moto: register, update and delete; the owner item kept in
step; a number belonging to one account at most, even when many register it at once; the
DynamoDB calls each operation costs; and the From check of message creates.

Every write of a number is a TransactWriteItems, which dynalite lacks (test_numbers.py runs
the reads on both backends and checks that writes are a clean 503 there).
"""

import json

import pytest

import admin
from chalicelib import numbers, storage
from chalicelib.storage import numbers as stored_numbers
from chalicelib.storage import schema
from chalicelib.twilio import errors
from tests.conftest import body, error_of, ms, run_together
from tests.numbers.conftest import Numbers, assert_number
from tests.services.helpers import make_service

SMS_URL = "https://example.com/sms"


def created(numbers: Numbers, **params) -> dict:
    response = numbers.create(**params)
    assert response.status_code == 201, response.body
    assert response.headers["Content-Type"] == "application/json"
    return assert_number(body(response), "create")


def updated(numbers: Numbers, sid: str, **params) -> dict:
    response = numbers.update(sid, **params)
    assert response.status_code == 200, response.body
    return assert_number(body(response), "update")


def owner_of(phone_number: str) -> dict | None:
    return stored_numbers.get_owner(phone_number)


def assert_owner_mirrors(number: dict) -> None:
    """The owner item holds exactly the number's account, Sid and webhook fields (and the
    Messaging Service it is in: none here)."""
    mirrored = {name: number[name] for name in schema.OWNER_FIELDS}
    assert owner_of(number["phone_number"]) == {**mirrored, "service_sid": None}


# --- register ---------------------------------------------------------------------------


def test_register_with_only_a_phone_number(numbers, phone, clock):
    clock("2024-01-02T03:04:05")
    number = created(numbers, PhoneNumber=phone(100))
    exchange = phone(0)[5:8]
    assert number == {
        "account_sid": numbers.account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": False, "sms": True, "mms": True, "fax": False},
        "date_created": "Tue, 02 Jan 2024 03:04:05 +0000",
        "date_updated": "Tue, 02 Jan 2024 03:04:05 +0000",
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "friendly_name": f"(415) {exchange}-0100",
        "identity_sid": None,
        "origin": "hosted",
        "phone_number": phone(100),
        "sid": number["sid"],
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "status_callback": None,
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": f"{numbers.base}/{number['sid']}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_url": None,
        "bundle_sid": None,
        "voice_receive_mode": "voice",
        "status": "in-use",
        "type": "local",
    }
    # The Sid carries the creation millisecond, as Message Sids do: lists sort on it.
    assert number["sid"][2:14] == f"{ms('2024-01-02T03:04:05'):012x}"
    assert body(numbers.fetch(number["sid"])) == number
    assert_owner_mirrors(number)


def test_register_with_every_messaging_setting(numbers, phone):
    number = created(
        numbers,
        PhoneNumber=phone(1),
        FriendlyName="Support line",
        SmsUrl=SMS_URL,
        SmsMethod="get",
        SmsFallbackUrl="http://fallback.example.com/x?y=1",
        SmsFallbackMethod="GET",
        StatusCallback="https://example.com/status",
        StatusCallbackMethod="GET",
        ApiVersion="2008-08-01",
        AreaCode="212",  # ignored beside a PhoneNumber
    )
    assert number["friendly_name"] == "Support line"
    assert (number["sms_url"], number["sms_method"]) == (SMS_URL, "GET")
    assert number["sms_fallback_url"] == "http://fallback.example.com/x?y=1"
    assert (number["sms_fallback_method"], number["status_callback_method"]) == ("GET", "GET")
    assert number["status_callback"] == "https://example.com/status"
    assert number["api_version"] == "2008-08-01"
    assert_owner_mirrors(number)


def test_voice_emergency_and_regulatory_parameters_are_checked_then_ignored(numbers, phone):
    number = created(
        numbers,
        PhoneNumber=phone(1),
        VoiceUrl="https://example.com/voice",
        VoiceMethod="GET",
        VoiceFallbackUrl="https://example.com/voice-fallback",
        VoiceFallbackMethod="GET",
        VoiceCallerIdLookup="true",
        VoiceApplicationSid="AP" + "a" * 32,
        VoiceReceiveMode="fax",
        TrunkSid="TK" + "b" * 32,
        EmergencyStatus="Active",
        EmergencyAddressSid="AD" + "c" * 32,
        IdentitySid="RI" + "d" * 32,
        AddressSid="AD" + "e" * 32,
        BundleSid="BU" + "f" * 32,
        SmsApplicationSid="",  # blank: accepted (there is nothing to clear)
    )
    plain = created(numbers, PhoneNumber=phone(2))
    ignored = {"sid", "phone_number", "friendly_name", "uri", "date_created", "date_updated"}
    assert {k: v for k, v in number.items() if k not in ignored} == {
        k: v for k, v in plain.items() if k not in ignored
    }


@pytest.mark.parametrize(
    ("given", "e164", "kind", "friendly_name"),
    [
        ("+1 (800) 555-0100", "+18005550100", "tollFree", "(800) 555-0100"),
        ("+33 6 12 34 56 78", "+33612345678", "mobile", "06 12 34 56 78"),
        ("+442079460018", "+442079460018", "local", "020 7946 0018"),
        ("+15005550006", "+15005550006", "local", "(500) 555-0006"),
    ],
)
def test_numbers_are_stored_in_e164_with_type_and_national_name(
    numbers, given, e164, kind, friendly_name
):
    number = created(numbers, PhoneNumber=given)
    assert (number["phone_number"], number["type"]) == (e164, kind)
    assert number["friendly_name"] == friendly_name
    assert owner_of(e164)["sid"] == number["sid"]


def test_register_from_a_json_body(numbers, phone):
    response = numbers.api.request(
        "POST",
        numbers.base + ".json",
        body=json.dumps({"PhoneNumber": phone(1), "SmsUrl": SMS_URL, "VoiceCallerIdLookup": True}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.body
    assert assert_number(body(response), "create")["sms_url"] == SMS_URL


# --- one account at most ----------------------------------------------------------------


def test_a_number_belongs_to_one_account_and_never_says_whose(
    numbers,
    other_numbers,
    phone,
    storage_calls,
):
    mine = created(numbers, PhoneNumber=phone(1))
    theirs = created(other_numbers, PhoneNumber=phone(2))
    refusals = {
        "another account's": numbers.create(PhoneNumber=theirs["phone_number"]),
        "its own, again": numbers.create(PhoneNumber=mine["phone_number"], SmsUrl=SMS_URL),
        "another account's, formatted": numbers.create(PhoneNumber="+1 415 " + phone(2)[5:]),
    }
    shapes = set()
    for case, response in refusals.items():
        assert error_of(response) == (400, 21422), case
        shapes.add(response.body.replace(phone(1).encode(), b"N").replace(phone(2).encode(), b"N"))
        assert other_numbers.account_sid.encode() not in response.body
    assert len(shapes) == 1, "the three refusals read the same"
    assert "is not available" in body(refusals["its own, again"])["message"]
    # Nothing changed: not the other account's number, not who owns it, not this account's.
    assert body(other_numbers.fetch(theirs["sid"])) == theirs
    assert [n["sid"] for n in numbers.page()["incoming_phone_numbers"]] == [mine["sid"]]
    assert_owner_mirrors(mine)
    assert_owner_mirrors(theirs)


def test_a_deleted_number_is_free_for_any_account(numbers, other_numbers, phone):
    first = created(numbers, PhoneNumber=phone(1), SmsUrl=SMS_URL)
    assert numbers.delete(first["sid"]).status_code == 204
    second = created(other_numbers, PhoneNumber=phone(1))
    assert owner_of(phone(1))["account_sid"] == other_numbers.account_sid
    assert owner_of(phone(1))["sms_url"] is None
    assert error_of(numbers.fetch(first["sid"])) == (404, 20404)
    assert body(other_numbers.fetch(second["sid"])) == second


@pytest.fixture
def accounts(atomic_moto):
    return [admin.create_account()["account_sid"] for _ in range(4)]


THREADS = 12


def test_many_registering_one_number_at_once_exactly_one_wins(accounts, phone):
    """Twelve creates of one number from four accounts, all at once: one 201, eleven 21422,
    one owner item and one resource item."""

    def register_as(account_sid):
        return lambda: numbers.create(account_sid, {"PhoneNumber": [phone(1)]})

    calls = [register_as(accounts[i % len(accounts)]) for i in range(THREADS)]
    for _round in range(3):
        outcomes = run_together(calls)
        won = [result for kind, result in outcomes if kind == "ok"]
        assert len(won) == 1, outcomes
        assert sorted(o for o in outcomes if o[0] != "ok") == [(400, 21422)] * (THREADS - 1)
        winner = won[0]
        owner = owner_of(phone(1))
        assert (owner["account_sid"], owner["sid"]) == (winner.account_sid, winner.sid)
        listed = [
            number["sid"]
            for account_sid in accounts
            for number in numbers.list_page(account_sid, {})["incoming_phone_numbers"]
        ]
        assert listed == [winner.sid]
        numbers.delete(winner.account_sid, winner.sid)
        assert owner_of(phone(1)) is None


def test_updates_racing_each_other_all_land_and_the_owner_copy_follows(accounts, phone):
    account_sid = accounts[0]
    number = numbers.create(account_sid, {"PhoneNumber": [phone(1)]})
    settings = [
        {"SmsUrl": [f"https://example.com/{i}"]} if i % 3 == 0
        else {"SmsMethod": ["GET"]} if i % 3 == 1
        else {"FriendlyName": [f"name {i}"]}
        for i in range(9)
    ]  # fmt: skip
    outcomes = run_together(
        [lambda s=s: numbers.update(account_sid, number.sid, s) for s in settings]
    )
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    final = numbers.fetch(account_sid, number.sid)
    assert final.sms_method == "GET"
    assert final.sms_url in {f"https://example.com/{i}" for i in range(0, 9, 3)}
    assert final.friendly_name in {f"name {i}" for i in range(2, 9, 3)}
    # Every SmsUrl and FriendlyName update sets a value the number never had, so each one
    # wrote; of the three SmsMethod=GET, only the first had anything to change. Each write
    # moved the revision on by one: seven writes, none lost.
    assert final.revision == 1 + 3 + 3 + 1
    assert_owner_mirrors(final.to_json())


def test_updates_and_deletes_racing_leave_both_items_or_neither(accounts, phone):
    account_sid = accounts[0]
    for round_ in range(4):
        sid = numbers.create(account_sid, {"PhoneNumber": [phone(round_)]}).sid

        def update(params, sid=sid):
            return lambda: numbers.update(account_sid, sid, params)

        def delete(sid=sid):
            return lambda: numbers.delete(account_sid, sid)

        calls = [
            update({"SmsUrl": [SMS_URL]}),
            delete(),
            update({"StatusCallback": [SMS_URL]}),
            delete(),
        ]
        outcomes = run_together(calls)
        deletes = [outcomes[1], outcomes[3]]
        assert sorted(str(o[0]) for o in deletes) == ["404", "ok"], outcomes
        assert all(o[0] in ("ok", 404) for o in outcomes), outcomes
        assert owner_of(phone(round_)) is None
        with pytest.raises(errors.TwilioError):
            numbers.fetch(account_sid, sid)


# --- update -------------------------------------------------------------------------------


def test_update_changes_the_given_fields_only(numbers, phone, clock):
    clock("2024-01-02T03:04:05")
    number = created(
        numbers, PhoneNumber=phone(1), SmsUrl=SMS_URL, StatusCallback="https://s.test/cb"
    )
    clock("2024-01-03T00:00:00")
    changed = updated(numbers, number["sid"], SmsMethod="GET", FriendlyName="Front desk")
    assert changed == {
        **number,
        "sms_method": "GET",
        "friendly_name": "Front desk",
        "date_updated": "Wed, 03 Jan 2024 00:00:00 +0000",
    }
    assert body(numbers.fetch(number["sid"])) == changed
    assert_owner_mirrors(changed)


def test_blank_values_clear_urls_and_restore_defaults(numbers, phone):
    number = created(
        numbers,
        PhoneNumber=phone(1),
        SmsUrl=SMS_URL,
        SmsMethod="GET",
        SmsFallbackUrl="https://f.test/x",
        StatusCallback="https://s.test/cb",
        StatusCallbackMethod="GET",
        FriendlyName="named",
        ApiVersion="2008-08-01",
    )
    cleared = updated(
        numbers,
        number["sid"],
        SmsFallbackUrl="",
        StatusCallback="",
        SmsMethod="",
        StatusCallbackMethod="",
        FriendlyName="",
        ApiVersion="",
    )
    assert cleared["sms_url"] == SMS_URL
    assert cleared["sms_fallback_url"] is None and cleared["status_callback"] is None
    assert (cleared["sms_method"], cleared["status_callback_method"]) == ("POST", "POST")
    assert cleared["friendly_name"] == f"(415) {phone(0)[5:8]}-0001"
    assert cleared["api_version"] == "2010-04-01"
    assert_owner_mirrors(cleared)
    cleared = updated(numbers, number["sid"], SmsUrl="")
    assert cleared["sms_url"] is None
    assert_owner_mirrors(cleared)


def test_a_fallback_needs_an_sms_url(numbers, phone):
    number = created(numbers, PhoneNumber=phone(1), SmsUrl=SMS_URL, SmsFallbackUrl=SMS_URL)
    assert error_of(numbers.update(number["sid"], SmsUrl="")) == (400, 21406)
    both = updated(numbers, number["sid"], SmsUrl="", SmsFallbackUrl="")
    assert both["sms_url"] is None and both["sms_fallback_url"] is None
    plain = created(numbers, PhoneNumber=phone(2))
    assert error_of(numbers.update(plain["sid"], SmsFallbackUrl=SMS_URL)) == (400, 21406)
    assert updated(numbers, plain["sid"], SmsFallbackUrl=SMS_URL, SmsUrl=SMS_URL)["sms_url"]


def test_account_sid_may_name_the_numbers_own_account_only(numbers, other_numbers, phone):
    number = created(numbers, PhoneNumber=phone(1))
    assert updated(numbers, number["sid"], AccountSid=numbers.account_sid) == number
    response = numbers.update(number["sid"], AccountSid=other_numbers.account_sid)
    assert error_of(response) == (400, 20001)
    assert "does not move numbers" in body(response)["message"]
    assert owner_of(phone(1))["account_sid"] == numbers.account_sid


def test_update_costs_one_read_and_one_write(numbers, phone, storage_calls):
    number = created(numbers, PhoneNumber=phone(1))
    cases = [
        ({}, ["get_item"]),  # nothing to change: nothing written
        ({"FriendlyName": number["friendly_name"]}, ["get_item"]),
        ({"FriendlyName": "renamed"}, ["get_item", "update_item"]),  # the owner has no name
        ({"SmsUrl": SMS_URL}, ["get_item", "transact_write_items"]),
        ({"VoiceUrl": SMS_URL}, ["get_item"]),  # ignored
    ]
    for params, expected in cases:
        storage_calls.clear()
        updated(numbers, number["sid"], **params)
        assert [c[0] for c in storage_calls] == expected, params


def test_every_operation_costs(numbers, phone, storage_calls):
    """The DynamoDB calls of each operation, once the credential is cached."""
    numbers.page()  # caches the credential
    storage_calls.clear()
    number = created(numbers, PhoneNumber=phone(1), SmsUrl=SMS_URL)
    assert [c[0] for c in storage_calls] == ["transact_write_items"]
    (_, request, _), *_ = storage_calls
    assert [next(iter(item)) for item in request["TransactItems"]] == ["Put", "Put"]
    assert request["ClientRequestToken"]
    for operation, call, expected in [
        ("fetch", lambda: numbers.fetch(number["sid"]), ["get_item"]),
        ("list", lambda: numbers.list(), ["query", "batch_get_item"]),
        ("filtered list", lambda: numbers.list(FriendlyName="x"), ["query", "batch_get_item"]),
        ("empty list", lambda: numbers.list(Origin="twilio"), []),
        ("refused create", lambda: numbers.create(PhoneNumber=phone(1)), ["transact_write_items"]),
        ("invalid create", lambda: numbers.create(PhoneNumber="+1"), []),
        ("missing fetch", lambda: numbers.fetch("PN" + "0" * 32), ["get_item"]),
        ("malformed fetch", lambda: numbers.fetch("PN0"), []),
        ("delete", lambda: numbers.delete(number["sid"]), ["get_item", "transact_write_items"]),
    ]:
        storage_calls.clear()
        call()
        assert [c[0] for c in storage_calls] == expected, operation


# --- delete -------------------------------------------------------------------------------


def test_delete_is_204_and_takes_both_items(numbers, phone):
    number = created(numbers, PhoneNumber=phone(1), SmsUrl=SMS_URL)
    response = numbers.delete(number["sid"])
    assert (response.status_code, response.body) == (204, b"")
    assert error_of(numbers.fetch(number["sid"])) == (404, 20404)
    assert owner_of(phone(1)) is None
    assert numbers.page()["incoming_phone_numbers"] == []
    assert error_of(numbers.delete(number["sid"])) == (404, 20404)
    assert error_of(numbers.update(number["sid"], FriendlyName="x")) == (404, 20404)


def test_delete_when_the_owner_item_is_already_gone(numbers, phone):
    """Deleting never trips over a missing owner item (it cannot happen, but a half-restored
    table should not leave a number that can never be deleted)."""
    number = created(numbers, PhoneNumber=phone(1))
    storage.client.call("delete_item", Key=schema.owner_key(phone(1)))
    assert numbers.delete(number["sid"]).status_code == 204


def test_delete_keeps_a_new_registration_of_the_number(numbers, phone):
    """A delete that read the number before it was deleted and registered again must not
    take the new registration's owner item."""
    number = created(numbers, PhoneNumber=phone(1))
    stale = stored_numbers.get_number(numbers.account_sid, number["sid"])
    assert numbers.delete(number["sid"]).status_code == 204
    again = created(numbers, PhoneNumber=phone(1))
    with pytest.raises(storage.Missing):
        stored_numbers.delete_number(stale)
    assert owner_of(phone(1))["sid"] == again["sid"]
    with pytest.raises(stored_numbers.Stale):
        stored_numbers.update_number(stale, {"sms_url": SMS_URL})
    assert owner_of(phone(1))["sms_url"] is None


# --- tenant isolation of the writes -------------------------------------------------------


def test_an_update_or_delete_of_a_foreign_sid_changes_nothing(numbers, other_numbers, phone):
    theirs = created(other_numbers, PhoneNumber=phone(1), SmsUrl=SMS_URL)
    for response in (
        numbers.update(theirs["sid"], SmsUrl="https://attacker.test/x"),
        numbers.update(theirs["sid"], AccountSid=numbers.account_sid),
        numbers.delete(theirs["sid"]),
    ):
        assert error_of(response) == (404, 20404), response.body  # as a missing Sid
    assert body(other_numbers.fetch(theirs["sid"])) == theirs
    assert_owner_mirrors(theirs)


# --- the From check of message creates ----------------------------------------------------


@pytest.fixture
def require_registered_from(monkeypatch):
    monkeypatch.setenv("HERALD_REQUIRE_REGISTERED_FROM", "1")


def read_or_write(call) -> tuple[str, str]:
    """A recorded DynamoDB call as (operation, the key it read), or the operation alone."""
    operation, request, _ = call
    return operation, json.dumps(request.get("Key"), sort_keys=True) if "Key" in request else ""


def send(api, from_: str | None, **extra):
    params = {"To": "+14155550100", "Body": "hi", **extra}
    if from_ is not None:
        params["From"] = from_
    return api.create(**params)


def test_any_from_is_accepted_while_the_check_is_off(api, phone):
    assert send(api, phone(1)).status_code == 201


def test_with_the_check_on_a_from_must_be_the_accounts_number(
    api,
    numbers,
    other_numbers,
    phone,
    require_registered_from,
    monkeypatch,
    storage_calls,
):
    created(numbers, PhoneNumber=phone(1))
    created(other_numbers, PhoneNumber=phone(2))
    assert send(api, phone(1)).status_code == 201
    refused = {
        "unregistered": send(api, phone(3)),
        "another account's": send(api, phone(2)),
    }
    for case, response in refused.items():
        assert error_of(response) == (400, 21606), case
        assert "not a valid, SMS-capable inbound phone number" in body(response)["message"]
    assert refused["unregistered"].body.replace(phone(3).encode(), b"N") == refused[
        "another account's"
    ].body.replace(phone(2).encode(), b"N")
    # Not numbers: channel addresses, a Messaging Service (an alphanumeric sender ID must be
    # one of the account's AlphaSenders: tests/services/test_registered_from.py).
    assert send(api, "whatsapp:" + phone(3)).status_code == 201
    # (A From with a Messaging Service is checked against the service's senders instead.)
    assert (
        send(api, None, MessagingServiceSid=make_service(api.account_sid, phone(4))).status_code
        == 201
    )
    # The check costs one GetItem, of the number's owner item: the read that refuses
    # another account's number without the flag (test_sender_ownership.py), so the flag adds
    # no call: the same three either way (owner, opt-out, the message's put).
    storage_calls.clear()
    assert send(api, phone(1)).status_code == 201
    checked = [read_or_write(call) for call in storage_calls]
    monkeypatch.delenv("HERALD_REQUIRE_REGISTERED_FROM")
    storage_calls.clear()
    assert send(api, phone(1)).status_code == 201
    unchecked = [read_or_write(call) for call in storage_calls]
    owner_read = ("get_item", json.dumps(schema.owner_key(phone(1)), sort_keys=True))
    assert checked == unchecked
    assert [operation for operation, _ in checked] == ["get_item", "get_item", "put_item"]
    assert checked.count(owner_read) == 1
    monkeypatch.setenv("HERALD_REQUIRE_REGISTERED_FROM", "1")
    # A number deleted is no longer the account's.
    (sid,) = [
        n["sid"] for n in numbers.page()["incoming_phone_numbers"] if n["phone_number"] == phone(1)
    ]
    assert numbers.delete(sid).status_code == 204
    assert error_of(send(api, phone(1))) == (400, 21606)


def test_the_check_comes_after_the_other_refusals(api, phone, require_registered_from):
    assert error_of(send(api, phone(3), Body="")) == (400, 21602)
    assert error_of(send(api, "+1")) == (400, 21212)
