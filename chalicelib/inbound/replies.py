"""Outbound replies to an inbound text: the app's TwiML <Message>s and the keyword answers.

A reply is an ordinary message (direction outbound-reply, status queued) that the delivery
pipeline sends like any other. Its Sid is derived from the inbound message's and the reply's
place in the answer, so a webhook job that runs twice (queues are at-least-once) makes each
reply once. A reply to a handset that opted out of the number is not made (21610), except
the answer to STOP itself.
"""

import contextlib
import hashlib

from chalicelib import addresses, clock, config, storage
from chalicelib.inbound import keywords
from chalicelib.messages.creation import store_new
from chalicelib.messages.model import Message
from chalicelib.messages.params import MAX_BODY_CHARS
from chalicelib.messages.status import Direction, Status
from chalicelib.segments import count_segments
from chalicelib.storage import optouts


def reply_sid(inbound_sid: str, place: str, has_media: bool) -> str:
    digest = hashlib.sha256(f"{inbound_sid}#{place}".encode()).hexdigest()[:20]
    return f"{'MM' if has_media else 'SM'}{inbound_sid[2:14]}{digest}"


def keyword_reply(inbound: Message, keyword: keywords.Keyword) -> None:
    if not config.delivery().keyword_replies:
        return
    send(inbound, "keyword", keywords.REPLIES[keyword], bypass_opt_out=True)


def send(
    inbound: Message,
    place: str,
    body: str,
    media_urls: list[str] | None = None,
    to: str | None = None,
    from_: str | None = None,
    status_callback: str | None = None,
    callback_method: str = "POST",
    bypass_opt_out: bool = False,
) -> Message | int:
    """Make one reply (once); the message, or the Twilio code that says why it was not made."""
    to = addresses.normalize_address(to) if to else inbound.from_
    from_ = addresses.normalize_address(from_, allow_alphanumeric=True) if from_ else inbound.to
    if to is None:
        return 21211
    if from_ is None:
        return 21212
    if len(body) > MAX_BODY_CHARS:
        return 21617
    if not bypass_opt_out and optouts.is_opted_out(from_, to):
        return 21610
    media_urls = media_urls or []
    now = clock.now_ms()
    options = {}
    if status_callback:
        options = {"StatusCallback": status_callback, "StatusCallbackMethod": callback_method}
    reply = Message(
        account_sid=inbound.account_sid,
        sid=reply_sid(inbound.sid, place, bool(media_urls)),
        to=to,
        from_=from_,
        body=body,
        status=Status.QUEUED.value,
        created_ms=now,
        updated_ms=now,
        num_segments=count_segments(body),
        media_urls=media_urls,
        direction=Direction.OUTBOUND_REPLY.value,
        options=options,
        history=[{"status": Status.QUEUED.value, "at_ms": now}],
    )
    with contextlib.suppress(storage.Exists):  # made by an earlier run of the same job
        store_new(reply)
    return reply
