"""The in-memory DynamoDB's streams (devtools/memory_aws/streams.py): the same records as
moto's for the same writes, iterators of every type, and what the engine adds: a
get_records that waits for a record (WaitSeconds) without holding the engine, and a bound
on the records it keeps.

Three differences from moto, each DynamoDB's documented behaviour: a write that changes
nothing writes no record ("If you perform a PutItem or UpdateItem operation that does not
change any data in an item, DynamoDB Streams does not write a stream record for that
operation"); an UpdateItem that makes an item writes one INSERT (moto: two); records say
eventVersion "1.1" (moto: "1.0").
"""

import threading
import time
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from chalicelib.storage.tables import table_definition
from devtools.memory_aws.dynamodb import MemoryDynamoDB, MemoryStreams
from tests.devtools.dynamodb_sides import sides, stream_records

TABLE = "herald-streams"


def key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "message"}}


def writes(both, table: str) -> None:
    """Every kind of write, on both sides, each changing an item (or refused)."""
    both.same("put_item", TableName=table, Item={**key("a"), "st": {"S": "queued"}})
    both.same("put_item", TableName=table, Item={**key("b"), "n": {"N": "1"}})
    both.same(
        "update_item",
        TableName=table,
        Key=key("a"),
        UpdateExpression="SET st = :s",
        ExpressionAttributeValues={":s": {"S": "sent"}},
    )
    both.same("put_item", TableName=table, Item={**key("a"), "st": {"S": "delivered"}})
    both.same(
        "put_item", TableName=table, Item=key("b"), ConditionExpression="attribute_not_exists(pk)"
    )
    both.same("delete_item", TableName=table, Key=key("missing"))
    both.same("delete_item", TableName=table, Key=key("b"))
    both.same("put_item", TableName=table, Item=key("c"))
    both.same(
        "update_item",
        TableName=table,
        Key=key("c"),
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    both.same(
        "transact_write_items",
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key("d"), "x": {"S": "1"}}}},
            {"Delete": {"TableName": table, "Key": key("a")}},
            {"Update": {"TableName": table, "Key": key("c"), "UpdateExpression": "REMOVE n"}},
        ],
    )
    both.same(
        "batch_write_item",
        RequestItems={
            table: [
                {"PutRequest": {"Item": {**key("e"), "y": {"B": b"\x00\xff"}}}},
                {"DeleteRequest": {"Key": key("d")}},
            ]
        },
    )


@pytest.mark.parametrize("view", ["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"])
def test_the_records_are_moto_s_for_the_same_writes(view):
    with sides() as both:
        definition = table_definition(TABLE)
        definition["StreamSpecification"]["StreamViewType"] = view
        both.create(definition)
        writes(both, TABLE)
        theirs, ours = both.records(TABLE)
        assert ours == theirs
        assert [name for name, *_ in ours] == [
            "INSERT",
            "INSERT",
            "MODIFY",
            "MODIFY",
            "REMOVE",
            "INSERT",
            "MODIFY",
            "INSERT",
            "REMOVE",
            "MODIFY",
            "INSERT",
            "REMOVE",
        ]


