"""The send worker: claim a waiting message, hand it to the carrier once, record what happened.

Guarantees (docs/delivery.md tests each one by killing the worker between the steps):
- Never sent twice. A worker claims a message before the hand-off, with one conditional
  write to `sending` that stores a claim token and a lease; a second worker, or the same job
  handed over again, finds it claimed and does nothing. Once claimed, the message is handed
  over at most once: if the worker dies after claiming, nobody knows whether the carrier
  took it, so when the lease has expired the message ends `failed` with 30008 instead of
  being handed over again (marked as an unknown outcome, as is a hand-off that timed out,
  30410: the carrier's later receipt may still move it on). Only an answer that says
  nothing was handed over (throttled) releases the claim for another attempt.
- Never lost. A job whose message is still waiting is retried until the message reaches a
  final status: SQS hands back any job a worker did not finish, and the worker either sends
  it, finds it done, or (its lease having expired) fails it. On the job's last receive
  (settle_last_receive) the message is settled rather than left waiting with no job.
- Within the invocation's time. A message is claimed only when the time left covers the
  carrier's worst case for its hand-off (Carrier.handoff_seconds); otherwise the job comes
  back at once (batch.OutOfTime), nothing claimed.

The lease outlives the function's timeout, so an expired claim always belongs to a worker
that is gone. Status changes use chalicelib.messages.transition, i.e. the transitions table.

Each job writes lines (chalicelib.observability): `send.skip`, `send.claim`, `send.handoff`
(with the carrier's latency) and `send.fail`. MessagesSent is counted where the carrier
accepted a hand-off made under this worker's claim, the other statuses where this worker's
conditional write made the change: a job run twice counts nothing twice.
"""

import secrets
import time

from chalicelib import carriers, observability, storage
from chalicelib.carriers.base import Accepted, Refused, Throttled, TimedOut
from chalicelib.delivery import sources
from chalicelib.jobs.batch import Job, RetryLater, process
from chalicelib.messages import lifecycle
from chalicelib.messages.model import Message
from chalicelib.messages.status import HANDOFF_UNKNOWN, WAITING, Status
from chalicelib.runtime import clock, config
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import queues
from chalicelib.twilio import codes

# Twilio's default ValidityPeriod (and its maximum): a message not handed over within it fails.
DEFAULT_VALIDITY_SECONDS = 36_000
OUTCOMES = {Accepted: "accepted", Throttled: "throttled", Refused: "refused", TimedOut: "timed_out"}


def handle(event: dict, context=None) -> dict:
    return process(
        event,
        config.delivery().send_queue_url,
        send_one,
        context,
        max_receives=sources.SEND_MAX_RECEIVES,
        last_receive=settle_last_receive,
    )


def send_one(job: Job) -> None:
    if job.body.get("kind") == "feedback":
        _pass_feedback_on(job)
        return
    account_sid, sid = job.body.get("account_sid"), job.body.get("sid")
    if not (isinstance(account_sid, str) and isinstance(sid, str)):
        observability.event(
            "send.skip", level="warning", message_id=job.message_id, reason="malformed job"
        )
        return
    fields = stored_messages.get_message(account_sid, sid)
    if fields is None:
        # Deleted (withdrawn) before a worker got to it.
        observability.event("send.skip", account_sid=account_sid, sid=sid, reason="deleted")
        return
    message = Message.from_fields(fields)
    if message.status in WAITING or _released(message):
        _claim_and_send(message, job)
    elif message.status == Status.SENDING:
        _settle_claimed(message)
    else:
        # Scheduled, sent or final: not this job's to do (a repeated job, usually).
        observability.event(
            "send.skip", account_sid=account_sid, sid=sid, status=message.status,
            reason="not waiting",
        )  # fmt: skip


def _released(message: Message) -> bool:
    return message.status == Status.SENDING and message.claim is None


def _claim_and_send(message: Message, job: Job) -> None:
    settings = config.delivery()
    now = clock.now_ms()
    expired = _validity_expired(message, now)
    if expired or message.attempts >= settings.max_send_attempts:
        written = _fail(message, codes.QUEUE_OVERFLOW, None, claimed=False)
        reason = "validity period expired" if expired else "send attempts exhausted"
        _fail_line(message, codes.QUEUE_OVERFLOW, reason, written)
        return
    # Claim only with time for the hand-off's worst case: a hand-off cut short by the
    # invocation's end could not be told from one the carrier took.
    job.require(carriers.current().handoff_seconds(message), "the hand-off")
    token = secrets.token_hex(8)
    changes = {
        "claim": token,
        "lease_until_ms": now + settings.lease_seconds * 1000,
        "attempts": message.attempts + 1,
    }
    # Only one claimer wins: the status and the attempt count it read must still hold. Every
    # claim raises the count, so after a throttle an unchanged count also means no claim was
    # taken since (a claim taken and released again leaves the claim absent but the count
    # moved: tests/delivery/test_guarantees.py races both).
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
                    condition=same_attempts,
                    values={":seen": message.attempts},
                )
            )
    except (storage.Missing, storage.WrongState):
        # Another worker claimed it, or it was deleted or canceled meanwhile.
        _claim_line(message, message.attempts + 1, "lost")
        return
    _claim_line(claimed, claimed.attempts, "claimed")
    _hand_over(claimed, token)


