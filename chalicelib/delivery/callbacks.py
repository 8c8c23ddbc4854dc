"""Status callbacks: POST Twilio's form fields, signed, to the message's StatusCallback.

Each job (queued by the dispatcher for one status change) is one POST, signed with
X-Twilio-Signature over the URL as called. It never delays or rolls back a status: the
status was recorded before the job existed. A failure that may pass (connection refused,
timeout, a 5xx answer) is retried through the queue with backoff, as many times as the URL's
`#rc=` says (Twilio's default: once); anything else is given up at once. Every attempt that
failed is recorded with the message (storage.events) for the inbox, and every other one too
unless HERALD_RECORD_ATTEMPTS=failures (End User Messaging stages' default). On deployed
stages a URL that resolves to a loopback, link-local or private address is never called.

Each attempt writes one `callback` line (the URL without its query string): its answer, its
latency, and whether it is retried or given up. CallbacksDelivered and CallbackFailures count
jobs that ended: answered 2xx, or given up.

Never unsigned because of a passing fault: when KMS cannot decrypt the account's AuthToken
(throttled, unreachable) or the URL's credentials (chalicelib.storage.url_credentials),
nothing is sent and the job comes back through the queue (`signing_later`). Credentials
that will never decrypt for this account (another account's ciphertext) give the attempt up.
An account that has no encrypted AuthToken at all, made by a create-account older than the
rule that every account can sign, is the one case that goes out unsigned: each such job
counts CallbacksUnsigned and writes a `callback.unsigned` line naming the admin command that
re-keys the account (docs/operations.md).
"""

import logging

from chalicelib import observability
from chalicelib.accounts import credentials
from chalicelib.delivery import sources
from chalicelib.jobs.batch import MIN_CALL_SECONDS, Job, RetryLater, process
from chalicelib.jobs.calls import signing_later, unreadable_credentials
from chalicelib.runtime import config
from chalicelib.storage import events, tokens, url_credentials

log = logging.getLogger("herald.delivery")
DEFAULT_RETRIES = 1
# Failures that may pass (chalicelib.outbound.client's error names); a 5xx answer is retried too.
RETRYABLE_ERRORS = {
    "refused", "unreachable", "connect timeout", "timeout", "reset", "no response",
    "incomplete", "dns", "network",
}  # fmt: skip


def handle(event: dict, context=None) -> dict:
    return process(
        event,
        config.delivery().callback_queue_url,
        run,
        context,
        max_receives=sources.CALLBACK_MAX_RECEIVES,
        last_receive=give_up,
    )


def run(job: Job) -> None:
    """A job on the callback queue: a status callback, or an inbound message's webhook."""
    if job.body.get("kind") == "webhook":
        from chalicelib.inbound import webhook

        webhook.call(job, lambda account_sid: _auth_token(account_sid, job))
        return
    deliver(job)


