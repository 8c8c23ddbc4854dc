"""The queues between delivery's steps (SQS): put jobs on them, put a job back for later.

Every handler that reads a queue is at-least-once: SQS may hand the same job over twice, or
to two workers at once, and each job is safe to run again (the worker's claim, the receipts'
transitions and the callbacks' idempotency token see to it).
"""

import functools
import json

from chalicelib.runtime import config
from chalicelib.storage import boto

BATCH = 10  # SendMessageBatch's limit
MAX_DELAY_SECONDS = 900  # DelaySeconds' limit
MAX_VISIBILITY_SECONDS = 43_200  # ChangeMessageVisibility's limit


class Unconfigured(Exception):
    """A job was to be queued on a queue this stage has no URL for."""


@functools.cache
def _client():
    # boto3 is imported on first use: the API function never queues anything.
    return boto.new_client("sqs", boto.short_retries(), region_name=config.load().region)


def reset() -> None:
    _client.cache_clear()


def send(queue_url: str | None, body: dict, delay_seconds: int = 0) -> None:
    if not queue_url:
        raise Unconfigured(body.get("kind", "job"))
    _client().send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(body, separators=(",", ":")),
        DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)),
    )


def send_many(queue_url: str | None, bodies: list[dict]) -> None:
    """Queue every body; raises (so the caller's batch is retried) unless all were queued."""
    if not bodies:
        return
    if not queue_url:
        raise Unconfigured(bodies[0].get("kind", "job"))
    for start in range(0, len(bodies), BATCH):
        chunk = bodies[start : start + BATCH]
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(body, separators=(",", ":"))}
            for n, body in enumerate(chunk)
        ]
        failed = _client().send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} of {len(chunk)} jobs: {failed[0]}")


def retry_later(queue_url: str | None, receipt_handle: str, seconds: int) -> None:
    """Make a job the caller reports as failed visible again in `seconds`, not at the end
    of the queue's whole visibility timeout."""
    if not queue_url:
        return
    seconds = max(0, min(int(seconds), MAX_VISIBILITY_SECONDS))
    _client().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )
