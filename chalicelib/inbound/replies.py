"""Outbound replies to an inbound text: the app's TwiML <Message>s and the keyword answers.

A reply is an ordinary message (direction outbound-reply, status queued) that the delivery
pipeline sends like any other. Its Sid is derived from the inbound message's and the reply's
place in the answer, so a webhook job that runs twice (queues are at-least-once) makes each
reply once. A reply passes the rules every outbound message passes
(chalicelib.messages.checks, applied where it is stored): one that breaks one is not made,
and the Twilio code that says why is recorded with the inbound message (webhook.py). So a
TwiML `from` must be the account's own number where the API's From must be (21606), a
handset that opted out of the number gets no reply (21610, except the answer to STOP
itself), and `<Media>` and `action` must be http(s) URLs (21620, 21609).
"""

import hashlib

from chalicelib import storage
from chalicelib.inbound import keywords
from chalicelib.messages import checks
from chalicelib.messages.creation import store_new
from chalicelib.messages.model import Message
from chalicelib.messages.status import Direction, Status
from chalicelib.runtime import clock, config
from chalicelib.twilio import errors
from chalicelib.twilio.segments import count_segments


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
    try:
        to = checks.to_address(to) if to else inbound.from_
        from_ = checks.from_address(from_) if from_ else inbound.to
    except errors.TwilioError as refused:
        return refused.code
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
    try:
        store_new(reply, answers_keyword=bypass_opt_out)
    except storage.Exists:
        pass  # made by an earlier run of the same job
    except errors.TwilioError as refused:
        return refused.code
    return reply
