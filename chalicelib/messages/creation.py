"""Creating a message, once: an Idempotency-Key makes a retried create find the first one.

Every new message is stored here (the API's, an inbound text, a reply), and every one that
goes out passes chalicelib.messages.checks.outbound first: sender, opt-out, address and URL
rules are applied in one place, whichever path made the message. Here too, the credentials
written in its URLs (StatusCallback, MediaUrl) are sealed before anything is stored
(chalicelib.storage.url_credentials): no path can store one in plain text."""

import hashlib
import json
from dataclasses import dataclass

from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.messages import checks
from chalicelib.messages.model import Message
from chalicelib.messages.params import new_message
from chalicelib.messages.status import Direction
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import schema
from chalicelib.twilio import codes, errors, forms, sids

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255
SID_ATTEMPTS = 3


@dataclass
class Created:
    message: Message
    replayed: bool = False


def create(account_sid: str, params: forms.Params, idempotency_key: str | None = None) -> Created:
    """Validate and store a new message.

    With an idempotency key, the message's Sid is derived from the account and the key, so
    a retry with the same parameters finds the first message instead of making a second one
    (`replayed`, answered with the message as it is now, or as it was when deleted), and the
    same key with other parameters is refused. Keys belong to the account; a key makes one
    message, which its retries find for at least IDEMPOTENCY_TTL_SECONDS (for as long as it
    exists; deleted, for IDEMPOTENCY_TTL_SECONDS after it was made).
    """
    message = new_message(account_sid, params)
    # Last: the checks that read DynamoDB are paid only by an otherwise valid create.
    checks.outbound(message)
    digest = _request_digest(idempotency_key, params)
    _seal_credentials(message)
    if digest is None:
        _store(message)
        return Created(message)
    message.sid = schema.keyed_message_sid(account_sid, idempotency_key, bool(message.media_urls))
    try:
        stored_messages.put_new_message(
            message.to_fields(), shard_for(account_sid, message.sid), digest
        )
    except storage.Exists as taken:
        return _replay(account_sid, taken.item, digest)
    return Created(message)


def _replay(account_sid: str, earlier: dict, digest: str) -> Created:
    """The answer to a retry that found `earlier` (a message or a stand-in) at its Sid."""
    if earlier.get(schema.IDEMPOTENCY_DIGEST) != digest:
        raise errors.TwilioError(
            codes.INVALID_PARAMETER,
            "This idempotency key was already used with different parameters.",
            422,
        )
    if not schema.is_stand_in(earlier):
        return Created(Message.from_fields(schema.fields_of(earlier)), replayed=True)
    # Deleted since (answered as it was then), or made before keyed Sids (its message).
    current = None
    if earlier.get(schema.ALIAS_OF):
        current = stored_messages.get_message(account_sid, earlier[schema.ALIAS_OF])
    return Created(Message.from_fields(current or earlier[schema.REPLAY]), replayed=True)


def shard_for(account_sid: str, sid: str) -> int:
    """The list shard a new message of this account goes to (the account's write count)."""
    found = credentials.account(account_sid)
    shards = found.list_shards_for_writing() if found else schema.DEFAULT_LIST_SHARDS
    return schema.shard_of(sid, shards)


def store_new(message: Message, *, answers_keyword: bool = False) -> None:
    """Store a message made elsewhere (an inbound text, a reply) under its own Sid, which
    may be derived (so a retried job finds it): raises storage.Exists when it is there, and
    for a message that goes out, the TwilioError of checks.outbound that refuses it (a
    keyword's own answer goes to a handset that just opted out: `answers_keyword`)."""
    if message.direction != Direction.INBOUND.value:
        checks.outbound(message, answers_keyword=answers_keyword)
        _seal_credentials(message)
    stored_messages.put_new_message(
        message.to_fields(), shard_for(message.account_sid, message.sid)
    )


def _seal_credentials(message: Message) -> None:
    """Encrypt the user info of the message's URLs, in place (a KMS call only for a URL that
    has some; tokens.Unavailable, a 503 or a job that comes back, when KMS fails)."""
    from chalicelib.storage.url_credentials import sealed

    if message.options.get("StatusCallback"):
        message.options["StatusCallback"] = sealed(
            message.account_sid, message.options["StatusCallback"]
        )
    message.media_urls = [sealed(message.account_sid, url) for url in message.media_urls]


def _store(message: Message) -> None:
    """Store a new message under a random Sid.

    80 random bits per millisecond make a Sid collision all but impossible; should one
    happen, the conditional put keeps the first message and this one takes a new Sid.
    """
    for attempt in range(SID_ATTEMPTS):
        try:
            stored_messages.put_new_message(
                message.to_fields(), shard_for(message.account_sid, message.sid)
            )
            return
        except storage.Exists:
            if attempt == SID_ATTEMPTS - 1:
                raise storage.Unavailable("Sid collision") from None
            message.sid = sids.message_sid(message.created_ms, has_media=bool(message.media_urls))


def _request_digest(key: str | None, params: forms.Params) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise errors.bad_parameter(
            f"An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        )
    canonical = json.dumps(sorted(params.items()), ensure_ascii=False).encode()
    return hashlib.sha256(canonical).hexdigest()