def test_iterators_start_where_their_type_says():
    with sides() as both:
        both.create(table_definition(TABLE))
        writes(both, TABLE)
        for streams, dynamodb in (
            (both.moto_streams, both.moto),
            (both.memory_streams, both.memory),
        ):
            arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            records = stream_records(dynamodb, streams, TABLE, full=True)
            numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
            assert shard["SequenceNumberRange"]["StartingSequenceNumber"] == numbers[0]
            assert numbers == sorted(numbers) and len({len(n) for n in numbers}) == 1

            def read(kind, streams=streams, arn=arn, shard=shard, **at):
                iterator = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind, **at
                )["ShardIterator"]
                return streams.get_records(ShardIterator=iterator, Limit=3)

            assert read("LATEST")["Records"] == []
            at = read("AT_SEQUENCE_NUMBER", SequenceNumber=numbers[4])
            assert [r["dynamodb"]["SequenceNumber"] for r in at["Records"]] == numbers[4:7]
            after = read("AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[4])
            assert [r["dynamodb"]["SequenceNumber"] for r in after["Records"]] == numbers[5:8]
            following = streams.get_records(ShardIterator=after["NextShardIterator"])
            assert [r["dynamodb"]["SequenceNumber"] for r in following["Records"]] == numbers[8:]


def memory_stream(table_definition_=None):
    dynamodb = MemoryDynamoDB()
    dynamodb.create_table(**(table_definition_ or table_definition(TABLE)))
    streams = MemoryStreams(dynamodb)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def iterator(kind="LATEST", **at):
        return streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **at
        )["ShardIterator"]

    return dynamodb, streams, iterator


def test_a_write_that_changes_nothing_writes_no_record():
    dynamodb, streams, iterator = memory_stream()
    item = {**key("a"), "st": {"S": "queued"}}
    dynamodb.put_item(TableName=TABLE, Item=item)
    start = iterator()
    dynamodb.put_item(TableName=TABLE, Item=item)
    dynamodb.update_item(
        TableName=TABLE,
        Key=key("a"),
        UpdateExpression="SET st = :s",
        ExpressionAttributeValues={":s": {"S": "queued"}},
    )
    dynamodb.delete_item(TableName=TABLE, Key=key("never"))
    assert streams.get_records(ShardIterator=start)["Records"] == []
    dynamodb.update_item(TableName=TABLE, Key=key("a"), UpdateExpression="REMOVE st")
    assert [r["eventName"] for r in streams.get_records(ShardIterator=start)["Records"]] == [
        "MODIFY"
    ]


