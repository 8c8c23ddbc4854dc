"""DynamoDB Streams in memory: each table's change records, and `MemoryStreams`, an object
with the dynamodbstreams client's methods (list_streams, describe_stream, get_shard_iterator,
get_records) answering as botocore would.

A stream has one shard, open while its table lives. Each write that changes an item appends
one record, under the engine's lock, so records come in the order the writes were applied.
Records are kept compact (the stored items they show are never changed in place) and made
into botocore's shape when read. A stream holds its last MAX_RECORDS records: older ones are
trimmed (DynamoDB keeps 24 hours) and an iterator to them is refused with
TrimmedDataAccessException, as DynamoDB refuses one past its trim horizon.

Not in AWS: get_records takes `WaitSeconds`: when the iterator is at the end of the shard,
it waits up to that long for a record (on the stream's own condition, never holding the
engine's lock), so a local event source wakes when there is work instead of polling.
"""

import hashlib
import threading
import time
from datetime import datetime

from dateutil.tz import tzlocal

from devtools.memory_aws.errors import client_error, not_found, validation
from devtools.memory_aws.values import copy_item

MAX_RECORDS = 100_000
SEQUENCE_BASE = 10**23  # sequence numbers: 24 decimal digits, increasing, equal width
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_LOCAL = tzlocal()  # botocore parses a timestamp into local time
_IMAGES = {
    "KEYS_ONLY": (False, False), "NEW_IMAGE": (True, False), "OLD_IMAGE": (False, True),
    "NEW_AND_OLD_IMAGES": (True, True),
}  # fmt: skip


class Stream:
    def __init__(self, table, view_type: str, region: str, created: float):
        self.table_name = table.name
        self.key_schema = table.request["KeySchema"]
        self.key_names = [k["AttributeName"] for k in self.key_schema]
        self.view_type = view_type
        self.region = region
        self.created = created
        self.label = datetime.fromtimestamp(created).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        self.arn = f"{table.arn}/stream/{self.label}"
        self.shard_id = f"shardId-{int(created * 1000):020d}-{self.arn_digest()[:8]}"
        self.changed = threading.Condition(threading.Lock())
        self.records: list[tuple] = []
        self.first = 0  # the position of records[0] in the shard
        self.open = True
        self.max_records = MAX_RECORDS

    def arn_digest(self) -> str:
        return hashlib.md5(self.arn.encode(), usedforsecurity=False).hexdigest()

    @property
    def end(self) -> int:
        return self.first + len(self.records)

    def append(self, old: dict | None, new: dict | None, size: int, identity=None) -> None:
        """One change of an item (called under the engine's lock, so in write order)."""
        name = "MODIFY" if old is not None and new is not None else "INSERT" if new else "REMOVE"
        with self.changed:
            self.records.append((name, old, new, time.time(), size, identity))
            if len(self.records) > 2 * self.max_records:
                dropped = len(self.records) - self.max_records
                del self.records[:dropped]
                self.first += dropped
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            self.open = False
            self.changed.notify_all()

    def read(self, position: int, limit: int, wait: float) -> tuple[list, int]:
        """Up to `limit` records from `position`, waiting up to `wait` s for one."""
        with self.changed:
            if wait > 0 and position >= self.end and self.open:
                self.changed.wait_for(lambda: position < self.end or not self.open, wait)
            if position < self.first:
                raise client_error(
                    "TrimmedDataAccessException", "The operation attempted to read past the "
                    "oldest stream record in a shard.", "GetRecords",
                )  # fmt: skip
            start = position - self.first
            taken = self.records[start : start + limit]
        return [self._record(position + n, record) for n, record in enumerate(taken)], (
            position + len(taken)
        )

    def sequence_number(self, position: int) -> str:
        return str(SEQUENCE_BASE + position)

    def _record(self, position: int, record: tuple) -> dict:
        name, old, new, created, size, identity = record
        sequence = self.sequence_number(position)
        image = new if new is not None else old
        data = {
            "ApproximateCreationDateTime": datetime.fromtimestamp(int(created), _LOCAL),
            "Keys": {key: dict(image[key]) for key in self.key_names},
        }
        new_wanted, old_wanted = _IMAGES[self.view_type]
        if new_wanted and new is not None:
            data["NewImage"] = copy_item(new)
        if old_wanted and old is not None:
            data["OldImage"] = copy_item(old)
        data.update(SequenceNumber=sequence, SizeBytes=size, StreamViewType=self.view_type)
        digest = hashlib.md5(f"{self.arn}{sequence}".encode(), usedforsecurity=False)
        answer = {
            "eventID": digest.hexdigest(),
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": data,
        }
        if identity is not None:
            answer["userIdentity"] = dict(identity)
        return answer

    def description(self) -> dict:
        shard = {
            "ShardId": self.shard_id,
            "SequenceNumberRange": {"StartingSequenceNumber": self.sequence_number(0)},
        }
        if not self.open:
            shard["SequenceNumberRange"]["EndingSequenceNumber"] = self.sequence_number(
                max(self.end - 1, 0)
            )
        return {
            "StreamArn": self.arn,
            "StreamLabel": self.label,
            "StreamStatus": "ENABLED" if self.open else "DISABLED",
            "StreamViewType": self.view_type,
            "CreationRequestDateTime": datetime.fromtimestamp(self.created, _LOCAL),
            "TableName": self.table_name,
            "KeySchema": [dict(key) for key in self.key_schema],
            "Shards": [shard],
        }