def deliver(job: Job) -> None:
    body = job.body
    account_sid, sid = body.get("account_sid"), body.get("sid")
    if not all(isinstance(body.get(k), str) for k in ("account_sid", "sid", "url", "status")):
        observability.event(
            "callback", level="warning", message_id=job.message_id, outcome="dropped",
            reason="malformed job",
        )  # fmt: skip
        return
    from chalicelib.outbound import client  # only this function calls out

    # Its timeouts are capped by the time left (chalicelib.runtime.budget); with less than this,
    # the job comes back for an invocation that has the time.
    job.require(MIN_CALL_SECONDS, "a status callback")
    params = {str(k): str(v) for k, v in (body.get("params") or {}).items()}
    url, overrides = client.fragment_overrides(body["url"])
    retries = DEFAULT_RETRIES if overrides.retries is None else overrides.retries
    headers = {
        # The same for every attempt at this callback, so a receiver can drop repeats.
        "I-Twilio-Idempotency-Token": f"{sid}-{body['status']}",
    }
    token = _auth_token(account_sid, job)
    # GET: a <Message method="GET" action=…> reply, whose fields go in the query string.
    method = "GET" if body.get("method") == "GET" else "POST"
    try:
        url = url_credentials.opened(account_sid, url)
    except tokens.Unreadable as error:
        answer = unreadable_credentials(error)
    except tokens.Unavailable as error:
        raise signing_later(job, f"the URL's credentials: {error}") from error
    else:
        answer = client.twilio_request(
            method,
            url,
            params,
            token,
            headers,
            # Twilio reads nothing of a status callback's answer but its status: a 2xx with
            # a body of any size is delivered.
            overrides.apply(client.Limits(read_body=False)),
            config.delivery().allow_private_urls,
        )
    ok = answer.ok
    if not ok or config.delivery().record_every_attempt:
        events.record(
            account_sid,
            sid,
            {
                "kind": "status-callback",
                "status": body["status"],
                "url": client.shown(url),
                "attempt": job.receive_count,
                "answer": answer.status,
                "error": answer.error,
                "latency_ms": answer.latency_ms,
                "signed": token is not None,
            },
        )
    retry = None
    if not ok:
        retryable = answer.error in RETRYABLE_ERRORS or (answer.status or 0) >= 500
        if retryable and job.receive_count <= retries:
            base = config.delivery().retry_base_seconds
            delay = min(base * 2 ** (job.receive_count - 1), 300)
            retry = RetryLater(delay, answer.error or "5xx")
    outcome = "delivered" if ok else ("retry" if retry is not None else "gave_up")
    metrics = {"CallbackLatency": answer.latency_ms}
    if ok:
        metrics["CallbacksDelivered"] = 1
    elif retry is None:
        metrics["CallbackFailures"] = 1
    observability.event(
        "callback",
        # Delivered: a debug line; retried: info; given up: a warning.
        level="debug" if ok else ("info" if retry is not None else "warning"),
        account_sid=account_sid,
        sid=sid,
        status=body["status"],
        url=url,
        attempt=job.receive_count,
        http_status=answer.status,
        error=answer.error,
        latency_ms=answer.latency_ms,
        signed=token is not None,
        outcome=outcome,
        retry_in_s=retry.seconds if retry is not None else None,
        metrics=metrics,
    )
    if retry is not None:
        raise retry


def give_up(job: Job, reason: str) -> bool:
    """A job on its last receive that did not finish (chalicelib.jobs.batch): recorded
    with the message as given up, as the inbox shows every attempt, instead of vanishing
    into the dead-letter queue. The message's status is not the job's: it is already set."""
    body = job.body
    account_sid, sid = body.get("account_sid"), body.get("sid")
    if not (isinstance(account_sid, str) and isinstance(sid, str)):
        return True
    kind = "webhook" if body.get("kind") == "webhook" else "status-callback"
    entry = {"kind": kind, "attempt": job.receive_count, "error": f"given up: {reason}"}
    if kind == "status-callback" and isinstance(body.get("url"), str):
        from chalicelib.outbound import client

        entry.update(status=body.get("status"), url=client.shown(body["url"]))
    events.record(account_sid, sid, entry)
    observability.event(
        "callback", level="warning", account_sid=account_sid, sid=sid,
        status=body.get("status"), attempt=job.receive_count, outcome="gave_up",
        reason=reason, metrics={"CallbackFailures": 1},
    )  # fmt: skip
    return True


def _auth_token(account_sid: str, job: Job) -> str | None:
    """The account's AuthToken, to sign with; None for an account that has no encrypted
    token (it goes unsigned, counted and logged with the fix). When KMS fails, RetryLater:
    the job comes back, and nothing was sent unsigned."""
    account = credentials.account(account_sid)
    ciphertext = account.record.get("token_ciphertext") if account else None
    if not ciphertext:
        observability.event(
            "callback.unsigned", level="warning", account_sid=account_sid,
            reason="the account has no encrypted AuthToken (made by an older create-account):"
            " its callbacks and webhooks go out unsigned until it is re-keyed with"
            f" `{REKEY_COMMAND.format(account_sid=account_sid)}`",
            metrics={"CallbacksUnsigned": 1},
        )  # fmt: skip
        return None
    try:
        return tokens.decrypt_token(account_sid, ciphertext)
    except tokens.Unavailable as error:
        raise signing_later(job, f"the AuthToken: {error}") from error


# What re-keys an account that has no encrypted AuthToken, as docs/operations.md gives it
# ("Unsigned callbacks"): given the token the account already uses, create-account writes
# its ciphertext and keeps everything else (its digest is the same; its API keys stay).
REKEY_COMMAND = (
    ".venv/bin/python -m admin create-account --account-sid {account_sid}"
    " --auth-token <its AuthToken>"
)
