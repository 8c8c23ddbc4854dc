"""An inbound text, from End User Messaging's two-way topic or the sandbox's simulated
handset, becomes an `inbound` message of the account that owns the number it was sent to.

    {"originationNumber": handset, "destinationNumber": Herald number, "messageBody": …,
     "messageKeyword": …, "inboundMessageId": …, "previousPublishedMessageId": …}

The owner is found with one read (storage.numbers, keyed by the number). The message's Sid
is derived from the carrier's inboundMessageId and the time it was published, so a text
handed over twice (SNS and SQS are at-least-once) is stored once: the second put finds it.
Keywords (chalicelib.inbound.keywords) record an opt-out or opt-in before the message is
stored; where the stage answers keywords itself (the sandbox; End User Messaging answers
them on AWS), the answer goes out as an outbound-reply. The app's webhook is called from the
table's stream (chalicelib.delivery.dispatch), like every other consequence of a write.
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from chalicelib import storage
from chalicelib.inbound import keywords, replies
from chalicelib.messages.creation import store_new
from chalicelib.messages.model import Message
from chalicelib.messages.status import Direction, Status
from chalicelib.runtime import clock
from chalicelib.storage import optouts
from chalicelib.twilio import addresses, dates
from chalicelib.twilio.segments import count_segments

log = logging.getLogger("herald.inbound")


@dataclass(frozen=True)
class InboundText:
    inbound_id: str
    handset: str
    number: str
    body: str
    media_urls: list[str]
    at_ms: int


def parse(body: dict) -> InboundText | None:
    """The inbound text in an event (raw, or inside an SNS notification), or None."""
    at_ms = None
    if body.get("Type") == "Notification":
        at_ms = _ms(body.get("Timestamp"))
        try:
            body = json.loads(body.get("Message") or "")
        except ValueError:
            return None
    if not isinstance(body, dict) or not isinstance(body.get("inboundMessageId"), str):
        return None
    handset = addresses.normalize_number(str(body.get("originationNumber") or ""))
    number = addresses.normalize_number(str(body.get("destinationNumber") or ""))
    if handset is None or number is None:
        return None
    media = [url for url in body.get("mediaUrls") or [] if isinstance(url, str)]
    return InboundText(
        inbound_id=body["inboundMessageId"],
        handset=handset,
        number=number,
        body=str(body.get("messageBody") or ""),
        media_urls=media[:10],
        at_ms=body.get("heraldReceivedMs") or at_ms or clock.now_ms(),
    )


def _ms(text) -> int | None:
    try:
        return dates.to_ms(dates.parse_instant(str(text).replace("Z", "+00:00")))
    except (ValueError, TypeError):
        return None


def inbound_sid(inbound_id: str, at_ms: int, has_media: bool) -> str:
    digest = hashlib.sha256(inbound_id.encode()).hexdigest()[:20]
    return f"{'MM' if has_media else 'SM'}{at_ms:012x}{digest}"


def receive(text: InboundText) -> Message | None:
    """Store the text as an inbound message of the number's owner; None when no account
    owns the number (the text is dropped, and logged)."""
    from chalicelib.storage import numbers

    owner = numbers.get_owner(text.number)
    if owner is None:
        log.warning("inbound text to a number no account owns; dropped")
        return None
    keyword = keywords.keyword_of(text.body)
    if keyword == keywords.Keyword.OPT_OUT:
        optouts.opt_out(text.number, text.handset, text.body.strip().upper())
    elif keyword == keywords.Keyword.OPT_IN:
        optouts.opt_in(text.number, text.handset)
    message = _message(owner["account_sid"], text)
    try:
        store_new(message)
    except storage.Exists:
        return message  # handed over before: stored then (and answered then)
    if keyword is not None:
        replies.keyword_reply(message, keyword)
    return message


def _message(account_sid: str, text: InboundText) -> Message:
    sid = inbound_sid(text.inbound_id, text.at_ms, bool(text.media_urls))
    return Message(
        account_sid=account_sid,
        sid=sid,
        to=text.number,
        from_=text.handset,
        body=text.body,
        status=Status.RECEIVED.value,
        created_ms=text.at_ms,
        updated_ms=text.at_ms,
        sent_ms=text.at_ms,
        num_segments=count_segments(text.body),
        media_urls=text.media_urls,
        direction=Direction.INBOUND.value,
        history=[{"status": Status.RECEIVED.value, "at_ms": text.at_ms}],
        carrier_id=text.inbound_id,
    )
