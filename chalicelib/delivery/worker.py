"""The send worker: claim a waiting message, hand it to the carrier once, record what happened.

Guarantees (docs/delivery.md tests each one by killing the worker between the steps):
- Never sent twice. A worker claims a message before the hand-off, with one conditional
  write to `sending` that stores a claim token and a lease; a second worker, or the same job
  handed over again, finds it claimed and does nothing. Once claimed, the message is handed
  over at most once: if the worker dies after claiming, nobody knows whether the carrier
  took it, so when the lease has expired the message ends `failed` with 30008 instead of
  being handed over again. Only an answer that says nothing was handed over (throttled)
  releases the claim for another attempt.
- Never lost. A job whose message is still waiting is retried until the message reaches a
  final status: SQS hands back any job a worker did not finish, and the worker either sends
  it, finds it done, or (its lease having expired) fails it.

The lease outlives the function's timeout, so an expired claim always belongs to a worker
that is gone. Status changes use chalicelib.messages.transition, i.e. the transitions table.
"""

import logging
import secrets

from chalicelib import carriers, clock, config, storage
from chalicelib.carriers import events
from chalicelib.carriers.base import Accepted, Refused, Throttled, TimedOut
from chalicelib.delivery.batch import Job, RetryLater, process
from chalicelib.messages import lifecycle
from chalicelib.messages.model import Message
from chalicelib.messages.status import WAITING, Status
from chalicelib.storage import messages as stored_messages

log = logging.getLogger("herald.delivery")


def handle(event: dict) -> dict:
    return process(event, config.delivery().send_queue_url, send_one)


def send_one(job: Job) -> None:
    account_sid, sid = job.body.get("account_sid"), job.body.get("sid")
    if not (isinstance(account_sid, str) and isinstance(sid, str)):
        log.warning("dropping a send job without a message: %s", job.message_id)
        return
    fields = stored_messages.get_message(account_sid, sid)
    if fields is None:
        return  # deleted (withdrawn) before a worker got to it
    message = Message.from_fields(fields)
    if message.status in WAITING or _released(message):
        _claim_and_send(message)
    elif message.status == Status.SENDING:
        _settle_claimed(message)
    # Anything else (scheduled, sent, final) is not this job's to do.


def _released(message: Message) -> bool:
    return message.status == Status.SENDING and message.claim is None


def _claim_and_send(message: Message) -> None:
    settings = config.delivery()
    now = clock.now_ms()
    expired = _validity_expired(message, now)
    if expired or message.attempts >= settings.max_send_attempts:
        _fail(message, 30001, None, claimed=False)
        return
    token = secrets.token_hex(8)
    changes = {
        "claim": token,
        "lease_until_ms": now + settings.lease_seconds * 1000,
        "attempts": message.attempts + 1,
    }
    # Only one claimer wins: the status (or, after a throttle, the absent claim) and the
    # attempt count it read must still hold.
    same_attempts = "attribute_not_exists(attempts) OR attempts = :seen"
    try:
        if message.status in WAITING:
            claimed = lifecycle.transition(
                message.account_sid,
                message.sid,
                Status.SENDING,
                changes,
                condition=same_attempts,
                values={":seen": message.attempts},
            )
        else:
            claimed = Message.from_fields(
                stored_messages.update_message(
                    message.account_sid,
                    message.sid,
                    {**changes, "updated_ms": now},
                    statuses=[Status.SENDING],
                    condition=f"attribute_not_exists(claim) AND ({same_attempts})",
                    values={":seen": message.attempts},
                )
            )
    except (storage.Missing, storage.WrongState):
        return  # another worker claimed it, or it was deleted or canceled meanwhile
    _hand_over(claimed, token)


def _hand_over(message: Message, token: str) -> None:
    settings = config.delivery()
    outcome = carriers.current().send(message)
    mine = {"condition": "claim = :claim", "values": {":claim": token}}
    try:
        if isinstance(outcome, Accepted):
            lifecycle.transition(
                message.account_sid,
                message.sid,
                Status.SENT,
                {"sent_ms": clock.now_ms(), "carrier_id": outcome.carrier_id},
                **mine,
            )
        elif isinstance(outcome, Throttled):
            # Nothing was handed over: release the claim and try again later.
            stored_messages.update_message(
                message.account_sid,
                message.sid,
                {"updated_ms": clock.now_ms()},
                statuses=[Status.SENDING],
                remove=["claim", "lease_until_ms"],
                **mine,
            )
            delay = settings.retry_base_seconds * 2 ** (message.attempts - 1)
            raise RetryLater(min(delay, 900), outcome.reason)
        elif isinstance(outcome, Refused):
            _fail(message, outcome.error_code, outcome.error_message, claimed=True, **mine)
        elif isinstance(outcome, TimedOut):
            _fail(message, 30410, None, claimed=True, **mine)
    except (storage.Missing, storage.WrongState):
        # A receipt overtook this record (the carrier already said delivered), or the
        # lease was judged expired: either way the message's status is not ours to set.
        log.info("message %s moved on before the worker recorded its hand-off", message.sid)


def _settle_claimed(message: Message) -> None:
    """A message another worker claimed: wait for its lease, then fail it if it is still
    unresolved (that worker is gone and nobody knows whether the carrier took it)."""
    now = clock.now_ms()
    lease = message.lease_until_ms or 0
    if now < lease:
        raise RetryLater(max(1, -(-(lease - now) // 1000)), "claimed by another worker")
    try:
        _fail(
            message,
            30008,
            "The hand-off's outcome is unknown",
            claimed=True,
            condition="claim = :claim",
            values={":claim": message.claim},
        )
    except (storage.Missing, storage.WrongState):
        return


def _fail(message: Message, code: int, text: str | None, claimed: bool, **conditions) -> None:
    changes = {"error_code": code, "error_message": text or events.ERROR_MESSAGES.get(code)}
    if not claimed:
        # Never over a claim another worker took meanwhile: its hand-off may be under way.
        conditions = {"condition": "attribute_not_exists(claim)"}
    try:
        lifecycle.transition(message.account_sid, message.sid, Status.FAILED, changes, **conditions)
    except (storage.Missing, storage.WrongState):
        if claimed:
            raise
        return


def _validity_expired(message: Message, now_ms: int) -> bool:
    period = message.options.get("ValidityPeriod")
    if not period:
        return False
    start = message.send_at_ms or message.created_ms
    return now_ms > start + int(period) * 1000
