"""Keyset paging: Twilio's page JSON and opaque, tamper-evident PageTokens.

A token is `PA` (next) or `PB` (previous) + base64url(list key + MAC). The MAC covers the
direction, the key and the scope (account, index partition and date range), so a token
that was edited, or lifted from another account or another filter, is refused with 21481.
"""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib.twilio import codes, errors

NEXT = "PA"
PREVIOUS = "PB"
KEY_HEX_DIGITS = 44
_MAC_BYTES = 12
LOWEST_KEY = "0" * KEY_HEX_DIGITS
HIGHEST_KEY = "f" * KEY_HEX_DIGITS


@dataclass
class Cursor:
    direction: str
    key: str


def invalid_token() -> errors.TwilioError:
    return errors.TwilioError(codes.INVALID_PAGE_TOKEN, "Invalid PageToken", 400)


def _mac(secret: bytes, direction: str, key: bytes, scope: str) -> bytes:
    message = direction.encode() + key + scope.encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(cursor: Cursor, scope: str, secret: bytes) -> str:
    key = bytes.fromhex(cursor.key)
    mac = _mac(secret, cursor.direction, key, scope)
    return cursor.direction + base64.urlsafe_b64encode(key + mac).decode().rstrip("=")


def decode(token: str, scope: str, secret: bytes) -> Cursor:
    direction, payload = token[:2], token[2:]
    if direction not in (NEXT, PREVIOUS) or not payload or len(payload) > 64:
        raise invalid_token()
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise invalid_token() from None
    # One spelling per token: base64 also reads '+' and '/' and ignores the last
    # character's spare bits, so an edited token could otherwise still decode.
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != payload:
        raise invalid_token()
    key, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(key) * 2 != KEY_HEX_DIGITS or not hmac.compare_digest(
        mac, _mac(secret, direction, key, scope)
    ):
        raise invalid_token()
    return Cursor(direction, key.hex())


def window(
    token: str | None, scope: str, secret: bytes, low: str = LOWEST_KEY, high: str = HIGHEST_KEY
):
    """(low, high, descending): the part of [low, high] a page reads after `token`, newest
    first.

    A next-page token (PA) reads on from just below its key; a previous-page token (PB)
    reads upwards from just above its key (the caller reverses what it reads).
    """
    if not token:
        return low, high, True
    cursor = decode(token, scope, secret)
    if cursor.direction == NEXT:
        return low, key_before(cursor.key), True
    return key_after(cursor.key), high, False


def neighbour_tokens(
    keys: list[str],
    resume: str | None,
    descending: bool,
    page: int,
    window: tuple[str, str],
    scope: str,
    secret: bytes,
) -> tuple[str | None, str | None]:
    """(next, previous) PageTokens of a page showing the rows keyed `keys`, newest first,
    read as `window` said (`descending`, within `window`); `resume`: the read stopped with
    more to come, everything up to this key seen (the last row, or past it when the page's
    read budget ran out among entries that did not match).

    Walking back (PB) always leaves older rows behind it; walking forward (PA) left newer
    ones behind it unless this is the first page.
    """
    low, high = window
    if descending:
        next_key = resume
        has_previous = page > 0
        previous_key = keys[0] if keys else high
    else:
        previous_key = resume
        has_previous = page > 0 and resume is not None
        # The next page is below the lowest row, or below the whole window when it had none.
        next_key = keys[-1] if keys else low
    next_token = encode(Cursor(NEXT, next_key), scope, secret) if next_key is not None else None
    previous_token = (
        encode(Cursor(PREVIOUS, previous_key), scope, secret)
        if has_previous and previous_key is not None
        else None
    )
    return next_token, previous_token


def key_before(key: str) -> str:
    return f"{max(int(key, 16) - 1, 0):0{KEY_HEX_DIGITS}x}"


def key_after(key: str) -> str:
    return f"{min(int(key, 16) + 1, int(HIGHEST_KEY, 16)):0{KEY_HEX_DIGITS}x}"


def page_uri(
    path: str, filters: list[tuple[str, str]], page_size: int, page: int, token: str | None = None
) -> str:
    query = [*filters, ("PageSize", str(page_size)), ("Page", str(page))]
    if token:
        query.append(("PageToken", token))
    return f"{path}?{urlencode(query)}"


def page_json(
    key: str,
    records: list[dict],
    path: str,
    filters: list[tuple[str, str]],
    page_size: int,
    page: int,
    token: str | None,
    next_token: str | None,
    previous_token: str | None,
) -> dict:
    """Exactly the keys the SDKs expect, and no others (an extra key breaks them)."""
    start = page * page_size
    return {
        key: records,
        "start": start,
        "end": start + len(records) - 1 if records else 0,
        "page": page,
        "page_size": page_size,
        "first_page_uri": page_uri(path, filters, page_size, 0),
        "next_page_uri": (
            page_uri(path, filters, page_size, page + 1, next_token) if next_token else None
        ),
        "previous_page_uri": (
            page_uri(path, filters, page_size, max(page - 1, 0), previous_token)
            if previous_token
            else None
        ),
        "uri": page_uri(path, filters, page_size, page, token),
    }
