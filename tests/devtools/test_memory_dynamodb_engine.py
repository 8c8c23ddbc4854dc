"""What the in-memory DynamoDB promises beyond single answers: every request atomic with
respect to every other, answers that are the caller's own copies, Queries that read their
page and not the partition, TTL deletions as DynamoDB makes them, and ClientRequestToken
idempotency (moto has neither of the last two: these are held to DynamoDB's documentation).
"""

import math
import sys
import threading

import pytest
from botocore.exceptions import ClientError

from chalicelib.storage.tables import table_definition
from devtools.memory_aws.dynamodb import MemoryDynamoDB, MemoryStreams

TABLE = "herald-engine"


def key(pk: str, sk: str = "message") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


@pytest.fixture
def dynamodb():
    engine = MemoryDynamoDB()
    engine.create_table(**table_definition(TABLE))
    return engine


def records(dynamodb, start: str) -> list:
    return MemoryStreams(dynamodb).get_records(ShardIterator=start)["Records"]


def latest(dynamodb) -> str:
    streams = MemoryStreams(dynamodb)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]


def test_ttl_deletes_what_expired_with_the_service_s_records(dynamodb):
    dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    for n, expiry in enumerate([{"N": "100"}, {"N": "200.5"}, {"S": "100"}, None]):
        dynamodb.put_item(
            TableName=TABLE, Item={**key(str(n)), **({"expires_at": expiry} if expiry else {})}
        )
    # A later write moves an expiry: the item goes by its new one, not its old.
    dynamodb.update_item(
        TableName=TABLE,
        Key=key("1"),
        UpdateExpression="SET expires_at = :e",
        ExpressionAttributeValues={":e": {"N": "300"}},
    )
    start = latest(dynamodb)
    # Until the deletion runs, reads still return an expired item, as DynamoDB's do.
    assert dynamodb.get_item(TableName=TABLE, Key=key("0"))["Item"]["expires_at"] == {"N": "100"}
    assert dynamodb.expire_items(now=150) == 1
    assert dynamodb.expire_items(now=150) == 0
    assert dynamodb.expire_items(now=250) == 0
    assert dynamodb.expire_items(now=301) == 1
    assert sorted(item["pk"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]) == ["2", "3"]
    removed = records(dynamodb, start)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in removed] == [
        ("REMOVE", "0"),
        ("REMOVE", "1"),
    ]
    assert all(
        r["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        for r in removed
    )
    assert removed[0]["dynamodb"]["OldImage"]["expires_at"] == {"N": "100"}


def test_ttl_enabled_later_finds_the_items_already_there(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**key("a"), "e": {"N": "5"}})
    assert dynamodb.expire_items(now=10) == 0  # no TTL yet
    dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "e"}
    )
    assert dynamodb.expire_items(now=10) == 1


def test_racing_conditional_writes_each_take_effect_once(dynamodb):
    """Threads racing on the same keys: one conditional put wins each key, and conditional
    increments (read the count, write count + 1 if it is unchanged) lose nothing."""
    wins, errors = [], []
    dynamodb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "0"}})

    def race(thread: int) -> None:
        try:
            for n in range(50):
                try:
                    dynamodb.put_item(
                        TableName=TABLE,
                        Item={**key(f"k{n}"), "by": {"N": str(thread)}},
                        ConditionExpression="attribute_not_exists(pk)",
                    )
                    wins.append(n)
                except ClientError as error:
                    assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                while True:
                    seen = dynamodb.get_item(TableName=TABLE, Key=key("counter"))["Item"]["n"]
                    try:
                        dynamodb.transact_write_items(
                            TransactItems=[
                                {
                                    "Update": {
                                        "TableName": TABLE,
                                        "Key": key("counter"),
                                        "UpdateExpression": "SET n = :next",
                                        "ConditionExpression": "n = :seen",
                                        "ExpressionAttributeValues": {
                                            ":seen": seen,
                                            ":next": {"N": str(int(seen["N"]) + 1)},
                                        },
                                    }
                                }
                            ]
                        )
                        break
                    except ClientError as error:
                        assert error.response["Error"]["Code"] == "TransactionCanceledException"
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often: their requests interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert sorted(wins) == list(range(50))
    assert dynamodb.get_item(TableName=TABLE, Key=key("counter"))["Item"]["n"] == {"N": "300"}


