"""From the table's change stream to the queues: what each message change asks for.

Delivery starts from the table, not from the request that stored the message: a create
that answered 201 wrote its message, and that write is in the table's stream, which Lambda
reads until every record has been handled (retrying a failed batch, for up to the stream's
24 hours). So no process can die between "stored" and "queued" and strand a message, and
the API never writes twice. Each change becomes at most:

- a send job, when a message starts waiting for a worker (created queued or accepted, or
  dispatched from scheduled);
- a status callback, when its status changed after the first one and it has a
  StatusCallback: its form fields are taken from the change itself, so each callback tells
  the status it is about, whatever happens to the message later;
- a webhook call, when an inbound message was stored (chalicelib.inbound.webhook), on the
  callback queue too: both are signed calls to a user's URL;
- a feedback job, on the send queue, when Feedback was given on a message a carrier took.

Queueing is at-least-once (a retried batch queues its jobs again); the jobs are safe to
repeat. Each batch writes one `dispatch.batch` debug line: records in, jobs out.
"""

import time

from chalicelib import observability
from chalicelib.messages.status import WAITING, Direction, Status
from chalicelib.runtime import config
from chalicelib.storage import queues
from chalicelib.storage.stream import Change, message_change
from chalicelib.twilio import dates
from chalicelib.twilio.paths import API_VERSION


def handle(event: dict) -> dict:
    started = time.perf_counter()
    settings = config.delivery()
    sends, callbacks = [], []
    records = event.get("Records", [])
    for record in records:
        change = message_change(record)
        if change is None or change.new is None:
            continue
        if _starts_waiting(change):
            sends.append({"kind": "send", "account_sid": change.account_sid, "sid": change.sid})
        if _feedback_given(change):
            sends.append({"kind": "feedback", "account_sid": change.account_sid, "sid": change.sid})
        job = callback_job(change) or webhook_job(change)
        if job is not None:
            callbacks.append(job)
    queues.send_many(settings.send_queue_url, sends)
    queues.send_many(settings.callback_queue_url, callbacks)
    observability.event(
        "dispatch.batch",
        level="debug",  # the invocation's own line has its records and time
        records=len(records),
        send_jobs=len(sends),
        callback_jobs=len(callbacks),
        latency_ms=observability.elapsed_ms(started),
    )
    return {"batchItemFailures": []}


def _starts_waiting(change: Change) -> bool:
    new_status = change.new.get("status")
    old_status = change.old.get("status") if change.old else None
    return new_status in WAITING and old_status not in WAITING


def _feedback_given(change: Change) -> bool:
    # Feedback (chalicelib.messages.media) goes to the carrier that sent the message, on
    # the send queue: the sender function is the one that talks to the carrier.
    old = (change.old or {}).get("feedback")
    new = change.new.get("feedback")
    return bool(new) and new != old and bool(change.new.get("carrier_id"))


def webhook_job(change: Change) -> dict | None:
    if change.old is not None or change.new.get("direction") != Direction.INBOUND:
        return None
    return {"kind": "webhook", "account_sid": change.account_sid, "sid": change.sid}


def callback_job(change: Change) -> dict | None:
    new = change.new
    url = (new.get("options") or {}).get("StatusCallback")
    if not url or change.old is None or change.old.get("status") == new.get("status"):
        return None
    return {
        "kind": "callback",
        "account_sid": change.account_sid,
        "sid": change.sid,
        "url": url,
        "method": (new.get("options") or {}).get("StatusCallbackMethod", "POST"),
        "status": new["status"],
        "params": status_callback_params(change.account_sid, new),
    }


def status_callback_params(account_sid: str, fields: dict) -> dict[str, str]:
    """Twilio's status callback form fields for a message in its current status."""
    status = fields["status"]
    params = {
        "MessageSid": fields["sid"],
        "SmsSid": fields["sid"],
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": account_sid,
        "From": fields.get("from") or "",
        "To": fields["to"],
        "ApiVersion": API_VERSION,
    }
    if fields.get("messaging_service_sid"):
        params["MessagingServiceSid"] = fields["messaging_service_sid"]
    if status in (Status.FAILED, Status.UNDELIVERED) and fields.get("error_code") is not None:
        params["ErrorCode"] = str(fields["error_code"])
    if status in (Status.DELIVERED, Status.UNDELIVERED):
        params["RawDlrDoneDate"] = dates.dlr_done_date(fields.get("updated_ms"))
    return params
