"""Credentials written in a user's URL (`https://user:password@host/…`), kept encrypted.

Twilio sends a URL's user info as HTTP Basic auth (chalicelib.outbound.addresses.credentials),
so Herald takes such URLs for status callbacks, webhooks, media and TwiML actions. The user
info is a secret: it is never stored, queued or answered in plain text. Stored, it is sealed
(KMS, chalicelib.storage.tokens: the stage's key, bound to the AccountSid and to PURPOSE, so
another account's ciphertext, or an AuthToken's, does not open); answered, it is masked; only
the function that calls the URL opens it, just before the call.

    given    https://hook:s3cret@app.example/sms
    stored   https://hook:~kms1~AQICAHg…@app.example/sms   (`sealed`; the whole user info)
    shown    https://hook:****@app.example/sms             (`masked`, in API answers)
    called   https://hook:s3cret@app.example/sms           (`opened`)

The user name stays readable (it tells which credentials are set) unless it is all there is
(`https://key@host/`, a token as user name): then it is the secret, and it shows as `****@`.
Only the user info changes: the rest of the URL is kept byte for byte, as it is signed.

Cost: a URL without user info is never sent to KMS. Sealing is one kms:Encrypt per distinct
user info, account and container every tokens.CACHE_SECONDS (the API's creates, a TwiML
reply's URLs); opening one kms:Decrypt per distinct ciphertext likewise (the callbacks and
the sender functions). A URL stored before Herald sealed them has no SEALED mark: it is
called as it is, and shown masked like any other.
"""

from urllib.parse import urlsplit

from chalicelib.storage import tokens

PURPOSE = "url-credentials"
SEALED = "~kms1~"  # unreserved characters only: a sealed user info is still a valid URL's
MASK = "****"


def sealed(account_sid: str, url: str) -> str:
    """`url` with its user info encrypted for `account_sid` (itself when it has none).
    tokens.Unavailable when KMS fails or no key is configured."""
    span = _user_info(url)
    if span is None:
        return url
    start, end = span
    user_info = url[start:end]
    ciphertext = tokens.encrypt(account_sid, PURPOSE, user_info)
    packed = SEALED + ciphertext.replace("+", "-").replace("/", "_").rstrip("=")
    user, colon, _ = user_info.partition(":")
    return url[:start] + (user + colon if colon else "") + packed + url[end:]


def opened(account_sid: str, url: str) -> str:
    """`url` as its user wrote it, for the call. tokens.Unreadable when its ciphertext is
    not `account_sid`'s (or is damaged), tokens.Unavailable when KMS fails."""
    span = _user_info(url)
    if span is None:
        return url
    start, end = span
    packed = url[start:end].rpartition(":")[2]
    if not packed.startswith(SEALED):
        return url  # stored before Herald sealed user info: as it was written
    text = packed[len(SEALED) :].replace("-", "+").replace("_", "/")
    user_info = tokens.decrypt(account_sid, PURPOSE, text + "=" * (-len(text) % 4))
    return url[:start] + user_info + url[end:]


def masked(url: str | None) -> str | None:
    """`url` as an answer shows it: `user:****@` or `****@` in place of its user info."""
    span = _user_info(url) if url else None
    if span is None:
        return url
    start, end = span
    user, colon, _ = url[start:end].partition(":")
    return url[:start] + (user + ":" if colon else "") + MASK + url[end:]


def _user_info(url: str) -> tuple[int, int] | None:
    """Where a URL's user info is (before its `@`), as urlsplit reads the authority; None
    when it has none. A URL that has one elsewhere was refused when it was given."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    if "@" not in netloc:
        return None
    user_info = netloc.rpartition("@")[0]
    start = url.find("//") + 2
    if not user_info or url[start : start + len(user_info) + 1] != user_info + "@":
        return None
    return start, start + len(user_info)
