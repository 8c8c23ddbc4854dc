"""Message statuses and directions, and the one table of which status may follow which.

Storage conditions (a write happens only from a status the table allows) and the API's rules
(which update is accepted) both read TRANSITIONS, so they cannot disagree. A status never
goes backwards: every status reachable from another comes later in a message's life, and the
final ones lead nowhere.

One row is a status qualified by what the message carries: `failed` when nobody knows
whether the carrier took the message (the hand-off timed out, 30410, or the worker that made
it died, 30008) is stored as `failed` with the marker HANDOFF_UNKNOWN. The API shows
`failed`, and nothing Herald does moves it; but the carrier may have taken the message
after all, and its receipt, which knows, moves it on and clears the error (a customer told
`failed` would send the text again).
"""

from enum import StrEnum
from typing import NamedTuple


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


class Qualified(NamedTuple):
    """A status that the transitions table treats apart while the message carries `marker`
    (an attribute set by the write that made the status)."""

    status: Status
    marker: str


State = Status | Qualified
HANDOFF_UNKNOWN = "handoff_unknown"
FAILED_HANDOFF_UNKNOWN = Qualified(Status.FAILED, HANDOFF_UNKNOWN)

S = Status
TRANSITIONS: dict[State, frozenset[Status]] = {
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
    # Failed with the hand-off's outcome unknown: only the carrier's receipt says what
    # happened, and it is recorded as it says (sent, delivered, undelivered).
    FAILED_HANDOFF_UNKNOWN: frozenset({S.SENT, S.DELIVERED, S.UNDELIVERED}),
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


def allowed_from(target: Status) -> frozenset[State]:
    """Every state (status, or qualified status) a message may move to `target` from."""
    return frozenset(state for state, later in TRANSITIONS.items() if target in later)


def state_of(fields: dict) -> State:
    """A stored message's row in the table: its status, qualified by a marker it carries."""
    status = Status(fields["status"])
    for state in TRANSITIONS:
        if isinstance(state, Qualified) and state.status == status and fields.get(state.marker):
            return state
    return status


def may_follow(current: State, target: Status) -> bool:
    return target in TRANSITIONS.get(current, frozenset())
