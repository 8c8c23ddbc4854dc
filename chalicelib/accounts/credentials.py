"""Credentials: whether `AccountSid:AuthToken` or `SK…:secret` opens an account (`verify`),
and the account's settings (`account`), from a per-container cache.

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

Unknown credentials cannot be used against the cache or the table. Credentials that do not
exist are cached apart from those that do (each side has its own bound), so a flood of
random `AC…`/`SK…` usernames never evicts a real entry. And the reads that find nothing are
a budget per container (MISS_READS_BURST, refilled at MISS_READS_PER_SECOND): while it is
spent, a credential this container has not cached is answered 429 (Retry-After) without a
read. So an unauthenticated flood costs at most that many DynamoDB reads per second per
container, and can at worst make a credential's first request on a flooded container wait
a second; credentials already cached keep working throughout.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from chalicelib.accounts.model import Account
from chalicelib.runtime import caches
from chalicelib.storage import accounts
from chalicelib.twilio import errors, sids

_DUMMY_DIGEST = hashlib.sha256(b"herald-no-such-credential").hexdigest()
CACHE_SECONDS = 30.0
REFRESH_SECONDS = 1.0
# Bounds on memory: each entry is a few hundred bytes (a missing one, a few dozen).
CACHE_ENTRIES = 10_000
MISSING_ENTRIES = 10_000
# Reads that find no credential, per container: what an unauthenticated flood can cost.
MISS_READS_BURST = 50
MISS_READS_PER_SECOND = 10.0


@dataclass
class _Cached:
    read_at: float
    item: dict | None


class _MissBudget:
    """A token bucket of reads that may find nothing: MISS_READS_BURST, refilled at
    MISS_READS_PER_SECOND."""

    def __init__(self) -> None:
        self.tokens, self.at = float(MISS_READS_BURST), None

    def _refill(self, now: float) -> None:
        if self.at is not None:
            self.tokens = min(
                MISS_READS_BURST, self.tokens + (now - self.at) * MISS_READS_PER_SECOND
            )
        self.at = now

    def allows(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1

    def spend(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


# Credentials that exist, and apart from them (read_at only) those that do not.
_cache: dict[tuple[str, str], _Cached] = {}
_missing: dict[tuple[str, str], float] = {}
_misses = _MissBudget()


def _monotonic() -> float:
    # The cache's own clock (tests move it); wall-clock changes must not age entries.
    return time.monotonic()


def forget() -> None:
    """Empty the cache (tests, and the admin command after a change)."""
    global _misses
    _cache.clear()
    _missing.clear()
    _misses = _MissBudget()


def _lookup(
    kind: str, account_sid: str, ident: str, refresh: bool = False, admit: bool = False
) -> dict | None:
    """The stored item (None: there is none), cached. `admit`: the identity is a request's
    claim, not yet authenticated, so a read of one not known to exist needs the budget."""
    key = (account_sid, ident)
    now = _monotonic()
    cached = _cache.get(key)
    read_at = cached.read_at if cached is not None else _missing.get(key)
    fresh = read_at is not None and now - read_at < CACHE_SECONDS
    if fresh and not (refresh and now - read_at >= REFRESH_SECONDS):
        return cached.item if cached is not None else None
    if admit and cached is None and not _misses.allows(now):
        raise errors.too_many_requests()
    if kind == "account":
        item = accounts.get_account(account_sid)
    else:
        item = accounts.get_api_key(account_sid, ident)
    if item is None:
        _misses.spend(now)
        _cache.pop(key, None)
        caches.remember(_missing, key, now, MISSING_ENTRIES)
    else:
        _missing.pop(key, None)
        caches.remember(_cache, key, _Cached(now, item), CACHE_ENTRIES)
    return item


def account(account_sid: str) -> Account | None:
    """The account's settings (cached as credentials are); None when there is none."""
    if not sids.ACCOUNT_SID.match(account_sid):
        return None
    item = _lookup("account", account_sid, account_sid)
    return Account(account_sid, item) if item is not None else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def verify(account_sid: str, username: str, password: str) -> Account | None:
    """The account when `username` and `password` open `account_sid`; None otherwise.

    One account's credentials for another account fail exactly like a wrong token, so the
    answer never says whether the other account exists.
    """
    supplied = hash_secret(password)
    stored = _stored_digest(account_sid, username)
    if stored is None or not hmac.compare_digest(supplied, stored):
        # Perhaps the credential was created or changed since it was cached: look again.
        stored = _stored_digest(account_sid, username, refresh=True)
    if not hmac.compare_digest(supplied, stored or _DUMMY_DIGEST) or stored is None:
        return None
    return account(account_sid)


def _stored_digest(account_sid: str, username: str, refresh: bool = False) -> str | None:
    if not sids.ACCOUNT_SID.match(account_sid):
        return None
    if username == account_sid:
        item = _lookup("account", account_sid, account_sid, refresh, admit=True)
        return item.get("token_hash") if item else None
    if sids.API_KEY_SID.match(username):
        key = _lookup("key", account_sid, username, refresh, admit=True)
        if key and not key.get("revoked"):
            return key.get("secret_hash")
    return None
