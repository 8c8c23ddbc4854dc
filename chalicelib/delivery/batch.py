"""Handling an SQS batch one job at a time, with Lambda's partial batch responses.

A job that fails (an exception, or a deliberate RetryLater) is reported in
`batchItemFailures`, so SQS hands that job alone over again and the rest of the batch is
done. RetryLater also says when: the job becomes visible again after its delay instead of
after the queue's whole visibility timeout. An exception that is not an Exception
(the process being stopped) escapes, and then the whole batch comes back, as when a worker
dies: every step is safe to run again.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.storage import queues

log = logging.getLogger("herald.delivery")


@dataclass
class RetryLater(Exception):
    seconds: int
    reason: str = ""


@dataclass(frozen=True)
class Job:
    body: dict
    message_id: str
    receipt_handle: str
    receive_count: int


def process(event: dict, queue_url: str | None, handle: Callable[[Job], None]) -> dict:
    failures = []
    for record in event.get("Records", []):
        job = Job(
            body=_body(record.get("body", "")),
            message_id=record.get("messageId", ""),
            receipt_handle=record.get("receiptHandle", ""),
            receive_count=int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        try:
            handle(job)
        except RetryLater as later:
            queues.retry_later(queue_url, job.receipt_handle, later.seconds)
            failures.append({"itemIdentifier": job.message_id})
        except Exception:
            log.exception("job %s failed; SQS will hand it over again", job.message_id)
            failures.append({"itemIdentifier": job.message_id})
    return {"batchItemFailures": failures}


def _body(text: str) -> dict:
    try:
        body = json.loads(text)
    except ValueError:
        return {"raw": text}
    return body if isinstance(body, dict) else {"raw": text}
