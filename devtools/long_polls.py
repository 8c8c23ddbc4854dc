"""Waiting for work on the embedded AWS, so that make run's local workers (devtools/
local_workers.py) sleep until there is some instead of asking ten times a second.

- SQS: a ReceiveMessage with WaitTimeSeconds (a long poll, as Lambda's SQS poller makes) is
  moto's own, woken by every SendMessage. moto re-checks a queue only once a second while it
  waits, so a delayed job (the sandbox carrier's receipts are sent with DelaySeconds) was
  taken up to a second after it became visible. Here the wait ends when the queue's next
  message is due, as SQS hands it over then.
- DynamoDB Streams has no long poll. A GetRecords carrying the header X-Herald-Wait-Seconds
  (sent only by devtools.event_sources.StreamSource, when asked) that finds no record waits,
  outside the DynamoDB lock, until any table's stream gets a record or the time is up, then
  reads again: the stream reader wakes as the write lands. Without the header, GetRecords
  answers at once, as DynamoDB Streams does.
"""

import json
import threading
import time

WAIT_HEADER = "X-Herald-Wait-Seconds"
MAX_WAIT_SECONDS = 20.0
GET_RECORDS = "DynamoDBStreams_20120810.GetRecords"

_appended = 0
_changed = threading.Condition()
_installed = threading.Lock()


def install() -> None:
    """Count every record a table's stream gets, and wake the waiting readers."""
    from moto.dynamodb.models.table import StreamShard

    with _installed:
        if getattr(StreamShard.add, "wakes_readers", False):
            return
        add = StreamShard.add

        def add_and_wake(self, old, new):
            global _appended
            add(self, old, new)
            with _changed:
                _appended += 1
                _changed.notify_all()

        add_and_wake.wakes_readers = True
        StreamShard.add = add_and_wake


def stream_wait_seconds(environ: dict) -> float:
    """How long a GetRecords request may wait for a record (0: answer at once)."""
    if environ.get("HTTP_X_AMZ_TARGET") != GET_RECORDS:
        return 0.0
    try:
        wait = float(environ.get("HTTP_" + WAIT_HEADER.upper().replace("-", "_"), 0))
    except ValueError:
        return 0.0
    return max(0.0, min(wait, MAX_WAIT_SECONDS))


def appended() -> int:
    """How many stream records have been written so far (read under the DynamoDB lock)."""
    return _appended


def found_records(status: str, body: bytes) -> bool:
    """Whether a GetRecords answer is anything but a successful empty one."""
    if not status.startswith("200"):
        return True
    try:
        return bool(json.loads(body).get("Records"))
    except ValueError:
        return True


def wait_for_record(seen: int, timeout: float) -> None:
    """Until a stream record is written after the `seen`th, or `timeout` seconds."""
    with _changed:
        _changed.wait_for(lambda: _appended != seen, timeout)


def until_next_due(queue, timeout: float) -> float:
    """`timeout`, or less: the seconds until the queue's next delayed or invisible message
    becomes receivable, when that is sooner."""
    now = time.time() * 1000
    upcoming = [
        moment
        for message in queue._messages
        for moment in (message.delayed_until, message.visible_at)
        if moment > now
    ]
    if not upcoming:
        return timeout
    return max(0.0, min(timeout, (min(upcoming) - now) / 1000 + 0.001))
