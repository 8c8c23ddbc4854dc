"""Carrier receipts: End User Messaging events (from AWS, or made by the sandbox) move a
message to the status they report. Inbound texts arrive on the same queue and go to
chalicelib.inbound.receive.

A receipt is applied only when the transitions table allows its status after the message's
current one, so a receipt that arrives twice, or after a later one, changes nothing, and a
status never goes backwards. A receipt can overtake the worker's own record of the hand-off
(the carrier answers fast): then it also sets `date_sent`, as the carrier took the message.

A message that failed because nobody knew whether the carrier took it (status
FAILED_HANDOFF_UNKNOWN: 30410, or 30008 after a dead worker's lease) is moved on by its
receipts as any other: the carrier's word is the truth, and the error is cleared.

The sandbox carrier's receipts come one after another: each of its events names the next
(chalicelib.carriers.sandbox), queued only once this one was applied, so a process dying
between two receipts leaves the next one to be queued by this job coming back.

Each receipt writes one `receipt` line, applied or ignored and why. MessagesDelivered and
MessagesUndelivered are counted only by the receipt whose conditional write made the change,
so a receipt handled twice is counted once (MessagesSent is the worker's: the carrier's
acceptance of the hand-off, not its TEXT_SUCCESSFUL event).
"""

from chalicelib import observability, storage
from chalicelib.carriers import events
from chalicelib.delivery import sources
from chalicelib.jobs.batch import Job, process
from chalicelib.messages import lifecycle
from chalicelib.messages.status import FAILED_HANDOFF_UNKNOWN, Status, may_follow, state_of
from chalicelib.runtime import clock, config
from chalicelib.storage import events as message_events
from chalicelib.storage import messages as stored_messages
from chalicelib.twilio import codes

COUNTED = {Status.DELIVERED: "MessagesDelivered", Status.UNDELIVERED: "MessagesUndelivered"}
USUAL = frozenset({Status.SENT, Status.DELIVERED})


def handle(event: dict, context=None) -> dict:
    return process(
        event,
        config.delivery().receipt_queue_url,
        apply_job,
        context,
        max_receives=sources.RECEIPT_MAX_RECEIVES,
        last_receive=_last_receive,
    )


def apply_job(job: Job) -> None:
    # The carrier's two-way texts come on this queue too (End User Messaging's two-way
    # topic, or the sandbox's simulated handset): one queue for everything a carrier says.
    from chalicelib.inbound import receive

    text = receive.parse(job.body)
    if text is not None:
        receive.receive(text)
        return
    receipt = events.parse(job.body.get("raw", job.body))
    if receipt is None:
        observability.event(
            "receipt", message_id=job.message_id, outcome="ignored",
            reason="not a text event of Herald's",
        )  # fmt: skip
        return
    apply(receipt)
    _follow_up(job.body)


def _follow_up(body: dict) -> None:
    """The sandbox's next receipt, queued now that this one is applied (a dying process
    leaves it to this job, coming back)."""
    from chalicelib.carriers import SANDBOX, sandbox

    if sandbox.NEXT in body and config.delivery().carrier == SANDBOX:
        sandbox.follow_up(body)


def _last_receive(job: Job, reason: str) -> bool:
    """A receipt on its last receive that was not applied goes to the dead-letter queue
    (where it waits to be moved back, docs/operations.md); its message says so meanwhile,
    with the attempts the inbox shows."""
    receipt = events.parse(job.body.get("raw", job.body))
    if receipt is not None:
        message_events.record(
            receipt.account_sid,
            receipt.sid,
            {
                "kind": "receipt",
                "status": receipt.status,
                "attempt": job.receive_count,
                "error": f"{receipt.event_type} not applied, in the dead-letter queue: {reason}",
            },
        )
    return False


def apply(receipt: events.Receipt) -> bool:
    """Apply one receipt; whether it changed the message."""
    fields = stored_messages.get_message(receipt.account_sid, receipt.sid)
    if fields is None:
        return _ignored(receipt, "message deleted")
    if receipt.status is None:
        return _ignored(receipt, "no status change")
    state = state_of(fields)
    if not may_follow(state, receipt.status):
        # A duplicate, or older than what the message already says.
        # The usual case too (the carrier's TEXT_SUCCESSFUL after the worker recorded sent).
        return _ignored(
            receipt, f"duplicate or stale: the message is {fields['status']}", level="debug"
        )
    changes: dict = {}
    if receipt.error_code is not None:
        changes["error_code"] = receipt.error_code
        changes["error_message"] = codes.MESSAGES.get(receipt.error_code)
    if receipt.price is not None:
        changes["price"] = receipt.price
    if fields.get("sent_ms") is None:
        # The carrier took it during its claim, whatever the event's time says.
        sent_ms = receipt.at_ms or clock.now_ms()
        changes.update(
            lifecycle.sent_changes(fields, min(sent_ms, fields.get("lease_until_ms") or sent_ms))
        )
    if receipt.carrier_id and not fields.get("carrier_id"):
        changes["carrier_id"] = receipt.carrier_id
    try:
        lifecycle.transition(receipt.account_sid, receipt.sid, Status(receipt.status), changes)
    except (storage.Missing, storage.WrongState):
        return _ignored(receipt, "another receipt or the worker moved it first")
    counted = COUNTED.get(receipt.status)
    unknown = state == FAILED_HANDOFF_UNKNOWN
    observability.event(
        "receipt",
        # Sent or delivered as expected: a debug line; anything else is worth reading.
        level="debug" if receipt.status in USUAL and not unknown else "info",
        account_sid=receipt.account_sid,
        sid=receipt.sid,
        carrier_event=receipt.event_type,
        status=receipt.status,
        error_code=receipt.error_code,
        outcome="applied",
        reason="the hand-off's outcome was unknown" if unknown else None,
        metrics={counted: 1} if counted else None,
    )
    return True


def _ignored(receipt: events.Receipt, reason: str, level: str = "info") -> bool:
    observability.event(
        "receipt",
        level=level,
        account_sid=receipt.account_sid,
        sid=receipt.sid,
        carrier_event=receipt.event_type,
        status=receipt.status,
        outcome="ignored",
        reason=reason,
    )
    return False
