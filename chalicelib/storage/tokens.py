"""Each account's AuthToken, kept encrypted with a KMS key for the functions that sign.

Authentication needs only the token's digest (chalicelib.auth); signing a status callback or
a webhook needs the token itself. It is stored as KMS ciphertext bound to its AccountSid (the
encryption context), so a ciphertext copied onto another account's item does not decrypt,
and only a function whose role may call kms:Decrypt on the key can read it. Decrypted tokens
are kept in memory for CACHE_SECONDS, so a burst of callbacks costs one KMS call: the jobs
of a batch that run at once wait for the first one's decrypt instead of each making its own.
"""

import base64
import functools
import threading
import time

from chalicelib import config
from chalicelib.storage import boto

CACHE_SECONDS = 300.0
_CONTEXT_KEY = "herald:account"
_plain: dict[str, tuple[float, str]] = {}
_decrypting = threading.Lock()


class Unavailable(Exception):
    """No key is configured, or KMS refused or failed; the message says which, in one line."""


# What create-account says when the key is missing: every account must be able to sign.
NO_KEY = (
    "HERALD_KMS_KEY_ID is not set: an account needs its AuthToken encrypted with the stage's"
    " KMS key to sign its callbacks and webhooks (the KmsKeyId output on a deployed stage;"
    " the export line `make run` prints)"
)


@functools.cache
def _client():
    return boto.new_client("kms", region_name=config.load().region)


def reset() -> None:
    _client.cache_clear()
    _plain.clear()


def encrypt_token(account_sid: str, token: str) -> str:
    """The token's ciphertext (base64). Unavailable when no key is configured or KMS will
    not encrypt with it: an account that could not sign is never made."""
    key_id = config.delivery().kms_key_id
    if key_id is None:
        raise Unavailable(NO_KEY)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        blob = _client().encrypt(
            KeyId=key_id,
            Plaintext=token.encode(),
            EncryptionContext={_CONTEXT_KEY: account_sid},
        )["CiphertextBlob"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", type(error).__name__)
        raise Unavailable(
            f"KMS refused to encrypt with HERALD_KMS_KEY_ID={key_id}: {code}"
        ) from error
    except BotoCoreError as error:
        raise Unavailable(f"KMS did not answer ({type(error).__name__})") from error
    return base64.b64encode(blob).decode()


def decrypt_token(account_sid: str, ciphertext: str) -> str:
    cached = _fresh(account_sid)
    if cached is not None:
        return cached
    with _decrypting:  # one KMS call for the jobs that all missed at once
        cached = _fresh(account_sid)
        if cached is not None:
            return cached
        plain = _decrypt(account_sid, ciphertext)
        _plain[account_sid] = (time.monotonic(), plain)
        return plain


def _fresh(account_sid: str) -> str | None:
    cached = _plain.get(account_sid)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    return None


def _decrypt(account_sid: str, ciphertext: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return (
            _client()
            .decrypt(
                CiphertextBlob=base64.b64decode(ciphertext),
                EncryptionContext={_CONTEXT_KEY: account_sid},
            )["Plaintext"]
            .decode()
        )
    except (BotoCoreError, ClientError, ValueError) as error:
        raise Unavailable(type(error).__name__) from error
