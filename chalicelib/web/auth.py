"""HTTP Basic authentication: `AccountSid:AuthToken` or `SK…:secret` for the path's account,
checked by chalicelib.accounts.credentials; anything else is 20003."""

import base64

from chalicelib.accounts import credentials
from chalicelib.accounts.model import Account
from chalicelib.twilio import errors


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
    given = parse_basic(header)
    found = credentials.verify(account_sid, *given) if given is not None else None
    if found is None:
        raise errors.unauthorized()
    return found
