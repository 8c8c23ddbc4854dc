"""Twilio-style resource identifiers.

A Message Sid is `SM`/`MM` + 32 hex digits: 12 digits of the creation time in milliseconds,
then 20 random ones; or, for a message made with an Idempotency-Key, a digest of the account
and the key (storage.schema.keyed_message_sid). Lists order by time, not by Sid.
"""

import re
import secrets

# \Z, not $: `$` also matches before a trailing newline.
MESSAGE_SID = re.compile(r"^(SM|MM)([0-9a-f]{32})\Z")
MEDIA_SID = re.compile(r"^ME[0-9a-f]{32}\Z")
ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}\Z")
API_KEY_SID = re.compile(r"^SK[0-9a-f]{32}\Z")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}\Z")
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}\Z")


def message_sid(created_ms: int, has_media: bool = False) -> str:
    prefix = "MM" if has_media else "SM"
    return f"{prefix}{created_ms:012x}{secrets.token_hex(10)}"


def message_key(sid: str) -> str | None:
    """The sort key for a Message Sid, or None when the Sid is not one Herald could issue."""
    match = MESSAGE_SID.match(sid)
    return match.group(2) if match else None


def created_ms_of(sid: str) -> int:
    return int(sid[2:14], 16)


def account_sid() -> str:
    return "AC" + secrets.token_hex(16)


def api_key_sid() -> str:
    return "SK" + secrets.token_hex(16)


def auth_token() -> str:
    return secrets.token_hex(16)


def api_key_secret() -> str:
    # Twilio's secrets are 32 alphanumerics; token_urlsafe may add '-'/'_', so draw hex.
    return secrets.token_hex(16)


def random_id() -> str:
    """An opaque id like a carrier's message id (the sandbox makes them)."""
    return secrets.token_hex(16)


def media_sid(message_sid: str, position: int) -> str:
    """The Sid of a message's media at `position` (when the message was made): derived, so
    a message's media need no items of their own."""
    import hashlib

    return "ME" + hashlib.sha256(f"{message_sid}#{position}".encode()).hexdigest()[:32]
