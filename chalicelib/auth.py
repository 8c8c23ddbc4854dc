"""HTTP Basic authentication: `AccountSid:AuthToken` or `SK…:secret` for the path's account.

Tokens and secrets are high-entropy random strings, so a single SHA-256 is a sound hash (a
slow password hash buys nothing against 128 random bits and costs every request). Every
path compares digests in constant time, and a missing account or key is compared against a
dummy digest so both branches do the same work.
"""

import base64
import hashlib
import hmac

from chalicelib import errors, sids, storage

_DUMMY_DIGEST = hashlib.sha256(b"herald-no-such-credential").hexdigest()


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


def authenticate(account_sid: str, header: str | None) -> None:
    """Return when the credentials open `account_sid`'s path; raise 20003 otherwise.

    One account's credentials on another account's path fail exactly like a wrong token,
    so the answer never says whether the other account exists.
    """
    credentials = parse_basic(header)
    if credentials is None:
        raise errors.unauthorized()
    username, password = credentials
    stored = _stored_digest(account_sid, username)
    supplied = hash_secret(password)
    if not hmac.compare_digest(supplied, stored or _DUMMY_DIGEST) or stored is None:
        raise errors.unauthorized()


def _stored_digest(account_sid: str, username: str) -> str | None:
    if not sids.ACCOUNT_SID.match(account_sid):
        return None
    if username == account_sid:
        account = storage.get_account(account_sid)
        return account.get("token_hash") if account else None
    if sids.API_KEY_SID.match(username):
        key = storage.get_api_key(account_sid, username)
        if key and not key.get("revoked"):
            return key.get("secret_hash")
    return None
