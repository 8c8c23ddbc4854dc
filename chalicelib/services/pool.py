"""A service's pool (its settings and senders), cached per container, and the choice of the
sender of a message sent through it.

The pool is one Query on the service's partition (chalicelib.storage.services.pool). A
service sending 10,000 messages a second must not read that partition 10,000 times a
second, so each container keeps what it read for POOL_SECONDS: a change (a number added or
removed, a new StatusCallback) reaches every container within that bound, and at once the
container that made it (it forgets its copy). A number removed from a service may so be
chosen for up to POOL_SECONDS more by a container that read the pool before; it is still
the account's own number, so nothing is sent from a number the account does not hold.

The sender, when a message has none (chalicelib.delivery.worker, at the hand-off):

1. an AlphaSender, where the service has one and the destination's country takes
   alphanumeric sender IDs (not the North American Numbering Plan's: `+1`);
2. else a number of the service in the destination's country: the one this service already
   sends to this To from (StickySender), else one with the To's area code (AreaCodeGeomatch,
   +1 numbers), else one picked by the To's hash (so a service's recipients spread evenly);
3. else none: 21703 (21704 when the service has no sender at all).

FallbackToLongCode is kept and shown but changes nothing: Twilio's description marks it
obsolete, and a service's numbers are all long codes (no short code to fall back from).
"""

import hashlib
import time
from dataclasses import dataclass

from chalicelib.runtime import caches
from chalicelib.storage import service_senders
from chalicelib.storage import services as stored
from chalicelib.twilio import addresses, codes

POOL_SECONDS = 10.0
POOL_ENTRIES = 1000
_cache: dict[tuple[str, str], tuple[float, dict | None]] = {}


def forget(account_sid: str | None = None, service_sid: str | None = None) -> None:
    """Drop the cached pool of one service (after a change this container made), or all;
    and the account's cached AlphaSenders with it (a sender added or removed)."""
    if account_sid is None:
        _cache.clear()
        _alphas.clear()
    else:
        _cache.pop((account_sid, service_sid), None)
        for key in [key for key in _alphas if key[0] == account_sid]:
            del _alphas[key]


# Alphanumeric senders found to be the account's, when each was read (holds_alpha).
_alphas: dict[tuple[str, str], float] = {}


def holds_alpha(account_sid: str, alpha_sender: str) -> bool:
    """Whether `alpha_sender` is an AlphaSender of one of the account's services: what the
    registered-From check asks of an alphanumeric From sent without a service. A yes is kept
    POOL_SECONDS, as a pool is, so an account sending 10,000 messages a second from one
    sender ID reads its record about once per container and period, not once per message
    (that partition would be a hot key); a no is read again each time, so a sender just
    added is taken at once on every container."""
    key = (account_sid, alpha_sender)
    now = time.monotonic()
    read_at = _alphas.get(key)
    if read_at is not None and now - read_at < POOL_SECONDS:
        return True
    _alphas.pop(key, None)
    if not service_senders.holds_alpha(account_sid, alpha_sender):
        return False
    caches.remember(_alphas, key, now, POOL_ENTRIES)
    return True


def pool(account_sid: str, service_sid: str) -> dict | None:
    """The service's pool (see chalicelib.storage.services.pool), at most POOL_SECONDS old;
    None when there is no such service."""
    key = (account_sid, service_sid)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - cached[0] < POOL_SECONDS:
        return cached[1]
    found = stored.pool(account_sid, service_sid)
    caches.remember(_cache, key, (now, found), POOL_ENTRIES)
    return found


@dataclass
class Choice:
    sender: str | None
    error_code: int | None = None
    error_message: str | None = None


def takes_alpha(to: str) -> bool:
    """Whether the To's country takes alphanumeric sender IDs: not +1 (the US, Canada and
    the rest of the North American Numbering Plan do not)."""
    return to.startswith("+") and not to.startswith("+1")


def senders_of(found: dict) -> set[str]:
    return {n["phone_number"] for n in found["numbers"]} | {
        a["alpha_sender"] for a in found["alphas"]
    }


def choose(account_sid: str, service_sid: str, to: str) -> Choice:
    found = pool(account_sid, service_sid)
    if found is None:
        return Choice(None, codes.SERVICE_NOT_FOUND, codes.MESSAGES[codes.SERVICE_NOT_FOUND])
    if not found["numbers"] and not found["alphas"]:
        return Choice(
            None, codes.SERVICE_WITHOUT_NUMBERS, codes.MESSAGES[codes.SERVICE_WITHOUT_NUMBERS]
        )
    if found["alphas"] and takes_alpha(to):
        return Choice(found["alphas"][0]["alpha_sender"])
    country = addresses.region_of(to)
    numbers = sorted(
        n["phone_number"] for n in found["numbers"] if n.get("country_code") == country
    )
    if not numbers:
        return Choice(None, codes.SERVICE_NO_SENDER, codes.MESSAGES[codes.SERVICE_NO_SENDER])
    service = found["service"]
    sticky = None
    if service.get("sticky_sender", True):
        sticky = service_senders.get_sticky(account_sid, service_sid, to)
        if sticky in numbers:
            return Choice(sticky)
    chosen = _pick(numbers, to, service.get("area_code_geomatch", True))
    if service.get("sticky_sender", True):
        # First send to this To (or its sender left the pool): record the choice, or take
        # the one a racing send on another container recorded first.
        winner = service_senders.claim_sticky(account_sid, service_sid, to, chosen, sticky)
        if winner in numbers:
            chosen = winner
    return Choice(chosen)


def _pick(numbers: list[str], to: str, geomatch: bool) -> str:
    if geomatch and to.startswith("+1"):
        local = [n for n in numbers if n.startswith("+1") and n[2:5] == to[2:5]]
        if local:
            numbers = local
    spread = int(hashlib.sha256(to.encode()).hexdigest()[:8], 16)
    return numbers[spread % len(numbers)]
