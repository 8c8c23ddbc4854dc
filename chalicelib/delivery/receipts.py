"""Carrier receipts: End User Messaging events (from AWS, or made by the sandbox) move a
message to the status they report.

A receipt is applied only when the transitions table allows its status after the message's
current one, so a receipt that arrives twice, or after a later one, changes nothing, and a
status never goes backwards. A receipt can overtake the worker's own record of the hand-off
(the carrier answers fast): then it also sets `date_sent`, as the carrier took the message.
"""

import logging

from chalicelib import clock, config, storage
from chalicelib.carriers import events
from chalicelib.delivery.batch import Job, process
from chalicelib.messages import lifecycle
from chalicelib.messages.status import Status, may_follow
from chalicelib.storage import messages as stored_messages

log = logging.getLogger("herald.delivery")


def handle(event: dict) -> dict:
    return process(event, config.delivery().receipt_queue_url, apply_job)


def apply_job(job: Job) -> None:
    receipt = events.parse(job.body.get("raw", job.body))
    if receipt is None:
        log.info("ignoring a carrier event that is not one of Herald's: %s", job.message_id)
        return
    apply(receipt)


def apply(receipt: events.Receipt) -> bool:
    """Apply one receipt; whether it changed the message."""
    fields = stored_messages.get_message(receipt.account_sid, receipt.sid)
    if fields is None or receipt.status is None:
        return False
    if not may_follow(fields["status"], receipt.status):
        return False  # a duplicate, or older than what the message already says
    changes: dict = {}
    if receipt.error_code is not None:
        changes["error_code"] = receipt.error_code
        changes["error_message"] = events.ERROR_MESSAGES.get(receipt.error_code)
    if receipt.price is not None:
        changes["price"] = receipt.price
    if fields.get("sent_ms") is None:
        changes["sent_ms"] = receipt.at_ms or clock.now_ms()
    if receipt.carrier_id and not fields.get("carrier_id"):
        changes["carrier_id"] = receipt.carrier_id
    try:
        lifecycle.transition(receipt.account_sid, receipt.sid, Status(receipt.status), changes)
    except (storage.Missing, storage.WrongState):
        return False  # another receipt or the worker moved it first
    return True
