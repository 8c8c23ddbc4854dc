"""HERALD_REQUIRE_REGISTERED_FROM with Messaging Services, in the one place every outbound
path passes (chalicelib/messages/checks.py): a From given with a MessagingServiceSid must be
one of that service's senders, and an alphanumeric From (which no IncomingPhoneNumber can
vouch for) one of the account's AlphaSenders."""

import pytest

from chalicelib.services import pool
from tests.conftest import body, error_of
from tests.services.conftest import SERVICES, register

TO = "+14155550100"


@pytest.fixture
def required(monkeypatch):
    monkeypatch.setenv("HERALD_REQUIRE_REGISTERED_FROM", "1")


def test_a_from_with_a_service_must_be_one_of_its_senders(v1, api, required):
    service = v1.made()["sid"]
    inside, outside = "+14155550111", "+14155550122"
    v1.add_number(service, register(api, inside))
    register(api, outside)  # the account's, but not the service's
    ok = api.create(To=TO, From=inside, MessagingServiceSid=service, Body="x")
    assert ok.status_code == 201, ok.body
    refused = api.create(To=TO, From=outside, MessagingServiceSid=service, Body="x")
    assert error_of(refused) == (400, 21606)
    assert b"not a sender of the Messaging Service" in refused.body


def test_an_alphanumeric_from_must_be_one_of_the_accounts_alpha_senders(
    v1, api, other_api, required
):
    assert error_of(api.create(To=TO, From="Herald", Body="x")) == (400, 21606)
    service = v1.made()["sid"]
    added = v1.request(
        "POST", f"{SERVICES}/{service}/AlphaSenders", params={"AlphaSender": "Herald"}
    )
    assert added.status_code == 201
    assert api.create(To=TO, From="Herald", Body="x").status_code == 201
    # Another account's AlphaSender is not this one's.
    assert error_of(other_api.create(To=TO, From="Herald", Body="x")) == (400, 21606)
    # Removed, it no longer vouches.
    v1.request("DELETE", f"{SERVICES}/{service}/AlphaSenders/{body(added)['sid']}")
    assert error_of(api.create(To=TO, From="Herald", Body="x")) == (400, 21606)


def test_an_alpha_senders_record_is_read_once_per_period_not_once_per_message(
    v1,
    api,
    required,
    storage_calls,
    monkeypatch,
):
    # One sender ID at 10,000 messages a second would make its record a hot key.
    service = v1.made()["sid"]
    v1.request("POST", f"{SERVICES}/{service}/AlphaSenders", params={"AlphaSender": "Herald"})
    pool.forget()
    storage_calls.clear()
    for _ in range(5):
        assert api.create(To=TO, From="Herald", Body="x").status_code == 201
    record = [
        call
        for call in storage_calls
        if call[0] == "query" and "alphasender#" in str(call[1]["ExpressionAttributeValues"])
    ]
    assert len(record) == 1
    # Once the period has passed, it is read again (a sender removed by another container
    # stops vouching within it).
    real = pool.time.monotonic
    monkeypatch.setattr(pool.time, "monotonic", lambda: real() + pool.POOL_SECONDS + 1)
    storage_calls.clear()
    assert api.create(To=TO, From="Herald", Body="x").status_code == 201
    assert sum(call[0] == "query" for call in storage_calls) == 1
    # A no is never kept: an unknown sender ID is read each time, so one just added counts.
    storage_calls.clear()
    for _ in range(2):
        assert error_of(api.create(To=TO, From="Other", Body="x")) == (400, 21606)
    assert sum(call[0] == "query" for call in storage_calls) == 2


def test_without_the_check_any_alphanumeric_from_goes(api):
    assert api.create(To=TO, From="Herald", Body="x").status_code == 201
