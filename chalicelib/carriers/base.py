"""What a carrier is to Herald: a hand-off that answers at once, and receipts that come later.

The worker calls `send` once per claim. Its answer says what became of the hand-off:

    Accepted   the carrier took the message (it is `sent`; receipts will follow)
    Throttled  the carrier refused for rate or quota: nothing was handed over, try later
    Refused    the carrier will never take this message: it `failed`, with a Twilio code
    TimedOut   nobody knows whether the carrier took it: it `failed` (30410) and is never
               handed over again, so that it cannot be sent twice

Receipts (delivered, undelivered, …) arrive later as End User Messaging events, from AWS or
from the sandbox, through one path: chalicelib.delivery.receipts.
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Accepted:
    carrier_id: str
    # The content types of the message's media as the carrier took them, where it fetched
    # them (recorded on the message's Media).
    media_types: tuple[str, ...] | None = None


@dataclass
class Throttled:
    reason: str


@dataclass
class Refused:
    error_code: int
    error_message: str


@dataclass
class TimedOut:
    reason: str


Outcome = Accepted | Throttled | Refused | TimedOut


@dataclass
class CreateRefusal:
    """A create the carrier answers synchronously with a Twilio error (test numbers)."""

    code: int
    message: str


class Carrier(Protocol):
    name: str

    def refuse_at_create(self, to: str, from_: str | None) -> CreateRefusal | None:
        """A Twilio error the create itself must answer with, or None."""

    def send(self, message) -> Outcome:
        """Hand `message` (a chalicelib.messages.Message) over, once."""

    def handoff_seconds(self, message) -> float:
        """The longest `send(message)` can take (its timeouts, media fetches included): the
        worker claims a message only with that much of its invocation's time left."""

    def feedback(self, message) -> None:
        """Pass the message's Feedback on (its `feedback["outcome"]`), where the carrier
        takes feedback; nothing otherwise."""
