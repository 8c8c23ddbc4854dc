"""Message statuses and directions, and the one table of which status may follow which.

Storage conditions (a write happens only from a status the table allows) and the API's rules
(which update is accepted) both read TRANSITIONS, so they cannot disagree. A status never
goes backwards: every status reachable from another comes later in a message's life, and the
final ones lead nowhere.
"""

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    RECEIVING = "receiving"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    READ = "read"
    PARTIALLY_DELIVERED = "partially_delivered"
    CANCELED = "canceled"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND_API = "outbound-api"
    OUTBOUND_CALL = "outbound-call"
    OUTBOUND_REPLY = "outbound-reply"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    # Waiting for its SendAt: dispatched to the queue, or canceled by the API.
    S.SCHEDULED: frozenset({S.QUEUED, S.ACCEPTED, S.CANCELED}),
    # Waiting for a worker: claimed for the hand-off, or failed before it (expired
    # ValidityPeriod, a sender the carrier refuses).
    S.ACCEPTED: frozenset({S.QUEUED, S.SENDING, S.FAILED}),
    S.QUEUED: frozenset({S.SENDING, S.FAILED}),
    # Claimed by a worker: the carrier took it (sent), refused it or the outcome is unknown
    # (failed); a carrier's final receipt can overtake the worker's own record of `sent`.
    S.SENDING: frozenset({S.SENT, S.FAILED, S.DELIVERED, S.UNDELIVERED}),
    S.SENT: frozenset({S.DELIVERED, S.UNDELIVERED}),
    S.RECEIVING: frozenset({S.RECEIVED}),
    # Final.
    S.DELIVERED: frozenset(),
    S.UNDELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
    S.RECEIVED: frozenset(),
    S.READ: frozenset(),
    S.PARTIALLY_DELIVERED: frozenset(),
}
del S

FINAL = frozenset(status for status, later in TRANSITIONS.items() if not later)
# Waiting for a worker to claim it.
WAITING = frozenset({Status.QUEUED, Status.ACCEPTED})
# In a carrier's hands: it cannot be withdrawn, so it cannot be deleted (20009).
UNDELETABLE = frozenset({Status.SENDING})


def allowed_from(target: Status) -> frozenset[Status]:
    """Every status a message may move to `target` from."""
    return frozenset(status for status, later in TRANSITIONS.items() if target in later)


def may_follow(current: str, target: Status) -> bool:
    return target in TRANSITIONS.get(Status(current), frozenset())
