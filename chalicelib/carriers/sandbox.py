"""The sandbox carrier: deterministic outcomes by destination number, for `make run`, tests
and staging stages, with receipts that take the same path as End User Messaging's.

What a number does (docs/carriers.md has the table for users):
- Twilio's test numbers answer the create itself with Twilio's codes (To +15005550001 21211,
  …2 21612, …3 21408, …4 21610, …9 21614; From +15005550001 21212).
- After the hand-off, by destination: OUTCOMES below; any other number is delivered.
- AWS's simulator numbers (+14254147755 delivered, +14254147167 fails later) behave as End
  User Messaging documents them, so a sandbox stage and one on AWS's simulator agree.

Its receipts are the End User Messaging events AWS would send, queued on the receipt queue
one after another, HERALD_SANDBOX_DELAY_SECONDS apart (1 by default, 0 in tests): the
hand-off queues the first, and each event names those still to come (NEXT); the receipts
function queues the next one once it has applied this one (`follow_up`). One queue write
at a time, each inside a job that comes back until it is done, so no process dying
between two receipts can leave a message waiting for the rest (a hand-off that queued the
first receipt and then died is still delivered, as AWS's would be).
HERALD_SANDBOX_THROTTLE = N makes the first N hand-offs of every message answer "throttled".
"""

import os
import secrets
from dataclasses import dataclass

from chalicelib.carriers import events
from chalicelib.carriers.base import (
    Accepted,
    CreateRefusal,
    Outcome,
    Refused,
    Throttled,
    TimedOut,
)
from chalicelib.runtime import clock, config
from chalicelib.twilio import codes


@dataclass(frozen=True)
class Behaviour:
    """What happens after the hand-off: the events that follow, or a synchronous answer."""

    description: str
    events: tuple[str, ...] = ("TEXT_SUCCESSFUL", "TEXT_DELIVERED")
    answer: str = "accept"  # accept | throttle | refuse | timeout
    error_code: int | None = None


# The events still to come after this one ([[eventType, price], …]), in each sandbox event.
NEXT = "herald_sandbox_next"
HANDOFF_SECONDS = 2.0  # its hand-off is one queue write (a connect timeout of 2 s)
DELIVERED = Behaviour("delivered")
OUTCOMES: dict[str, Behaviour] = {
    "+15005550010": Behaviour("sent, never confirmed", ("TEXT_SUCCESSFUL",)),
    "+15005550011": Behaviour("undelivered 30003", ("TEXT_SUCCESSFUL", "TEXT_UNREACHABLE")),
    "+15005550012": Behaviour("undelivered 30005", ("TEXT_SUCCESSFUL", "TEXT_INVALID")),
    "+15005550013": Behaviour("undelivered 30006", ("TEXT_SUCCESSFUL", "TEXT_CARRIER_UNREACHABLE")),
    "+15005550014": Behaviour("undelivered 30007", ("TEXT_SUCCESSFUL", "TEXT_SPAM")),
    "+15005550015": Behaviour("failed 30008", (), "refuse", codes.UNKNOWN_ERROR),
    "+15005550016": Behaviour("throttled every time, then failed 30001", (), "throttle"),
    "+15005550017": Behaviour("hand-off times out: failed 30410", (), "timeout"),
    # AWS End User Messaging's US simulator destinations.
    "+14254147755": DELIVERED,
    # AWS documents a later failure event; which type is not documented (unverified).
    "+14254147167": Behaviour("undelivered 30003", ("TEXT_SUCCESSFUL", "TEXT_UNREACHABLE")),
}

CREATE_REFUSALS_TO = {
    "+15005550001": CreateRefusal(codes.INVALID_TO, "The 'To' number +15005550001 is not valid."),
    "+15005550002": CreateRefusal(
        codes.TO_NOT_REACHABLE, "The 'To' phone number is not currently reachable."
    ),
    "+15005550003": CreateRefusal(
        codes.REGION_NOT_ENABLED,
        "Permission to send an SMS has not been enabled for the 'To' number's region.",
    ),
    "+15005550004": CreateRefusal(
        codes.UNSUBSCRIBED_RECIPIENT, codes.MESSAGES[codes.UNSUBSCRIBED_RECIPIENT]
    ),
    "+15005550009": CreateRefusal(codes.TO_NOT_MOBILE, "'To' number is not a valid mobile number"),
}
CREATE_REFUSALS_FROM = {
    "+15005550001": CreateRefusal(
        codes.INVALID_FROM,
        "The 'From' number +15005550001 is not a valid phone number or shortcode.",
    ),
}


