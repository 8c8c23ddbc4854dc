"""End User Messaging's delivery events, and what each one means for a Twilio status.

Both carriers speak these events: AWS sends them through the configuration set's SNS topic,
and the sandbox makes the same ones, so a staging stage on the sandbox and one on AWS's
simulator tell the same story. The mapping is Herald's own choice (AWS documents the events,
Twilio the codes); docs/carriers.md shows it as a table.
"""

import json
from dataclasses import dataclass

from chalicelib.messages.status import Status
from chalicelib.twilio import codes

# Context keys Herald sets on every hand-off; End User Messaging echoes them in each event,
# so a receipt finds its message with one read.
CONTEXT_ACCOUNT = "herald_account_sid"
CONTEXT_SID = "herald_message_sid"

# eventType -> (status it moves the message to, Twilio error code). None: no change.
EVENT_STATUSES: dict[str, tuple[Status | None, int | None]] = {
    "TEXT_QUEUED": (None, None),
    "TEXT_PENDING": (None, None),
    "TEXT_SUCCESSFUL": (Status.SENT, None),
    "TEXT_DELIVERED": (Status.DELIVERED, None),
    "TEXT_INVALID": (Status.UNDELIVERED, codes.UNKNOWN_HANDSET),
    "TEXT_INVALID_MESSAGE": (Status.UNDELIVERED, codes.UNKNOWN_ERROR),
    "TEXT_UNREACHABLE": (Status.UNDELIVERED, codes.UNREACHABLE_HANDSET),
    "TEXT_CARRIER_UNREACHABLE": (Status.UNDELIVERED, codes.LANDLINE_OR_UNREACHABLE_CARRIER),
    "TEXT_BLOCKED": (Status.UNDELIVERED, codes.MESSAGE_BLOCKED),
    "TEXT_CARRIER_BLOCKED": (Status.UNDELIVERED, codes.MESSAGE_FILTERED),
    "TEXT_SPAM": (Status.UNDELIVERED, codes.MESSAGE_FILTERED),
    # AWS emits UNKNOWN 72 hours after a hand-off whose outcome never came.
    "TEXT_UNKNOWN": (Status.UNDELIVERED, codes.UNKNOWN_ERROR),
    "TEXT_TTL_EXPIRED": (Status.UNDELIVERED, codes.QUEUE_OVERFLOW),
    "TEXT_PROTECT_BLOCKED": (Status.UNDELIVERED, codes.PUMPING_PROTECTION),
}


@dataclass
class Receipt:
    account_sid: str
    sid: str
    event_type: str
    status: Status | None
    error_code: int | None
    at_ms: int | None
    carrier_id: str | None
    price: str | None


def parse(body: str | dict) -> Receipt | None:
    """The receipt in an event (raw, or inside an SNS notification); None when it is not one
    of Herald's messages (no context) or not a text event Herald knows."""
    try:
        event = json.loads(body) if isinstance(body, str) else body
        if isinstance(event, dict) and event.get("Type") == "Notification":
            event = json.loads(event["Message"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(event, dict):
        return None
    context = event.get("context") or {}
    account_sid, sid = context.get(CONTEXT_ACCOUNT), context.get(CONTEXT_SID)
    event_type = event.get("eventType")
    if not (isinstance(account_sid, str) and isinstance(sid, str)):
        return None
    if event_type not in EVENT_STATUSES:
        return None
    status, code = EVENT_STATUSES[event_type]
    return Receipt(
        account_sid=account_sid,
        sid=sid,
        event_type=event_type,
        status=status,
        error_code=code,
        at_ms=_integer(event.get("eventTimestamp")),
        carrier_id=event.get("messageId"),
        price=_price(event.get("totalMessagePrice")),
    )


def _integer(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _price(value) -> str | None:
    # Twilio reports what a message cost as a negative amount, as a string.
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return f"{-abs(amount):.5f}" if amount else None


def event(
    event_type: str,
    account_sid: str,
    sid: str,
    carrier_id: str,
    at_ms: int,
    to: str,
    from_: str | None,
    price: float | None = None,
) -> dict:
    """An event as End User Messaging shapes it (the sandbox emits these)."""
    status, _ = EVENT_STATUSES[event_type]
    return {
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": at_ms,
        "isFinal": status not in (None, Status.SENT),
        "originationPhoneNumber": from_,
        "destinationPhoneNumber": to,
        "messageId": carrier_id,
        "messageRequestTimestamp": at_ms,
        "messageEncoding": "GSM",
        "messageType": "TRANSACTIONAL",
        "messageStatus": event_type.removeprefix("TEXT_"),
        "messageStatusDescription": event_type.replace("_", " ").title(),
        "totalMessageParts": 1,
        "totalMessagePrice": price or 0.0,
        "totalCarrierFee": 0.0,
        "context": {CONTEXT_ACCOUNT: account_sid, CONTEXT_SID: sid},
    }
