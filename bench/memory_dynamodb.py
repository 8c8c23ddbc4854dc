"""What the in-memory DynamoDB (devtools/memory_aws/dynamodb.py) costs per call: printed
figures, not a test.

    .venv/bin/python -m bench.memory_dynamodb [--items 10000] [--calls 5000] [--rounds 200]
                                              [--repeat 3]

Prints, as Markdown, calls a second of the requests make run's storage makes most, on
Herald's own table (chalicelib.storage.tables.table_definition) holding `--items` messages,
one thread, called on a MemoryDynamoDB in this process, and the same on moto's DynamoDB
through a boto3 client under mock_aws (what a test in this process calls; make run's HTTP hop
to moto costs more still), with the ratio:

1. a conditional put of a new message (attribute_not_exists(pk));
2. a get of a message, consistent;
3. a conditional status update (SET #s = :new IF #s = :was), ALL_NEW;
4. a 50-message list page: a Query of the `by-account` index, newest first, Limit 50, from
   a partition holding all the messages;
5. a TransactWriteItems of two puts;
6. a stream's get_records of 100 records (memory only);
7. get_records' wake latency: from the put in one thread to the get_records that waited for
   it (WaitSeconds) returning in another, p50 and p99 over `--rounds` rounds.

moto is measured on a tenth as many calls, and a five-hundredth as many list pages and
transactions (each sorts or copies the whole table).
Nothing reaches AWS.
"""

import argparse
import statistics
import threading
import time

from bench.harness import offline

offline("herald-bench-memory-dynamodb")

from chalicelib.storage.tables import table_definition  # noqa: E402
from devtools.memory_aws.dynamodb import MemoryDynamoDB, MemoryStreams  # noqa: E402

TABLE = "herald-bench"
COMMAND = ".venv/bin/python -m bench.memory_dynamodb"
BODY = "Hello from Herald, a message of a typical length for an SMS text." * 2


def message(n: int) -> dict:
    """A stored message's item, about as many attributes as Herald writes."""
    item = {
        "pk": {"S": f"AC{'0' * 32}#SM{n:032x}"},
        "sk": {"S": "message"},
        "list_pk": {"S": f"AC{'0' * 32}#0"},
        "lk": {"S": f"{n:012x}{n:032x}"},
        "to_key": {"S": f"AC{'0' * 32}#+14155550100"},
        "body": {"S": BODY},
        "status": {"S": "queued"},
        "num_segments": {"N": "1"},
        "price_unit": {"S": "USD"},
        "date_created": {"N": str(1_750_000_000_000 + n)},
        "from": {"S": "+15005550006"},
        "to": {"S": "+14155550100"},
        "direction": {"S": "outbound-api"},
    }
    return item


def per_second(count: int, call) -> float:
    started = time.perf_counter()
    for n in range(count):
        call(n)
    return count / (time.perf_counter() - started)


def load(dynamodb, items: int) -> None:
    for start in range(0, items, 25):
        puts = [{"PutRequest": {"Item": message(n)}} for n in range(start, min(items, start + 25))]
        dynamodb.batch_write_item(RequestItems={TABLE: puts})


def figures(dynamodb, items: int, counts: tuple) -> list[float]:
    """Calls a second of each request, each made `counts[i]` times."""
    new = items + 1_000_000

    def put(n):
        dynamodb.put_item(
            TableName=TABLE, Item=message(new + n), ConditionExpression="attribute_not_exists(pk)"
        )

    def get(n):
        key = message(n % items)
        dynamodb.get_item(
            TableName=TABLE, Key={"pk": key["pk"], "sk": key["sk"]}, ConsistentRead=True
        )

    def update(n):
        key = message(new + n)
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": key["pk"], "sk": key["sk"]},
            UpdateExpression="SET #s = :new",
            ConditionExpression="#s = :was",
            ExpressionAttributeNames={"#s": "status"},
            ReturnValues="ALL_NEW",
            ExpressionAttributeValues={":new": {"S": "sent"}, ":was": {"S": "queued"}},
        )

    def page(n):
        answer = dynamodb.query(
            TableName=TABLE,
            IndexName="by-account",
            ScanIndexForward=False,
            Limit=50,
            KeyConditionExpression="list_pk = :p AND lk < :before",
            ExpressionAttributeValues={
                ":p": {"S": f"AC{'0' * 32}#0"},
                ":before": {"S": f"{items - n % 100:012x}"},
            },
        )
        assert answer["Count"] == 50

    def transaction(n):
        puts = [
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": message(2 * new + 2 * n + side),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for side in (0, 1)
        ]
        dynamodb.transact_write_items(TransactItems=puts)

    return [
        per_second(count, call)
        for count, call in zip(counts, (put, get, update, page, transaction), strict=True)
    ]