def test_an_update_that_makes_an_item_is_one_insert():
    """One write, one record: moto writes two for it (the bare key, then the item)."""
    dynamodb, streams, iterator = memory_stream()
    start = iterator()
    dynamodb.update_item(
        TableName=TABLE,
        Key=key("c"),
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    (record,) = streams.get_records(ShardIterator=start)["Records"]
    assert (record["eventName"], record["dynamodb"]["NewImage"]) == (
        "INSERT",
        {**key("c"), "n": {"N": "1"}},
    )


def test_a_record_has_dynamodb_s_shape():
    dynamodb, streams, iterator = memory_stream()
    start = iterator("TRIM_HORIZON")
    dynamodb.put_item(TableName=TABLE, Item={**key("a"), "st": {"S": "queued"}})
    (record,) = streams.get_records(ShardIterator=start)["Records"]
    data = record.pop("dynamodb")
    assert record == {
        "eventID": record["eventID"],
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
    }
    assert len(record["eventID"]) == 32
    created = data.pop("ApproximateCreationDateTime")
    assert isinstance(created, datetime) and created.tzinfo is not None
    assert abs(created.timestamp() - time.time()) < 60 and created.microsecond == 0
    assert data.pop("SizeBytes") > 0
    assert data == {
        "Keys": key("a"),
        "NewImage": {**key("a"), "st": {"S": "queued"}},
        "SequenceNumber": data["SequenceNumber"],
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    # A record read twice is the same record (its eventID too).
    assert streams.get_records(ShardIterator=start)["Records"][0]["eventID"] == record["eventID"]


def test_get_records_waits_for_a_record_without_holding_the_engine():
    dynamodb, streams, iterator = memory_stream()
    start = iterator()
    answers = []
    reader = threading.Thread(
        target=lambda: answers.append(streams.get_records(ShardIterator=start, WaitSeconds=30))
    )
    reader.start()
    time.sleep(0.2)  # the reader is waiting; the engine still takes writes and reads
    assert dynamodb.get_item(TableName=TABLE, Key=key("a")) == {}
    dynamodb.put_item(TableName=TABLE, Item=key("a"))
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert [r["eventName"] for r in answers[0]["Records"]] == ["INSERT"]
    assert "NextShardIterator" in answers[0]


def test_a_wait_with_nothing_to_read_ends_at_its_time():
    _, streams, iterator = memory_stream()
    started = time.monotonic()
    answer = streams.get_records(ShardIterator=iterator(), WaitSeconds=0.2)
    assert answer["Records"] == [] and time.monotonic() - started >= 0.2
    # No wait asked: an empty answer at once, as DynamoDB's.
    assert streams.get_records(ShardIterator=answer["NextShardIterator"])["Records"] == []


def test_a_deleted_table_closes_its_stream_and_wakes_its_readers():
    dynamodb, streams, iterator = memory_stream()
    start = iterator()
    dynamodb.put_item(TableName=TABLE, Item=key("a"))
    end = streams.get_records(ShardIterator=start)["NextShardIterator"]
    answers = []
    reader = threading.Thread(
        target=lambda: answers.append(streams.get_records(ShardIterator=end, WaitSeconds=30))
    )
    reader.start()
    time.sleep(0.1)
    dynamodb.delete_table(TableName=TABLE)
    reader.join(timeout=10)
    assert answers == [{"Records": []}]  # the shard is closed: no next iterator
    closed = streams.describe_stream(StreamArn=start.split("|")[0])["StreamDescription"]
    assert closed["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in closed["Shards"][0]["SequenceNumberRange"]
    assert [r["eventName"] for r in streams.get_records(ShardIterator=start)["Records"]] == [
        "INSERT"
    ]


def test_old_records_are_trimmed_and_an_iterator_to_them_refused():
    dynamodb, streams, iterator = memory_stream()
    stream = next(iter(dynamodb.streams.values()))
    stream.max_records = 5
    start = iterator("TRIM_HORIZON")
    for n in range(12):
        dynamodb.put_item(TableName=TABLE, Item=key(str(n)))
    with pytest.raises(ClientError) as trimmed:
        streams.get_records(ShardIterator=start)
    assert trimmed.value.response["Error"]["Code"] == "TrimmedDataAccessException"
    kept = streams.get_records(ShardIterator=iterator("TRIM_HORIZON"))["Records"]
    assert 5 <= len(kept) <= 10
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in kept][-1] == "11"
    first = kept[0]["dynamodb"]["SequenceNumber"]
    with pytest.raises(ClientError) as before:
        iterator("AT_SEQUENCE_NUMBER", SequenceNumber=str(int(first) - 1))
    assert before.value.response["Error"]["Code"] == "TrimmedDataAccessException"


def test_list_streams_and_refusals():
    _, streams, iterator = memory_stream()
    (listed,) = streams.list_streams()["Streams"]
    assert listed["TableName"] == TABLE and streams.list_streams(TableName="other")["Streams"] == []
    for bad in ("nonsense", iterator().replace("|", "|x", 1)):
        with pytest.raises(ClientError) as refused:
            streams.get_records(ShardIterator=bad)
        assert refused.value.response["Error"]["Code"] in (
            "ValidationException",
            "ResourceNotFoundException",
        )


def test_records_trimmed_while_a_reader_waited_are_refused_not_misread():
    dynamodb, streams, iterator = memory_stream()
    stream = next(iter(dynamodb.streams.values()))
    stream.max_records = 2
    start = iterator()
    waited = stream.changed.wait_for

    def many_arrive(predicate, timeout):  # while the reader waits, records come and go
        for n in range(6):
            stream.records.append(("INSERT", None, key(str(n)), 0.0, 1, None))
        del stream.records[:4]
        stream.first += 4
        return waited(predicate, timeout)

    stream.changed.wait_for = many_arrive
    with pytest.raises(ClientError) as trimmed:
        streams.get_records(ShardIterator=start, WaitSeconds=5)
    assert trimmed.value.response["Error"]["Code"] == "TrimmedDataAccessException"
