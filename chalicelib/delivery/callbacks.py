"""Status callbacks: POST Twilio's form fields, signed, to the message's StatusCallback.

Each job (queued by the dispatcher for one status change) is one POST, signed with
X-Twilio-Signature over the URL as called. It never delays or rolls back a status: the
status was recorded before the job existed. A failure that may pass (connection refused,
timeout, a 5xx answer) is retried through the queue with backoff, as many times as the URL's
`#rc=` says (Twilio's default: once); anything else is given up at once. Every attempt is
recorded with the message (storage.events) for the inbox. On deployed stages a URL that
resolves to a loopback, link-local or private address is never called.
"""

import logging
from urllib.parse import urlsplit

from chalicelib import auth, config, keys, signing
from chalicelib.delivery.batch import Job, RetryLater, process
from chalicelib.storage import events

log = logging.getLogger("herald.delivery")
DEFAULT_RETRIES = 1
USER_AGENT = "TwilioProxy/1.1"
# Failures that may pass (chalicelib.outbound's error names); a 5xx answer is retried too.
RETRYABLE_ERRORS = {
    "refused", "unreachable", "connect timeout", "timeout", "reset", "no response",
    "incomplete", "dns", "network",
}  # fmt: skip


def handle(event: dict) -> dict:
    return process(event, config.delivery().callback_queue_url, deliver)


def deliver(job: Job) -> None:
    body = job.body
    account_sid, sid = body.get("account_sid"), body.get("sid")
    if not all(isinstance(body.get(k), str) for k in ("account_sid", "sid", "url", "status")):
        log.warning("dropping a malformed callback job: %s", job.message_id)
        return
    from chalicelib import outbound  # only this function calls out

    params = {str(k): str(v) for k, v in (body.get("params") or {}).items()}
    url, overrides = outbound.fragment_overrides(body["url"])
    retries = DEFAULT_RETRIES if overrides.retries is None else overrides.retries
    headers = {
        "User-Agent": USER_AGENT,
        # The same for every attempt at this callback, so a receiver can drop repeats.
        "I-Twilio-Idempotency-Token": f"{sid}-{body['status']}",
    }
    token = _auth_token(account_sid)
    if token is not None:
        headers[signing.SIGNATURE_HEADER] = signing.signature(token, url, params)
    answer = outbound.request(
        "POST",
        url,
        form=params,
        headers=headers,
        limits=overrides.apply(outbound.Limits()),
        allow_private=config.delivery().allow_private_urls,
    )
    ok = answer.ok
    events.record(
        account_sid,
        sid,
        {
            "kind": "status-callback",
            "status": body["status"],
            "url": _shown(url),
            "attempt": job.receive_count,
            "answer": answer.status,
            "error": answer.error,
            "latency_ms": answer.latency_ms,
            "signed": token is not None,
        },
    )
    if ok:
        return
    retryable = answer.error in RETRYABLE_ERRORS or (answer.status or 0) >= 500
    if retryable and job.receive_count <= retries:
        base = config.delivery().retry_base_seconds
        raise RetryLater(min(base * 2 ** (job.receive_count - 1), 300), answer.error or "5xx")
    log.info("status callback for %s gave up: %s %s", sid, answer.status, answer.error)


def _auth_token(account_sid: str) -> str | None:
    account = auth.account(account_sid)
    ciphertext = account.record.get("token_ciphertext") if account else None
    if not ciphertext:
        log.warning("account %s has no encrypted token: its callbacks go unsigned", account_sid)
        return None
    try:
        return keys.decrypt_token(account_sid, ciphertext)
    except keys.Unavailable as error:
        log.error("cannot decrypt the token of %s (%s): callback unsigned", account_sid, error)
        return None


def _shown(url: str) -> str:
    # Query strings can carry the receiver's own secrets: keep scheme, host and path only.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
