"""The per-container credential cache: what it saves, and the bound it promises.

A revoked API key or a replaced AuthToken stops working within credentials.CACHE_SECONDS; a
credential created a moment ago works at once; wrong passwords cannot turn the cache off.
"""

import uuid
from collections import Counter

import pytest

import admin
from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.twilio import errors
from chalicelib.web import auth
from tests.conftest import basic, error_of


@pytest.fixture
def reads(monkeypatch):
    """The GetItems storage makes for credentials, by sort key."""
    seen: list[str] = []
    real = storage.client.get

    def recording(key, consistent=True):
        seen.append(key["sk"]["S"])
        return real(key, consistent)

    monkeypatch.setattr(storage.client, "get", recording)
    return seen


def credential_reads(seen: list[str]) -> list[str]:
    return [sk for sk in seen if sk == "account" or sk.startswith("key#")]


def test_a_warm_container_reads_credentials_once_per_period(api, reads, cache_expires):
    for _ in range(5):
        assert api.list().status_code == 200
    assert credential_reads(reads) == ["account"]
    cache_expires()
    assert api.list().status_code == 200
    assert credential_reads(reads) == ["account", "account"]


def test_an_api_key_reads_its_key_and_its_account_once(api, reads):
    key = admin.create_key(api.account_sid)
    reads.clear()  # the admin command's own look at the account
    header = basic(key["sid"], key["secret"])
    for _ in range(3):
        assert api.request("GET", api.base + "/Messages.json", auth=header).status_code == 200
    assert sorted(credential_reads(reads)) == ["account", f"key#{key['sid']}"]


def test_a_revoked_key_stops_working_within_the_bound(api, cache_expires):
    key = admin.create_key(api.account_sid)
    header = basic(key["sid"], key["secret"])
    assert api.request("GET", api.base + "/Messages.json", auth=header).status_code == 200
    admin.revoke_key(api.account_sid, key["sid"])
    # Still cached in this container: the documented bound, not an immediate effect.
    assert api.request("GET", api.base + "/Messages.json", auth=header).status_code == 200
    cache_expires()
    revoked = api.request("GET", api.base + "/Messages.json", auth=header)
    assert error_of(revoked) == (401, 20003)


def test_a_replaced_token_works_after_one_reread_and_the_old_one_ends_with_it(api, monkeypatch):
    old_header = api.auth
    assert api.list().status_code == 200
    new_token = "f" * 32
    admin.create_account(api.account_sid, new_token)
    # The new token does not match the cached digest: one re-read finds it...
    clock = {"s": 0.0}
    real = credentials._monotonic
    monkeypatch.setattr(credentials, "_monotonic", lambda: real() + clock["s"])
    clock["s"] += credentials.REFRESH_SECONDS
    new_header = basic(api.account_sid, new_token)
    assert api.request("GET", api.base + "/Messages.json", auth=new_header).status_code == 200
    # ...and the old one is refused as soon as the re-read replaced the cached digest.
    assert error_of(api.request("GET", api.base + "/Messages.json", auth=old_header)) == (
        401,
        20003,
    )


def test_wrong_passwords_reread_at_most_once_per_refresh_period(api, reads):
    assert api.list().status_code == 200
    wrong = basic(api.account_sid, "0" * 32)
    for _ in range(20):
        assert error_of(api.request("GET", api.base + "/Messages.json", auth=wrong)) == (
            401,
            20003,
        )
    # The first request read the account; twenty wrong ones within a second re-read it
    # at most once more (only if a second had passed since the first read).
    assert len(credential_reads(reads)) <= 2


def test_an_unknown_account_is_not_read_on_every_request(aws, reads, chalice_client):
    ghost = "AC" + "1" * 32
    path = f"/2010-04-01/Accounts/{ghost}/Messages.json"
    for _ in range(10):
        response = chalice_client.http.get(path, headers={"Authorization": basic(ghost, "x")})
        assert response.status_code == 401
    assert len(credential_reads(reads)) <= 2


def test_the_cache_is_bounded(api, monkeypatch):
    monkeypatch.setattr(credentials, "CACHE_ENTRIES", 3)
    monkeypatch.setattr(credentials, "MISSING_ENTRIES", 3)
    for n in range(10):
        ghost = f"AC{n:032x}"
        credentials.account(ghost)
        credentials.account(admin.create_account()["account_sid"])
    assert len(credentials._cache) <= 3 and len(credentials._missing) <= 3


@pytest.fixture
def frozen(monkeypatch):
    """auth's clock stands still (the miss budget does not refill) until moved."""
    now = {"s": credentials._monotonic()}
    monkeypatch.setattr(credentials, "_monotonic", lambda: now["s"])

    def move(seconds: float) -> None:
        now["s"] += seconds

    return move


def flood(count: int) -> Counter:
    """`count` requests' credentials, each a new random AC… or SK… username: their codes."""
    codes: Counter = Counter()
    for n in range(count):
        sid = "AC" + uuid.uuid4().hex
        username = sid if n % 2 else "SK" + uuid.uuid4().hex
        try:
            auth.authenticate(sid, basic(username, uuid.uuid4().hex))
        except errors.TwilioError as error:
            codes[error.code] += 1
    return codes


def test_a_flood_of_unknown_credentials_evicts_no_real_one_and_its_reads_are_bounded(
    api, reads, frozen, monkeypatch
):
    monkeypatch.setattr(credentials, "CACHE_ENTRIES", 100)
    monkeypatch.setattr(credentials, "MISSING_ENTRIES", 100)
    key = admin.create_key(api.account_sid)
    real = [api.auth, basic(key["sid"], key["secret"])]
    for header in real:
        assert api.request("GET", api.base + "/Messages.json", auth=header).status_code == 200
    reads.clear()
    codes = flood(1_000)  # ten times either cache
    # Only the budget's reads; past it, 429 without a read.
    assert len(credential_reads(reads)) == credentials.MISS_READS_BURST
    assert codes == {
        20003: credentials.MISS_READS_BURST,
        20429: 1_000 - credentials.MISS_READS_BURST,
    }
    reads.clear()
    for header in real:  # still cached: no read
        assert api.request("GET", api.base + "/Messages.json", auth=header).status_code == 200
    assert credential_reads(reads) == []
    assert len(credentials._missing) <= 100
    # The budget refills with time, at MISS_READS_PER_SECOND.
    frozen(1.0)
    flood(100)
    assert len(credential_reads(reads)) == credentials.MISS_READS_PER_SECOND


def test_while_the_budget_is_spent_an_uncached_credential_is_told_to_retry(api, frozen):
    """What a flood can still cost a real user: a credential this container has not cached
    waits for the budget (429, Retry-After: 1) instead of being read."""
    flood(credentials.MISS_READS_BURST)
    waiting = api.list()
    assert error_of(waiting) == (429, 20429) and waiting.headers["Retry-After"] == "1"
    frozen(1.0)
    assert api.list().status_code == 200
