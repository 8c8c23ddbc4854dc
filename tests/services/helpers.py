"""Messaging Services for tests: made through the resource's own functions (no HTTP), so
that a Messages test that needs a service (scheduling asks for one) can have one."""

import pytest

from chalicelib import numbers, services
from chalicelib.services import senders


def make_service(account_sid: str, *phone_numbers: str, **settings: str) -> str:
    """A new service of the account (FriendlyName "test", `settings` as its create's
    parameters), with `phone_numbers` registered as the account's numbers and added to it;
    its Sid."""
    params = {"FriendlyName": ["test"], **{k: [v] for k, v in settings.items()}}
    sid = services.create(account_sid, params).sid
    for phone_number in phone_numbers:
        add_number(account_sid, sid, phone_number)
    return sid


def add_number(account_sid: str, service_sid: str, phone_number: str) -> str:
    """Register `phone_number` for the account and add it to the service; its PN Sid."""
    number = numbers.create(account_sid, {"PhoneNumber": [phone_number]})
    senders.add_phone_number(account_sid, service_sid, {"PhoneNumberSid": [number.sid]})
    return number.sid


_services_of: dict[str, str] = {}


def service_of(account_sid: str) -> str:
    """One service of the account with no sender of its own, made on first use: what a
    Messages test passes with a From of its own where a service is asked for (scheduling)."""
    from chalicelib.storage import services as stored

    sid = _services_of.get(account_sid)
    if sid is None or stored.get_service(account_sid, sid) is None:
        sid = _services_of[account_sid] = make_service(account_sid)
    return sid


@pytest.fixture
def with_sender(request):
    """with_sender(account_sid) -> the Sid of a service of the account with one number in it.
    Through the resource where the backend has TransactWriteItems (moto). dynalite has not,
    so there the link item the add's transaction would write is put alone: a create reads
    the service's partition (its pool), not the number's owner item."""
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("aws", "moto") if callspec else "moto"

    def service_with_sender(account_sid: str) -> str:
        if backend != "dynalite":
            return make_service(account_sid, "+14155550111")
        from chalicelib import storage
        from chalicelib.storage import marshal, service_senders

        sid = make_service(account_sid)
        key = service_senders.link_key(account_sid, sid, "PN" + "1" * 32)
        link = {"account_sid": account_sid, "service_sid": sid, "sid": "PN" + "1" * 32,
                "phone_number": "+14155550111", "country_code": "US", "created_ms": 1}  # fmt: skip
        item = {"pk": key["pk"]["S"], "sk": key["sk"]["S"], **link}
        storage.client.call("put_item", Item=marshal.to_attrs(item))
        return sid

    return service_with_sender
