"""HTTP Basic authentication: `AccountSid:AuthToken` or `SK…:secret` for the path's account.

Tokens and secrets are high-entropy random strings, so a single SHA-256 is a sound hash (a
slow password hash buys nothing against 128 random bits and costs every request). Every
path compares digests in constant time, and a missing account or key is compared against a
dummy digest so both branches do the same work.

The stored digests (and the account's settings) are cached per Lambda container for
CACHE_SECONDS, so an account sending thousands of requests a second reads its credentials
from DynamoDB about once per container and period, not once per request. The bound is what a
change takes to reach every container: a revoked API key or a replaced AuthToken stops
working within CACHE_SECONDS. A wrong password re-reads the stored digest at most once per
REFRESH_SECONDS, so a just-created credential works at once and failed attempts cannot turn
the cache off.
"""

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from chalicelib import clock, errors, sids
from chalicelib.storage import accounts

_DUMMY_DIGEST = hashlib.sha256(b"herald-no-such-credential").hexdigest()
CACHE_SECONDS = 30.0
REFRESH_SECONDS = 1.0
# A bound on memory: each entry is a few hundred bytes.
CACHE_ENTRIES = 10_000


@dataclass
class Account:
    """The authenticated account, with the settings requests need from its item."""

    sid: str
    record: dict

    def list_shards_for_reading(self) -> int:
        return accounts.shards_for_reading(self.record)

    def list_shards_for_writing(self) -> int:
        return accounts.shards_for_writing(self.record, clock.now_ms())


@dataclass
class _Cached:
    read_at: float
    item: dict | None


_cache: dict[tuple[str, str], _Cached] = {}


def _monotonic() -> float:
    # The cache's own clock (tests move it); wall-clock changes must not age entries.
    return time.monotonic()


def forget() -> None:
    """Empty the cache (tests, and the admin command after a change)."""
    _cache.clear()


def _lookup(kind: str, account_sid: str, ident: str, refresh: bool = False) -> dict | None:
    key = (account_sid, ident)
    now = _monotonic()
    cached = _cache.get(key)
    fresh = cached is not None and now - cached.read_at < CACHE_SECONDS
    if fresh and not (refresh and now - cached.read_at >= REFRESH_SECONDS):
        return cached.item
    if kind == "account":
        item = accounts.get_account(account_sid)
    else:
        item = accounts.get_api_key(account_sid, ident)
    if len(_cache) >= CACHE_ENTRIES and key not in _cache:
        _cache.pop(next(iter(_cache)))  # the oldest entry
    _cache[key] = _Cached(now, item)
    return item


def account(account_sid: str) -> Account | None:
    """The account's settings (cached as credentials are); None when there is none."""
    if not sids.ACCOUNT_SID.match(account_sid):
        return None
    item = _lookup("account", account_sid, account_sid)
    return Account(account_sid, item) if item is not None else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):  # binascii.Error, or non-ASCII input
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return username, password


def authenticate(account_sid: str, header: str | None) -> Account:
    """The account when the credentials open `account_sid`'s path; raise 20003 otherwise.

    One account's credentials on another account's path fail exactly like a wrong token,
    so the answer never says whether the other account exists.
    """
    credentials = parse_basic(header)
    if credentials is None:
        raise errors.unauthorized()
    username, password = credentials
    supplied = hash_secret(password)
    stored = _stored_digest(account_sid, username)
    if stored is None or not hmac.compare_digest(supplied, stored):
        # Perhaps the credential was created or changed since it was cached: look again.
        stored = _stored_digest(account_sid, username, refresh=True)
    if not hmac.compare_digest(supplied, stored or _DUMMY_DIGEST) or stored is None:
        raise errors.unauthorized()
    found = account(account_sid)
    if found is None:
        raise errors.unauthorized()
    return found


def _stored_digest(account_sid: str, username: str, refresh: bool = False) -> str | None:
    if not sids.ACCOUNT_SID.match(account_sid):
        return None
    if username == account_sid:
        item = _lookup("account", account_sid, account_sid, refresh)
        return item.get("token_hash") if item else None
    if sids.API_KEY_SID.match(username):
        key = _lookup("key", account_sid, username, refresh)
        if key and not key.get("revoked"):
            return key.get("secret_hash")
    return None