class MemoryStreams:
    """The dynamodbstreams client of a MemoryDynamoDB: the streams of its tables."""

    def __init__(self, dynamodb):
        self._dynamodb = dynamodb

    def _stream(self, arn: str, operation: str) -> Stream:
        stream = self._dynamodb.streams.get(arn)
        if stream is None:
            raise not_found(operation, f"Requested resource not found: Stream: {arn} not found")
        return stream

    def list_streams(self, *, TableName=None, Limit=100, ExclusiveStartStreamArn=None) -> dict:
        streams = sorted(self._dynamodb.streams.values(), key=lambda s: (s.created, s.arn))
        if TableName is not None:
            streams = [s for s in streams if s.table_name == TableName]
        if ExclusiveStartStreamArn is not None:
            arns = [s.arn for s in streams]
            if ExclusiveStartStreamArn in arns:
                streams = streams[arns.index(ExclusiveStartStreamArn) + 1 :]
        page = streams[:Limit]
        answer = {
            "Streams": [
                {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label}
                for s in page
            ]
        }
        if len(streams) > Limit:
            answer["LastEvaluatedStreamArn"] = page[-1].arn
        return answer

    def describe_stream(self, *, StreamArn, Limit=None, ExclusiveStartShardId=None) -> dict:
        description = self._stream(StreamArn, "DescribeStream").description()
        if ExclusiveStartShardId is not None:
            description["Shards"] = []
        return {"StreamDescription": description}

    def get_shard_iterator(
        self, *, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None
    ) -> dict:
        operation = "GetShardIterator"
        stream = self._stream(StreamArn, operation)
        if ShardId != stream.shard_id:
            raise not_found(operation, f"Requested resource not found: Shard: {ShardId} not found")
        with stream.changed:
            first, end = stream.first, stream.end
        if ShardIteratorType == "TRIM_HORIZON":
            position = first
        elif ShardIteratorType == "LATEST":
            position = end
        elif ShardIteratorType in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if not isinstance(SequenceNumber, str) or not SequenceNumber.isdigit():
                raise validation(operation, "Invalid SequenceNumber for ShardIteratorType")
            position = int(SequenceNumber) - SEQUENCE_BASE
            position += ShardIteratorType == "AFTER_SEQUENCE_NUMBER"
            if position < first:
                raise client_error(
                    "TrimmedDataAccessException", "The operation attempted to read past the "
                    "oldest stream record in a shard.", operation,
                )  # fmt: skip
            if position > end:
                raise validation(operation, "Invalid SequenceNumber: beyond the end of the shard")
        else:
            raise validation(operation, f"Invalid ShardIteratorType: {ShardIteratorType}")
        return {"ShardIterator": _iterator(stream, position)}

    def get_records(self, *, ShardIterator, Limit=1000, WaitSeconds: float = 0) -> dict:
        operation = "GetRecords"
        try:
            arn, shard_id, position = ShardIterator.rsplit("|", 2)
            position = int(position)
        except (AttributeError, ValueError):
            raise validation(operation, "Invalid ShardIterator") from None
        stream = self._stream(arn, operation)
        if shard_id != stream.shard_id:
            raise validation(operation, "Invalid ShardIterator")
        if not 1 <= Limit <= 1000:
            raise validation(operation, "Limit must be between 1 and 1000")
        records, position = stream.read(position, Limit, float(WaitSeconds or 0))
        answer = {"Records": records}
        if stream.open or position < stream.end:
            answer["NextShardIterator"] = _iterator(stream, position)
        return answer


def _iterator(stream: Stream, position: int) -> str:
    return f"{stream.arn}|{stream.shard_id}|{position}"
