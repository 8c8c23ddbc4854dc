"""A From phone number is never another account's, whatever HERALD_REQUIRE_REGISTERED_FROM
says (chalicelib.messages.checks): with the flag off, the default of every stage and of
`make run`, an unregistered From is still taken (the sandbox, Twilio's magic test numbers),
but another account's IncomingPhoneNumber is refused with 21606, in the very answer the flag
gives a number no account holds. The flag-on rules are in test_writes.py; TwiML replies in
tests/inbound/test_reply_checks.py."""

import json

import pytest

from chalicelib.messages import checks
from chalicelib.storage import schema
from tests.conftest import FROM, body, error_of
from tests.numbers.test_writes import created, read_or_write, send
from tests.services.helpers import make_service

FLAG = "HERALD_REQUIRE_REGISTERED_FROM"


@pytest.fixture
def flag_off(monkeypatch):
    monkeypatch.delenv(FLAG, raising=False)


def same_answer(response, number: str, other, other_number: str) -> bool:
    """Whether two refusals are one answer but for the From each names."""
    return (
        response.status_code == other.status_code
        and response.headers.get("Content-Type") == other.headers.get("Content-Type")
        and response.body.replace(number.encode(), b"N")
        == other.body.replace(other_number.encode(), b"N")
    )


def froms(api) -> set[str]:
    return {m["from"] for m in body(api.list())["messages"]}


def test_another_accounts_number_is_refused_with_the_flag_off(
    api, other_api, numbers, other_numbers, phone, flag_off, monkeypatch
):
    created(numbers, PhoneNumber=phone(1))
    created(other_numbers, PhoneNumber=phone(2))
    foreign = send(api, phone(2))
    assert error_of(foreign) == (400, 21606)
    assert send(api, phone(1)).status_code == 201  # its own
    assert send(api, phone(3)).status_code == 201  # registered by no one
    assert send(api, FROM).status_code == 201  # +15005550006, Twilio's magic test number
    assert phone(2) not in froms(api) | froms(other_api)  # nothing stored, nothing sent
    # Said exactly as the flag says it of a number no account holds: no more is told.
    monkeypatch.setenv(FLAG, "1")
    unregistered = send(api, phone(3))
    assert same_answer(foreign, phone(2), unregistered, phone(3))
    assert "not a valid, SMS-capable inbound phone number" in foreign.body.decode()


def test_an_explicit_from_with_a_messaging_service_is_never_another_accounts(
    api, numbers, other_numbers, phone, flag_off, monkeypatch
):
    """End User Messaging sends a service's message from its explicit From
    (chalicelib.carriers.eum_request), so the service does not make it the account's."""
    created(numbers, PhoneNumber=phone(1))
    created(other_numbers, PhoneNumber=phone(2))
    service = make_service(api.account_sid, phone(4))
    foreign = send(api, phone(2), MessagingServiceSid=service)
    assert error_of(foreign) == (400, 21606)
    for own_or_nobodys in (phone(4), phone(1), phone(3)):
        assert send(api, own_or_nobodys, MessagingServiceSid=service).status_code == 201
    assert send(api, None, MessagingServiceSid=service).status_code == 201
    monkeypatch.setenv(FLAG, "1")
    unregistered = send(api, phone(3), MessagingServiceSid=service)
    assert same_answer(foreign, phone(2), unregistered, phone(3))


def owner_reads(api, storage_calls, number: str, from_: str | None, **extra):
    """Send from `from_`: the answer's status, the GetItems of `number`'s owner item it made,
    and the operations of every DynamoDB call it made."""
    storage_calls.clear()
    status = send(api, from_, **extra).status_code
    key = json.dumps(schema.owner_key(number), sort_keys=True)
    reads = [c for c in storage_calls if read_or_write(c) == ("get_item", key)]
    return status, reads, [operation for operation, _, _ in storage_calls]


def test_the_ownership_check_is_one_consistent_getitem_and_only_where_needed(
    api, numbers, other_numbers, phone, flag_off, storage_calls
):
    created(numbers, PhoneNumber=phone(1))
    created(other_numbers, PhoneNumber=phone(2))
    service = make_service(api.account_sid, phone(4))
    send(api, None, MessagingServiceSid=service)  # the service's pool, now cached

    def reads_of(number: str, **extra):
        return owner_reads(api, storage_calls, number, number, **extra)

    status, reads, operations = reads_of(phone(1))
    assert status == 201 and operations == ["get_item", "get_item", "put_item"]
    ((_, request, _),) = reads  # the owner, then the opt-out, then the message
    assert request["ConsistentRead"] is True
    status, reads, operations = reads_of(phone(3))
    assert status == 201 and len(reads) == 1 and len(operations) == 3
    # Refused at the owner read: no opt-out read, nothing written.
    status, reads, operations = reads_of(phone(2))
    assert status == 400 and len(reads) == 1 and operations == ["get_item"]
    # A sender of the account's own service (its pool is the account's) needs no read.
    assert reads_of(phone(4), MessagingServiceSid=service)[:2] == (201, [])
    status, reads, _ = reads_of(phone(2), MessagingServiceSid=service)
    assert status == 400 and len(reads) == 1
    # Not phone numbers: nothing to read.
    assert owner_reads(api, storage_calls, phone(5), "whatsapp:" + phone(5))[:2] == (201, [])


def test_without_the_flag_a_yes_is_kept_for_seconds_and_a_no_is_read_again(
    api, other_api, numbers, other_numbers, phone, flag_off, storage_calls, monkeypatch
):
    """10,000 messages a second from one number must not read its owner item 10,000 times a
    second (a partition serves 3,000 reads): a yes is kept per container for
    SENDABLE_SECONDS, the bound a Messaging Service's pool has too."""
    now = {"s": 0.0}
    monkeypatch.setattr(checks, "_monotonic", lambda: now["s"])

    def reads_of(number: str) -> tuple[int, int]:
        status, reads, _ = owner_reads(api, storage_calls, number, number)
        return status, len(reads)

    created(numbers, PhoneNumber=phone(1))
    assert [reads_of(phone(1)) for _ in range(3)] == [(201, 1), (201, 0), (201, 0)]
    assert error_of(send(other_api, phone(1))) == (400, 21606)  # a yes is the account's
    # A number no account holds, taken; registered by another account, taken still for the
    # rest of the period (the bound), then refused, and every refusal reads again.
    assert reads_of(phone(3)) == (201, 1)
    theirs = created(other_numbers, PhoneNumber=phone(3))
    now["s"] += checks.SENDABLE_SECONDS - 0.5
    assert reads_of(phone(3)) == (201, 0)
    now["s"] += 0.5
    assert [reads_of(phone(3)) for _ in range(2)] == [(400, 1), (400, 1)]
    # So a number that becomes sendable is taken at once.
    assert other_numbers.delete(theirs["sid"]).status_code == 204
    assert reads_of(phone(3)) == (201, 1)
    # The flag keeps nothing: what it decides is read from the stored item each time.
    monkeypatch.setenv(FLAG, "1")
    assert [reads_of(phone(1)) for _ in range(2)] == [(201, 1), (201, 1)]
    assert reads_of(phone(3)) == (400, 1)  # kept as sendable a moment ago, without the flag
