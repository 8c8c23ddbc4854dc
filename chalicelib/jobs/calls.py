"""What a job that calls a user's URL does when a sealed secret it needs will not open:
the status callbacks' (chalicelib.delivery.callbacks) and the webhooks' (chalicelib.inbound
.webhook) alike. A fault that may pass (KMS throttled, unreachable) sends nothing and the job
comes back (`signing_later`); credentials that will never open for the account are not
called, and the attempt is recorded as failed (`unreadable_credentials`).
"""

import logging

from chalicelib.jobs.batch import Job, RetryLater
from chalicelib.runtime import config

log = logging.getLogger("herald.delivery")


def signing_later(job: Job, what: str) -> RetryLater:
    """The job comes back: KMS could not decrypt `what` (throttled, unreachable, refused;
    a fault that may pass), and a call without it would go out unsigned or unauthenticated."""
    log.error("KMS could not decrypt %s: the job comes back, nothing was sent", what)
    delay = min(config.delivery().retry_base_seconds * 2 ** (job.receive_count - 1), 300)
    return RetryLater(delay, f"KMS: {what}")


def unreadable_credentials(error: Exception):
    """The answer for a URL whose credentials will never decrypt for this account (another
    account's ciphertext, a damaged one): no call is made, and the attempt is recorded as
    failed, not retried (it cannot help)."""
    from chalicelib.outbound import client

    log.error("a URL's credentials do not decrypt for its account (%s): not called", error)
    return client.Answer(None, {}, b"", 0, "unreadable credentials", None)
