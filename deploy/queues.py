"""The work queues between the delivery steps, their dead-letter queues, and the event
source mappings that read them and the table's stream, as both templates create them.

Each queue is named by app.py's decorators through a placeholder (chalicelib.delivery.sources)
that the writers point at the queue they create.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.delivery import sources

if TYPE_CHECKING:
    from deploy.shared import FunctionSettings

# The variables that tell a function a queue's URL (chalicelib/runtime/config.py).
SEND_QUEUE_VARIABLE = "HERALD_SEND_QUEUE_URL"
CALLBACK_QUEUE_VARIABLE = "HERALD_CALLBACK_QUEUE_URL"
RECEIPT_QUEUE_VARIABLE = "HERALD_RECEIPT_QUEUE_URL"


@dataclass(frozen=True)
class Queue:
    """A work queue between two steps: fed by one function, read by `consumer` through an
    event source mapping, with a dead-letter queue for jobs received too often."""

    name: str
    placeholder: str  # the queue name app.py's decorator gives (chalicelib.delivery.sources)
    consumer: str
    max_receive_count: int
    url_variable: str


# Every receive counts towards maxReceiveCount: a job retried later (RetryLater) or handed
# back by a batch failure is received again.
QUEUES = (
    # Carrier throttling is retried up to HERALD_MAX_SEND_ATTEMPTS (6) times and waiting
    # out another worker's lease is a receive too: 20 leaves room for both.
    Queue("send", sources.SEND_QUEUE, "sender", sources.SEND_MAX_RECEIVES, SEND_QUEUE_VARIABLE),
    Queue(
        "receipts",
        sources.RECEIPT_QUEUE,
        "receipts",
        sources.RECEIPT_MAX_RECEIVES,
        RECEIPT_QUEUE_VARIABLE,
    ),
    # A callback is retried as often as its URL's #rc= says, at most 5 times (Twilio's bound).
    Queue(
        "callbacks",
        sources.CALLBACK_QUEUE,
        "callbacks",
        sources.CALLBACK_MAX_RECEIVES,
        CALLBACK_QUEUE_VARIABLE,
    ),
)
QUEUES_BY_NAME = {q.name: q for q in QUEUES}
# Where the stream mapping puts what it could not deliver to the dispatcher (OnFailure):
# the shard and sequence numbers of the batch, not the records themselves.
STREAM_FAILURES = "dispatcher_failures"


def dead_letter(queue_name: str) -> str:
    return f"{queue_name}_dead_letter"


def all_queue_names() -> list[str]:
    """Every queue the templates create: the work queues, their DLQs, the stream's DLQ."""
    names = []
    for work in QUEUES:
        names += [work.name, dead_letter(work.name)]
    return [*names, STREAM_FAILURES]


# Lambda's advice for an SQS event source: a visibility timeout of at least six times the
# function's timeout, so a batch Lambda retries after throttling is not handed out twice.
VISIBILITY_PER_TIMEOUT = 6
WORK_RETENTION_SECONDS = 4 * 86_400  # SQS's default, written out
# A dead-letter queue keeps a job's original enqueue time, so it keeps jobs longer than the
# queue it serves (SQS's maximum).
DEAD_LETTER_RETENTION_SECONDS = 14 * 86_400

# The stream mapping (dispatcher). A record the dispatcher does not get through is a message
# nobody queues: it would wait in `queued` for ever. Failures are SQS being unavailable or
# throttled, or a stage without a queue URL: each passes or is fixed, and nothing is lost if
# the records are still there. So a failed batch is split (to isolate a record that fails
# by itself) and retried until the record is as old as the stream keeps records (24 hours);
# only then does it go to the dispatcher's DLQ. The price: a record that always fails holds
# its shard for up to that long (the IteratorAge metric shows it).
STREAM_MAPPING = {
    "starting_position": "TRIM_HORIZON",
    "batch_size": sources.STREAM_BATCH,
    "bisect_batch_on_function_error": True,
    "maximum_record_age_in_seconds": 86_400,
    "maximum_retry_attempts": -1,
}
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


def visibility_timeout(work: Queue, settings: "dict[str, FunctionSettings]") -> int:
    return VISIBILITY_PER_TIMEOUT * settings[work.consumer].timeout