def test_answers_are_copies_and_requests_are_not_kept(dynamodb):
    item = {**key("a"), "m": {"M": {"l": {"L": [{"S": "x"}]}}}, "ss": {"SS": ["a"]}}
    dynamodb.put_item(TableName=TABLE, Item=item)
    item["m"]["M"]["l"]["L"].append({"S": "changed by the caller"})
    values = {":v": {"L": [{"S": "y"}]}}
    dynamodb.update_item(
        TableName=TABLE,
        Key=key("a"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues=values,
    )
    values[":v"]["L"].append({"S": "changed"})
    for answer in (
        dynamodb.get_item(TableName=TABLE, Key=key("a"))["Item"],
        dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
        )["Items"][0],
        dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [key("a")]}})["Responses"][TABLE][0],
    ):
        answer["m"]["M"]["l"]["L"].append({"S": "changed by a reader"})
        answer["ss"]["SS"].append("b")
        answer["v"]["L"].clear()
    assert dynamodb.get_item(TableName=TABLE, Key=key("a"))["Item"] == {
        **key("a"),
        "m": {"M": {"l": {"L": [{"S": "x"}]}}},
        "ss": {"SS": ["a"]},
        "v": {"L": [{"S": "y"}]},
    }


def test_a_query_reads_its_page_not_the_partition(dynamodb):
    """A page of 5 from 4,000 items of one index partition looks at about log2(4000) items
    to find where it starts and ends, plus the page: not at the partition."""
    items = [
        {**key(f"m{n:05d}"), "list_pk": {"S": "A"}, "lk": {"S": f"{n:05d}"}} for n in range(4000)
    ]
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )
    table = dynamodb.tables[TABLE]

    class Counting(dict):
        looked = 0

        def __getitem__(self, found_key):
            Counting.looked += 1
            return super().__getitem__(found_key)

    table.items = Counting(table.items)
    bound = 3 * math.log2(4000) + 2 * 6
    for condition, forward in (
        ("lk < :a", False),
        ("lk BETWEEN :a AND :b", True),
        ("begins_with(lk, :c)", True),
    ):
        Counting.looked = 0
        page = dynamodb.query(
            TableName=TABLE,
            IndexName="by-account",
            KeyConditionExpression=f"list_pk = :p AND {condition}",
            ExpressionAttributeValues={":p": {"S": "A"}}
            | {
                name: value
                for name, value in {
                    ":a": {"S": "02000"},
                    ":b": {"S": "03000"},
                    ":c": {"S": "031"},
                }.items()
                if name in condition
            },
            Limit=5,
            ScanIndexForward=forward,
        )
        assert page["Count"] == 5
        assert Counting.looked <= bound, (condition, Counting.looked)


def test_a_client_request_token_commits_once(dynamodb):
    """TransactWriteItems' ClientRequestToken: the same request again within 10 minutes
    answers as the first did and writes nothing; another request with it is refused."""
    request = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("a"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    for _ in range(3):
        assert dynamodb.transact_write_items(TransactItems=request, ClientRequestToken="t1") == {}
    assert dynamodb.get_item(TableName=TABLE, Key=key("a"))["Item"]["n"] == {"N": "1"}
    other = [{"Put": {"TableName": TABLE, "Item": key("b")}}]
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=other, ClientRequestToken="t1")
    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    dynamodb.transact_write_items(TransactItems=request, ClientRequestToken="t2")
    assert dynamodb.get_item(TableName=TABLE, Key=key("a"))["Item"]["n"] == {"N": "2"}


def test_an_item_over_400_kb_is_refused_also_when_an_update_makes_it(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**key("a"), "x": {"S": "x" * 300_000}})
    for update in (
        lambda: dynamodb.update_item(
            TableName=TABLE,
            Key=key("a"),
            UpdateExpression="SET y = :y",
            ExpressionAttributeValues={":y": {"S": "y" * 200_000}},
        ),
        lambda: dynamodb.put_item(TableName=TABLE, Item={**key("b"), "x": {"B": b"x" * 410_000}}),
    ):
        with pytest.raises(ClientError) as refused:
            update()
        assert "Item size has exceeded" in refused.value.response["Error"]["Message"]
    dynamodb.update_item(
        TableName=TABLE,
        Key=key("a"),
        UpdateExpression="SET x = :y",
        ExpressionAttributeValues={":y": {"S": "y" * 400_000}},
    )


def test_tables_come_and_go(dynamodb):
    assert dynamodb.list_tables() == {"TableNames": [TABLE]}
    dynamodb.get_waiter("table_exists").wait(TableName=TABLE)
    dynamodb.put_item(TableName=TABLE, Item=key("a"))
    assert dynamodb.delete_table(TableName=TABLE)["TableDescription"]["TableStatus"] == "DELETING"
    dynamodb.get_waiter("table_not_exists").wait(TableName=TABLE)
    with pytest.raises(ClientError) as gone:
        dynamodb.get_item(TableName=TABLE, Key=key("a"))
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    dynamodb.create_table(**table_definition(TABLE))
    assert dynamodb.get_item(TableName=TABLE, Key=key("a")) == {}
    dynamodb.reset()
    assert dynamodb.list_tables() == {"TableNames": []}