class Sandbox:
    name = "sandbox"

    def refuse_at_create(self, to: str, from_: str | None) -> CreateRefusal | None:
        return CREATE_REFUSALS_TO.get(to) or CREATE_REFUSALS_FROM.get(from_ or "")

    def send(self, message) -> Outcome:
        behaviour = OUTCOMES.get(message.to, DELIVERED)
        throttles = int(os.environ.get("HERALD_SANDBOX_THROTTLE", "0") or 0)
        # `attempts` counts this claim too: the first `throttles` claims are refused.
        if behaviour.answer == "throttle" or message.attempts <= throttles:
            return Throttled("sandbox: throttled")
        if behaviour.answer == "refuse":
            return Refused(behaviour.error_code, codes.MESSAGES[behaviour.error_code])
        if behaviour.answer == "timeout":
            return TimedOut("sandbox: no answer")
        media_types = None
        if message.media_urls and config.delivery().sandbox_fetches_media:
            # As End User Messaging would (the limits, not the S3 copy): HERALD_SANDBOX_FETCH_MEDIA.
            from chalicelib.outbound import media_fetch

            try:
                fetched = media_fetch.fetch_all(media_fetch.callable_urls(message))
            except media_fetch.MediaRefused as refused:
                return Refused(refused.code, refused.message)
            except media_fetch.MediaLater as later:
                return Throttled(str(later))
            media_types = tuple(item.content_type for item in fetched)
        carrier_id = "sandbox-" + secrets.token_hex(16)
        _receipts(message, carrier_id, behaviour.events)
        return Accepted(carrier_id, media_types)

    def handoff_seconds(self, message) -> float:
        if message.media_urls and config.delivery().sandbox_fetches_media:
            from chalicelib.outbound import media_fetch

            return HANDOFF_SECONDS + media_fetch.SECONDS
        return HANDOFF_SECONDS

    def feedback(self, message) -> None:
        return None  # the sandbox keeps no record of what happened after delivery


def _receipts(message, carrier_id: str, event_types: tuple[str, ...]) -> None:
    """Queue the first of the message's events, naming the others; the carrier's
    acceptance comes at once (the worker records `sent` itself too)."""
    if not event_types:
        return
    price = 0.0079 * message.num_segments
    steps = [
        [event_type, price if event_type == "TEXT_DELIVERED" else None]
        for event_type in event_types
    ]
    first = events.event(
        steps[0][0], message.account_sid, message.sid, carrier_id, clock.now_ms(), message.to,
        message.from_, price=steps[0][1],
    )  # fmt: skip
    _queue({**first, NEXT: steps[1:]} if len(steps) > 1 else first, delay=0)


def follow_up(body: dict) -> None:
    """Queue the event after `body` (a sandbox event just applied), one step later."""
    steps = body.get(NEXT)
    if not (isinstance(steps, list) and steps):
        return
    (event_type, price), rest = steps[0], steps[1:]
    context = body.get("context") or {}
    delay = config.delivery().sandbox_delay_seconds
    event = events.event(
        event_type,
        context.get(events.CONTEXT_ACCOUNT),
        context.get(events.CONTEXT_SID),
        body.get("messageId"),
        clock.now_ms() + delay * 1000,
        body.get("destinationPhoneNumber"),
        body.get("originationPhoneNumber"),
        price=price,
    )
    _queue({**event, NEXT: rest} if rest else event, delay)


def _queue(body: dict, delay: int) -> None:
    from chalicelib.storage import queues

    queues.send(config.delivery().receipt_queue_url, body, delay_seconds=delay)