def _claim_line(message: Message, attempt: int, outcome: str) -> None:
    # A claim made is a step that went as it should: a debug line (the hand-off's says more).
    observability.event(
        "send.claim", level="debug" if outcome == "claimed" else "info",
        account_sid=message.account_sid, sid=message.sid, attempt=attempt, outcome=outcome,
    )  # fmt: skip


def _hand_over(message: Message, token: str) -> None:
    settings = config.delivery()
    carrier = carriers.current()
    started = time.perf_counter()
    outcome = carrier.send(message)
    latency_ms = observability.elapsed_ms(started)
    mine = {"condition": "claim = :claim", "values": {":claim": token}}
    retry = None
    try:
        if isinstance(outcome, Accepted):
            # Within the claim's lease: a worker that hung past it is not the one to say.
            sent_ms = min(clock.now_ms(), message.lease_until_ms or clock.now_ms())
            changes = {
                **lifecycle.sent_changes(message.to_fields(), sent_ms),
                "carrier_id": outcome.carrier_id,
            }
            if outcome.media_types and len(outcome.media_types) == len(message.media_urls):
                changes["media_types"] = list(outcome.media_types)  # as the carrier found them
            lifecycle.transition(message.account_sid, message.sid, Status.SENT, changes, **mine)
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
            retry = RetryLater(min(delay, 900), outcome.reason)
        elif isinstance(outcome, Refused):
            _fail(message, outcome.error_code, outcome.error_message, claimed=True, **mine)
        elif isinstance(outcome, TimedOut):
            _fail(message, codes.PROVIDER_TIMEOUT, None, claimed=True, unknown=True, **mine)
        recorded = True
    except (storage.Missing, storage.WrongState):
        # A receipt overtook this record (the carrier already said delivered), or the
        # lease was judged expired: either way the message's status is not ours to set.
        recorded = False
    name = getattr(carrier, "name", type(carrier).__name__)
    _handoff_line(message, name, outcome, latency_ms, recorded, retry)
    if retry is not None:
        raise retry


def _handoff_line(message, carrier, outcome, latency_ms, recorded, retry) -> None:
    metrics: dict = {"CarrierLatency": latency_ms}
    error_code = status = None
    if isinstance(outcome, Accepted):
        # Counted whether or not a receipt overtook the worker's record of `sent`: the
        # carrier took the message, once, under this worker's claim.
        status, metrics["MessagesSent"] = Status.SENT, 1
    elif isinstance(outcome, Throttled):
        status = Status.SENDING  # its claim released, for another attempt later
        if recorded:
            metrics["SendThrottled"] = 1
    else:
        status = Status.FAILED
        error_code = outcome.error_code if isinstance(outcome, Refused) else codes.PROVIDER_TIMEOUT
        if recorded:
            metrics["MessagesFailed"] = 1
    # A hand-off the carrier took and this worker recorded is the usual case: a debug line
    # (its counts go with the invocation's line either way).
    usual = isinstance(outcome, Accepted) and recorded
    observability.event(
        "send.handoff",
        level="debug" if usual else "info",
        account_sid=message.account_sid,
        sid=message.sid,
        to=message.to,
        attempt=message.attempts,
        carrier=carrier,
        outcome=OUTCOMES.get(type(outcome), type(outcome).__name__),
        status=status,
        error_code=error_code,
        recorded=recorded,
        reason=None if recorded else "the message moved on before the hand-off was recorded",
        retry_in_s=retry.seconds if retry is not None else None,
        carrier_latency_ms=latency_ms,
        metrics=metrics,
    )


