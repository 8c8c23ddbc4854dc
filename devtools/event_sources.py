"""Lambda's event sources, played locally: the table's stream and the delivery queues read
from the embedded AWS server and fed to the app's own handlers as Lambda would feed them.

`chalice local` serves HTTP routes only; nothing there ever reads a queue. These sources
call the same handler objects Lambda calls (`app.dispatcher`, `app.sender`, …) with events of
the same shape, and honour the same contracts: a batch whose handler raises is handed over
again whole (a queue's jobs after their visibility timeout; a stream's records at once, as
Lambda retries a shard), and `batchItemFailures` hands over just the failed jobs. `make run`
polls them from background threads (devtools/local_workers.py); tests drain them step by step.
"""

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("herald.local")


@dataclass
class Context:
    """What handlers may read of Lambda's context object. Its remaining time counts down
    from the function's timeout (30 s for the queue functions, as deployed) from when the
    invocation starts, as Lambda's does: a handler works within it here as there."""

    function_name: str
    aws_request_id: str = "local"
    memory_limit_in_mb: int = 512
    timeout_ms: int = 30_000
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = (time.monotonic() - self.started) * 1000
        return max(0, int(self.timeout_ms - elapsed_ms))


@dataclass
class QueueSource:
    """An SQS queue feeding a handler, in batches of up to `batch_size` jobs."""

    sqs: object
    queue_url: str
    handler: object
    name: str
    batch_size: int = 10
    wait_seconds: int = 0
    region: str = "us-east-1"

    def poll(self) -> int:
        """Receive one batch, hand it over, delete what succeeded; how many jobs came."""
        records = self.receive()
        if records:
            self.invoke(records)
        return len(records)

    def receive(self) -> list[dict]:
        """One batch of jobs, as the records of Lambda's SQS event ([] when none came)."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        arn = f"arn:aws:sqs:{self.region}:000000000000:{self.queue_url.rsplit('/', 1)[-1]}"
        return [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": self.region,
            }
            for m in received
        ]

    def invoke(self, records: list[dict]) -> None:
        """Hand a batch to the handler as one invocation; delete the jobs it did."""
        result = self.handler({"Records": records}, Context(self.name))
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": r["receiptHandle"]}
                    for n, r in enumerate(done[start : start + 10])
                ],
            )


@dataclass
class StreamSource:
    """A DynamoDB table's stream feeding a handler, from its first record (TRIM_HORIZON),
    or from after the last record a `checkpoint` file says was handled: `make run`'s next
    child process (after an edit) must not hand the whole history over again."""

    streams: object
    stream_arn: str
    handler: object
    name: str
    batch_size: int = 100
    region: str = "us-east-1"
    checkpoint: Path | None = None
    # > 0: a GetRecords that finds nothing waits up to this long for a record, on the
    # embedded AWS (devtools/long_polls.py); elsewhere it answers at once all the same.
    wait_seconds: float = 0
    _iterators: dict = field(default_factory=dict)
    _shards: list = field(default_factory=list)

    def __post_init__(self):
        # The in-memory stream (devtools/memory_aws) takes the wait as a parameter; moto's,
        # behind botocore, as a header.
        self._wait = {}
        if self.wait_seconds and getattr(self.streams, "accepts_wait_seconds", False):
            self._wait = {"WaitSeconds": self.wait_seconds}
        elif self.wait_seconds:
            from devtools.long_polls import WAIT_HEADER

            def ask_to_wait(request, **_):
                request.headers[WAIT_HEADER] = str(self.wait_seconds)

            self.streams.meta.events.register(
                "before-sign.dynamodb-streams.GetRecords", ask_to_wait
            )

    def _start(self, shard_id: str) -> str:
        done = self._checkpoints().get(shard_id)
        where = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
            if done
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        return self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, **where
        )["ShardIterator"]

    def _checkpoints(self) -> dict:
        if self.checkpoint is None or not self.checkpoint.exists():
            return {}
        with contextlib.suppress(ValueError, OSError):
            return json.loads(self.checkpoint.read_text())
        return {}

    def _save(self, shard_id: str, sequence_number: str) -> None:
        if self.checkpoint is None:
            return
        done = {**self._checkpoints(), shard_id: sequence_number}
        temporary = self.checkpoint.with_suffix(".tmp")
        temporary.write_text(json.dumps(done))
        temporary.replace(self.checkpoint)

    def poll(self) -> int:
        handled = 0
        if not self._shards:  # a table's stream keeps its shards on the embedded AWS
            described = self.streams.describe_stream(StreamArn=self.stream_arn)
            self._shards = [shard["ShardId"] for shard in described["StreamDescription"]["Shards"]]
        for shard_id in self._shards:
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._start(shard_id)
            answer = self.streams.get_records(
                ShardIterator=self._iterators[shard_id], Limit=self.batch_size, **self._wait
            )
            records = [self._as_lambda(r) for r in answer.get("Records", [])]
            if records:
                # A handler that raises leaves the iterator where it was: the same records
                # come again on the next poll, as Lambda retries a shard's batch.
                result = self.handler({"Records": records}, Context(self.name))
                failures = (result or {}).get("batchItemFailures", [])
                if failures:
                    first = failures[0]["itemIdentifier"]
                    self._iterators[shard_id] = self.streams.get_shard_iterator(
                        StreamArn=self.stream_arn,
                        ShardId=shard_id,
                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                        SequenceNumber=first,
                    )["ShardIterator"]
                    handled += len(records)
                    continue
                handled += len(records)
                self._save(shard_id, records[-1]["dynamodb"]["SequenceNumber"])
            if answer.get("NextShardIterator"):
                self._iterators[shard_id] = answer["NextShardIterator"]
        return handled

    def _as_lambda(self, record: dict) -> dict:
        record = dict(record)
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        with contextlib.suppress(AttributeError):
            data["ApproximateCreationDateTime"] = created.timestamp()
        record["dynamodb"] = data
        record["eventSourceARN"] = self.stream_arn
        record.setdefault("awsRegion", self.region)
        return record


def drain(sources, rounds: int = 200) -> int:
    """Poll every source until a whole round finds nothing; how many items were handled."""
    total = 0
    for _ in range(rounds):
        found = sum(source.poll() for source in sources)
        total += found
        if not found:
            return total
    raise RuntimeError(f"the event sources were still busy after {rounds} rounds")