def stream_reads(dynamodb, calls: int) -> float:
    streams = MemoryStreams(dynamodb)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    start = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    rounds = max(1, calls // 100)
    return per_second(rounds, lambda _: streams.get_records(ShardIterator=start, Limit=100)) * 100


def wake_latency(dynamodb, rounds: int) -> tuple[float, float]:
    streams = MemoryStreams(dynamodb)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    latencies = []
    for n in range(rounds):
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]
        waiting, returned = threading.Event(), []

        def poll(iterator=iterator, waiting=waiting, returned=returned) -> None:
            waiting.set()
            streams.get_records(ShardIterator=iterator, WaitSeconds=20)
            returned.append(time.perf_counter())

        thread = threading.Thread(target=poll)
        thread.start()
        waiting.wait()
        time.sleep(0.005)  # the poll is waiting on its condition by now
        sent = time.perf_counter()
        dynamodb.put_item(TableName=TABLE, Item=message(5_000_000 + n))
        thread.join()
        latencies.append((returned[0] - sent) * 1000)
    latencies.sort()
    return statistics.median(latencies), latencies[
        min(len(latencies) - 1, int(len(latencies) * 0.99))
    ]


def row(name: str, ours: float, theirs: float | None) -> str:
    ratio = f"{ours / theirs:,.0f} times" if theirs else "-"
    theirs_text = "-" if not theirs else f"{theirs:,.0f}" if theirs >= 10 else f"{theirs:.1f}"
    return f"| {name} | {ours:,.0f} | {theirs_text} | {ratio} |"


NAMES = [
    "conditional put of a new message",
    "get of a message (consistent)",
    "conditional status update, ALL_NEW",
    "50-message list page (GSI Query, newest first)",
    "TransactWriteItems of 2 conditional puts",
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    for _ in range(args.repeat):  # each figure the best of the runs: a busy machine's noise
        memory = MemoryDynamoDB()
        memory.create_table(**table_definition(TABLE))
        load(memory, args.items)
        runs.append(
            [*figures(memory, args.items, (args.calls,) * 5), stream_reads(memory, args.calls)]
        )
    *ours, reads = (max(figure) for figure in zip(*runs, strict=True))
    p50, p99 = wake_latency(memory, args.rounds)

    import boto3
    from moto import mock_aws

    moto_calls = max(10, args.calls // 10)
    with mock_aws():
        moto = boto3.client("dynamodb", region_name="us-east-1")
        moto.create_table(**table_definition(TABLE))
        load(moto, args.items)
        # moto's Query sorts the whole table, and each transaction copies it (and keeps the
        # copy: 500 transactions on 10,000 items grew this process past 18 GB).
        few = max(5, moto_calls // 50)
        theirs = figures(moto, args.items, (moto_calls, moto_calls, moto_calls, few, few))
    print(
        f"In-memory DynamoDB vs moto's in process, calls a second, one thread, "
        f"{args.items:,} messages stored ({COMMAND} --items {args.items} --calls "
        f"{args.calls} --rounds {args.rounds} --repeat {args.repeat}; the best of "
        f"{args.repeat} runs; moto once, on {moto_calls} calls)\n"
    )
    print("| figure | MemoryDynamoDB | moto | ratio |")
    print("|---|---|---|---|")
    for name, mine, moto_figure in zip(NAMES, ours, theirs, strict=True):
        print(row(name, mine, moto_figure))
    print(row("stream records read a second (get_records of 100)", reads, None))
    wake = f"get_records wake latency, ms (p50 / p99 of {args.rounds})"
    print(f"| {wake} | {p50:.3f} / {p99:.3f} | - | - |")


if __name__ == "__main__":
    main()