def _settle_claimed(message: Message) -> None:
    """A message another worker claimed: wait for its lease, then fail it if it is still
    unresolved (that worker is gone and nobody knows whether the carrier took it)."""
    now = clock.now_ms()
    lease = message.lease_until_ms or 0
    if now < lease:
        wait = max(1, -(-(lease - now) // 1000))
        observability.event(
            "send.skip", account_sid=message.account_sid, sid=message.sid,
            status=message.status, reason="claimed by another worker", retry_in_s=wait,
        )  # fmt: skip
        raise RetryLater(wait, "claimed by another worker")
    try:
        _fail(
            message,
            codes.UNKNOWN_ERROR,
            "The hand-off's outcome is unknown",
            claimed=True,
            unknown=True,
            condition="claim = :claim",
            values={":claim": message.claim},
        )
    except (storage.Missing, storage.WrongState):
        _fail_line(message, codes.UNKNOWN_ERROR, "claim expired; settled meanwhile", False)
        return
    _fail_line(
        message, codes.UNKNOWN_ERROR, "claim expired: the hand-off's outcome is unknown", True
    )


def _fail_line(message: Message, code: int, reason: str, written: bool) -> None:
    observability.event(
        "send.fail",
        account_sid=message.account_sid,
        sid=message.sid,
        attempt=message.attempts,
        status=Status.FAILED,
        error_code=code,
        reason=reason,
        recorded=written,
        metrics={"MessagesFailed": 1} if written else None,
    )


def _fail(
    message: Message, code: int, text: str | None, claimed: bool, unknown=False, **conditions
) -> bool:
    """Fail the message; whether this write failed it (a refused write over another
    worker's claim raises when `claimed`, and answers False otherwise). `unknown`: the
    carrier may have taken it (status.FAILED_HANDOFF_UNKNOWN: a receipt may still move it)."""
    changes = {"error_code": code, "error_message": text or codes.MESSAGES.get(code)}
    if unknown:
        changes[HANDOFF_UNKNOWN] = True
    if not claimed:
        # Never over a claim another worker took meanwhile: its hand-off may be under way.
        conditions = {"condition": "attribute_not_exists(claim)"}
    try:
        lifecycle.transition(message.account_sid, message.sid, Status.FAILED, changes, **conditions)
    except (storage.Missing, storage.WrongState):
        if claimed:
            raise
        return False
    return True


def settle_last_receive(job: Job, reason: str) -> bool:
    """A send job on its last receive that did not finish (chalicelib.jobs.batch): its
    next stop is the dead-letter queue, so its message is settled now rather than left
    waiting with no job. Whether the job is done."""
    account_sid, sid = job.body.get("account_sid"), job.body.get("sid")
    if job.body.get("kind") == "feedback" or not (isinstance(account_sid, str) and sid):
        return False  # a feedback job's message is final: the dead-letter queue keeps it
    fields = stored_messages.get_message(account_sid, sid)
    message = Message.from_fields(fields) if fields is not None else None
    if message is None or not (message.status in WAITING or message.status == Status.SENDING):
        return True  # deleted, scheduled, sent or final: nothing left for this job
    if message.status in WAITING or _released(message):
        # Never handed over: failed as Twilio fails a message that waited too long.
        text = f"Queue overflow: not handed over in {job.receive_count} tries ({reason})"
        written = _fail(message, codes.QUEUE_OVERFLOW, text[:250], claimed=False)
        _fail_line(message, codes.QUEUE_OVERFLOW, f"its job's last receive: {reason}", written)
        return True
    wait = -(-((message.lease_until_ms or 0) - clock.now_ms()) // 1000)
    if wait <= 0:
        _settle_claimed(message)  # its claimer is gone: failed 30008, outcome unknown
        return True
    # Its claimer may be handing it over right now: a fresh job looks again after the lease.
    body = {"kind": "send", "account_sid": account_sid, "sid": sid}
    queues.send(config.delivery().send_queue_url, body, delay_seconds=wait)
    observability.event(
        "send.skip", account_sid=account_sid, sid=sid, status=message.status,
        reason="its job's last receive: a fresh job looks after the lease", retry_in_s=wait,
    )  # fmt: skip
    return True


def _validity_expired(message: Message, now_ms: int) -> bool:
    """Past its ValidityPeriod (Twilio's default and maximum, 36,000 s, when it has none),
    counted from its SendAt or its creation: the bound lists rely on (storage.schema's
    SENT_WITHIN_MS)."""
    period = int(message.options.get("ValidityPeriod") or DEFAULT_VALIDITY_SECONDS)
    start = message.send_at_ms or message.created_ms
    return now_ms > start + period * 1000


def _pass_feedback_on(job: Job) -> None:
    """A message's Feedback, passed on to the carrier that sent it (End User Messaging's
    PutMessageFeedback); the sandbox takes none. A failure comes back through the queue."""
    account_sid, sid = job.body.get("account_sid"), job.body.get("sid")
    fields = stored_messages.get_message(account_sid, sid) if account_sid and sid else None
    if fields is None:
        return
    carriers.current().feedback(Message.from_fields(fields))
