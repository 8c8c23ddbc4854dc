"""Creating a message, once: an Idempotency-Key makes a retried create find the first one."""

import hashlib
import json
from dataclasses import dataclass

from chalicelib import auth, errors, forms, sids, storage
from chalicelib.messages.model import Message
from chalicelib.messages.params import new_message
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import schema

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255
SID_ATTEMPTS = 3


@dataclass
class Created:
    message: Message
    replayed: bool = False


def create(account_sid: str, params: forms.Params, idempotency_key: str | None = None) -> Created:
    """Validate and store a new message.

    With an idempotency key, a retry with the same parameters finds the first message
    instead of making a second one (`replayed`, answered with the message as it is now),
    and the same key with other parameters is refused; keys belong to the account and live
    IDEMPOTENCY_TTL_SECONDS.
    """
    message = new_message(account_sid, params)
    record = _idempotency_record(idempotency_key, params, message.created_ms)
    earlier = _store(message, record)
    if earlier is None:
        return Created(message)
    if earlier.get("request_digest") != record["request_digest"]:
        raise errors.TwilioError(
            20001, "This idempotency key was already used with different parameters.", 422
        )
    current = stored_messages.get_message(account_sid, earlier["message_sid"])
    # A message deleted since is answered as it was first made.
    return Created(Message.from_fields(current or earlier["message"]), replayed=True)


def _store(message: Message, record: dict | None) -> dict | None:
    """Store a new message (with its idempotency record); the earlier record, if any.

    80 random bits per millisecond make a Sid collision all but impossible; should one
    happen, the conditional put keeps the first message and this one takes a new Sid.
    """
    found = auth.account(message.account_sid)
    shards = found.list_shards_for_writing() if found else schema.DEFAULT_LIST_SHARDS
    for attempt in range(SID_ATTEMPTS):
        shard = schema.shard_of(message.sid, shards)
        try:
            if record is None:
                stored_messages.put_new_message(message.to_fields(), shard)
                return None
            return stored_messages.put_new_message_once(
                message.to_fields(), shard, record, message.created_ms // 1000
            )
        except storage.Exists:
            if attempt == SID_ATTEMPTS - 1:
                raise storage.Unavailable("Sid collision") from None
            message.sid = sids.message_sid(message.created_ms, has_media=bool(message.media_urls))
    return None


def _idempotency_record(key: str | None, params: forms.Params, now_ms: int) -> dict | None:
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise errors.bad_parameter(
            f"An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        )
    canonical = json.dumps(sorted(params.items()), ensure_ascii=False).encode()
    return {
        "key": key,
        "request_digest": hashlib.sha256(canonical).hexdigest(),
        schema.TTL_ATTRIBUTE: now_ms // 1000 + IDEMPOTENCY_TTL_SECONDS,
    }
