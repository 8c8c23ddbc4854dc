"""Each account's secrets, kept encrypted with the stage's KMS key: its AuthToken, for the
functions that sign, and the credentials written in its URLs (chalicelib.storage.url_credentials).

Authentication needs only the token's digest (accounts.credentials); signing a status callback or
a webhook needs the token itself. It is stored as KMS ciphertext bound to its AccountSid (the
encryption context), so a ciphertext copied onto another account's item does not decrypt,
and only a function whose role may call kms:Decrypt on the key can read it. Decrypted tokens
are kept in memory for CACHE_SECONDS, so a burst of callbacks costs one KMS call: the jobs
of a batch that run at once wait for the first one's decrypt instead of each making its own.

Other secrets (`encrypt`, `decrypt`) are bound to their account and to their PURPOSE too, so
a URL's password cannot stand in for an AuthToken (nor the reverse), and the key policy can let
a function read one kind and not the other (deploy/token_key.py). Both directions are cached
for CACHE_SECONDS, at most MAX_CACHED entries each: the same credentials in a burst of creates
cost one Encrypt, and a burst of calls to one URL one Decrypt.

A failure is Unavailable (KMS throttled, unreachable, refused: it may pass) or its subclass
Unreadable (the ciphertext will never decrypt with this account: another account's, damaged).
"""

import base64
import functools
import threading
import time

from chalicelib.runtime import config
from chalicelib.storage import boto

CACHE_SECONDS = 300.0
MAX_CACHED = 1000
_CONTEXT_KEY = "herald:account"
_PURPOSE_KEY = "herald:purpose"
_plain: dict[str, tuple[float, str]] = {}
# (account, purpose, plaintext) -> ciphertext, and (account, purpose, ciphertext) -> plaintext.
_sealed: dict[tuple[str, str, str], tuple[float, str]] = {}
_opened: dict[tuple[str, str, str], tuple[float, str]] = {}
_cache_lock = threading.Lock()
_decrypting = threading.Lock()
# Errors that say this ciphertext will never decrypt under this context, however often tried.
_UNREADABLE = {"InvalidCiphertextException", "IncorrectKeyException"}


class Unavailable(Exception):
    """No key is configured, or KMS refused or failed; the message says which, in one line."""


class Unreadable(Unavailable):
    """The ciphertext does not decrypt under its account (another's, or damaged): trying
    again will not help."""


# What create-account says when the key is missing: every account must be able to sign.
NO_KEY = (
    "HERALD_KMS_KEY_ID is not set: an account needs its AuthToken encrypted with the stage's"
    " KMS key to sign its callbacks and webhooks (the KmsKeyId output on a deployed stage;"
    " the export line `make run` prints)"
)


@functools.cache
def _client():
    # Short retries and timeouts: a request (the API's creates) or a queued job waits on it.
    return boto.new_client("kms", boto.short_retries(), region_name=config.load().region)


def reset() -> None:
    _client.cache_clear()
    _plain.clear()
    _sealed.clear()
    _opened.clear()


def encrypt_token(account_sid: str, token: str) -> str:
    """The token's ciphertext (base64). Unavailable when no key is configured or KMS will
    not encrypt with it: an account that could not sign is never made."""
    return _encrypt(token, {_CONTEXT_KEY: account_sid})


def decrypt_token(account_sid: str, ciphertext: str) -> str:
    cached = _fresh(_plain, account_sid)
    if cached is not None:
        return cached
    with _decrypting:  # one KMS call for the jobs that all missed at once
        cached = _fresh(_plain, account_sid)
        if cached is not None:
            return cached
        plain = _decrypt(ciphertext, {_CONTEXT_KEY: account_sid})
        _plain[account_sid] = (time.monotonic(), plain)
        return plain


def encrypt(account_sid: str, purpose: str, plaintext: str) -> str:
    """`plaintext`'s ciphertext (base64) bound to the account and `purpose`; Unavailable
    when no key is configured or KMS fails."""
    key = (account_sid, purpose, plaintext)
    cached = _fresh(_sealed, key)
    if cached is not None:
        return cached
    ciphertext = _encrypt(plaintext, {_CONTEXT_KEY: account_sid, _PURPOSE_KEY: purpose})
    _keep(_sealed, key, ciphertext)
    return ciphertext


def decrypt(account_sid: str, purpose: str, ciphertext: str) -> str:
    """What `encrypt(account_sid, purpose, …)` made `ciphertext` of; Unreadable when it was
    made for another account or purpose, Unavailable when KMS fails."""
    key = (account_sid, purpose, ciphertext)
    cached = _fresh(_opened, key)
    if cached is not None:
        return cached
    plain = _decrypt(ciphertext, {_CONTEXT_KEY: account_sid, _PURPOSE_KEY: purpose})
    _keep(_opened, key, plain)
    return plain


def _encrypt(plaintext: str, context: dict) -> str:
    key_id = config.delivery().kms_key_id
    if key_id is None:
        raise Unavailable(NO_KEY)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        blob = _client().encrypt(
            KeyId=key_id, Plaintext=plaintext.encode(), EncryptionContext=context
        )["CiphertextBlob"]
    except ClientError as error:
        raise Unavailable(
            f"KMS refused to encrypt with HERALD_KMS_KEY_ID={key_id}: {_code(error)}"
        ) from error
    except BotoCoreError as error:
        raise Unavailable(f"KMS did not answer ({type(error).__name__})") from error
    return base64.b64encode(blob).decode()


def _decrypt(ciphertext: str, context: dict) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        blob = base64.b64decode(ciphertext, validate=True)
    except ValueError as error:
        raise Unreadable("not base64") from error
    try:
        plain = _client().decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"]
    except ClientError as error:
        code = _code(error)
        raise (Unreadable if code in _UNREADABLE else Unavailable)(code) from error
    except BotoCoreError as error:
        raise Unavailable(type(error).__name__) from error
    try:
        return plain.decode()
    except UnicodeDecodeError as error:
        raise Unreadable("not text") from error


def _code(error) -> str:
    return error.response.get("Error", {}).get("Code", type(error).__name__)


def _fresh(cache: dict, key) -> str | None:
    found = cache.get(key)
    if found is None or time.monotonic() - found[0] >= CACHE_SECONDS:
        return None
    return found[1]


def _keep(cache: dict, key, value: str) -> None:
    with _cache_lock:  # a batch's jobs run in threads
        if len(cache) >= MAX_CACHED:
            cache.pop(next(iter(cache)))  # the oldest entry: dicts keep insertion order
        cache[key] = (time.monotonic(), value)
