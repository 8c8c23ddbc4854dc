"""Each account's AuthToken, kept encrypted with a KMS key for the functions that sign.

Authentication needs only the token's digest (chalicelib.auth); signing a status callback or
a webhook needs the token itself. It is stored as KMS ciphertext bound to its AccountSid (the
encryption context), so a ciphertext copied onto another account's item does not decrypt,
and only a function whose role may call kms:Decrypt on the key can read it. Decrypted tokens
are kept in memory for CACHE_SECONDS, so a burst of callbacks costs one KMS call.
"""

import base64
import functools
import time

from chalicelib import config
from chalicelib.storage import boto

CACHE_SECONDS = 300.0
_CONTEXT_KEY = "herald:account"
_plain: dict[str, tuple[float, str]] = {}


class Unavailable(Exception):
    """No key is configured, or KMS refused or failed."""


@functools.cache
def _client():
    return boto.new_client("kms", region_name=config.load().region)


def reset() -> None:
    _client.cache_clear()
    _plain.clear()


def encrypt_token(account_sid: str, token: str) -> str | None:
    """The token's ciphertext (base64), or None when no key is configured (then callbacks
    and webhooks of this account go out unsigned, and say so in the logs)."""
    key_id = config.delivery().kms_key_id
    if key_id is None:
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        blob = _client().encrypt(
            KeyId=key_id,
            Plaintext=token.encode(),
            EncryptionContext={_CONTEXT_KEY: account_sid},
        )["CiphertextBlob"]
    except (BotoCoreError, ClientError) as error:
        raise Unavailable(type(error).__name__) from error
    return base64.b64encode(blob).decode()


def decrypt_token(account_sid: str, ciphertext: str) -> str:
    cached = _plain.get(account_sid)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        plain = (
            _client()
            .decrypt(
                CiphertextBlob=base64.b64decode(ciphertext),
                EncryptionContext={_CONTEXT_KEY: account_sid},
            )["Plaintext"]
            .decode()
        )
    except (BotoCoreError, ClientError, ValueError) as error:
        raise Unavailable(type(error).__name__) from error
    _plain[account_sid] = (time.monotonic(), plain)
    return plain
