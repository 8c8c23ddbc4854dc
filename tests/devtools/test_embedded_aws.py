"""The embedded AWS of the live-server tests (devtools/services.py, atomic_moto.py) keeps the
promises moto's own server breaks under concurrency: each DynamoDB request is atomic with
respect to every other, a cancelled transaction undoes its own writes and nothing else (in the
table and in its stream), two SQS receivers never get the same message, and a long poll blocks
nobody.

Each test runs with the calls made in this process (devtools/direct_aws.py) and over HTTP.
HERALD_TEST_PLAIN_MOTO=1 runs every test on moto's plain server too
(`services.embedded_aws(atomic=False)`), to show what the locks change. There, racing
conditional puts have several winners, racing transactions answer 500 (a table copied
while another thread writes to it), a cancelled transaction's whole-table copy erases
concurrent writes and its own writes stay in the stream, and (most runs) two SQS receivers
get the same message.
"""

import os
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devtools import services
from tests.devtools import aws
from tests.devtools.aws import put, table

pytestmark = pytest.mark.server

# "direct": this process's calls reach the app without HTTP (devtools/direct_aws.py), as make
# run's own calls and the delivery tests' do; "http": through its HTTP server, as any other
# process's calls do. The same promises hold either way.
VARIANTS = ["direct", "http"] + (
    ["plain"] if os.environ.get("HERALD_TEST_PLAIN_MOTO") == "1" else []
)


@pytest.fixture(scope="module", params=VARIANTS)
def endpoint(request):
    atomic, direct = request.param != "plain", request.param == "direct"
    with services.embedded_aws(atomic=atomic, direct=direct) as url:
        yield url


@pytest.fixture
def interleaved():
    """Switch threads often, so that racing requests interleave as much as they can."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


def client(endpoint, service):
    config = Config(max_pool_connections=32, retries={"max_attempts": 1})
    return aws.client(endpoint, service, config)


def error_code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def test_racing_transactions_on_one_key_have_exactly_one_winner(endpoint, interleaved):
    ddb = client(endpoint, "dynamodb")
    name = table(ddb, filler=100)

    def attempt(key, i):
        try:
            ddb.transact_write_items(
                TransactItems=[
                    put(name, key, "attribute_not_exists(pk)", writer=str(i)),
                    put(name, f"{key}-{i}"),
                ]
            )
            return "won"
        except ClientError as error:
            return error_code(error)

    for round_ in range(4):
        key = f"contested{round_}"
        with ThreadPoolExecutor(16) as pool:
            outcomes = Counter(pool.map(lambda i, key=key: attempt(key, i), range(16)))
        assert outcomes == {"won": 1, "TransactionCanceledException": 15}, outcomes


def test_racing_conditional_puts_on_one_key_have_exactly_one_winner(endpoint, interleaved):
    ddb = client(endpoint, "dynamodb")
    name = table(ddb)

    # A large item widens moto's gap between checking the condition and writing.
    attributes = {f"a{n}": "x" * 10 for n in range(150)}

    def attempt(key, i):
        try:
            ddb.put_item(**put(name, key, "attribute_not_exists(pk)", **attributes)["Put"])
            return "won"
        except ClientError as error:
            return error_code(error)

    for round_ in range(5):
        key = f"contested{round_}"
        with ThreadPoolExecutor(16) as pool:
            outcomes = Counter(pool.map(lambda i, key=key: attempt(key, i), range(16)))
        assert outcomes == {"won": 1, "ConditionalCheckFailedException": 15}, outcomes


def test_a_cancelled_transaction_never_erases_a_concurrent_write(endpoint, interleaved):
    ddb = client(endpoint, "dynamodb")
    name = table(ddb, filler=200)
    ddb.put_item(**put(name, "blocker")["Put"])
    stop, cancelled = threading.Event(), Counter()

    def cancel_again_and_again():
        # 60 writes, then a check that fails: the whole transaction is cancelled.
        items = [put(name, f"cancelled{i}") for i in range(60)]
        check = {"TableName": name, "Key": {"pk": {"S": "blocker"}}}
        check["ConditionExpression"] = "attribute_not_exists(pk)"
        while not stop.is_set():
            try:
                ddb.transact_write_items(TransactItems=[*items, {"ConditionCheck": check}])
            except ClientError as error:
                cancelled[error_code(error)] += 1

    cancellers = [threading.Thread(target=cancel_again_and_again) for _ in range(2)]
    for thread in cancellers:
        thread.start()

    def overwrite(i):
        ddb.put_item(**put(name, f"filler{i}", v="new")["Put"])

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(overwrite, range(200)))
    finally:
        stop.set()
        for thread in cancellers:
            thread.join()
    assert cancelled["TransactionCanceledException"] > 0
    items = {item["pk"]["S"]: item for item in ddb.scan(TableName=name)["Items"]}
    assert not [pk for pk in items if pk.startswith("cancelled")]
    lost = [i for i in range(200) if items[f"filler{i}"].get("v") != {"S": "new"}]
    assert lost == [], f"{len(lost)} writes erased by a cancelled transaction"


def test_a_cancelled_transaction_undoes_exactly_its_own_writes(endpoint):
    ddb = client(endpoint, "dynamodb")
    name = table(ddb, range_key=True, stream=True)
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"S": "before"}})
    shard_iterator = _stream_iterator(endpoint, name)
    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": name, "Key": key, "UpdateExpression": "SET v = :v",
                            "ExpressionAttributeValues": {":v": {"S": "after"}}}},
                {"Put": {"TableName": name, "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
                {"Delete": {"TableName": name, "Key": key | {"sk": {"S": "3"}}}},
                {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}},
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )  # fmt: skip
    assert error_code(cancelled.value) == "TransactionCanceledException"
    items = ddb.scan(TableName=name)["Items"]
    assert items == [{**key, "v": {"S": "before"}}]
    streams = client(endpoint, "dynamodbstreams")
    records = streams.get_records(ShardIterator=shard_iterator)["Records"]
    assert [record["eventName"] for record in records] == ["INSERT"], "cancelled writes streamed"


def _stream_iterator(endpoint, name) -> str:
    """An iterator at the start of the table's stream (DynamoDB Streams, server mode only)."""
    streams = client(endpoint, "dynamodbstreams")
    arn = client(endpoint, "dynamodb").describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]


def test_two_sqs_receivers_never_get_the_same_message(endpoint, interleaved):
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for start in range(0, 200, 10):
        entries = [{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    received: list[str] = []

    def receive(_):
        while messages := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60
        ).get("Messages"):
            received.extend(message["Body"] for message in messages)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(receive, range(8)))
    duplicates = [body for body, count in Counter(received).items() if count > 1]
    assert duplicates == [] and len(received) == 200


def test_a_long_poll_blocks_no_other_request(endpoint):
    sqs, ddb = client(endpoint, "sqs"), client(endpoint, "dynamodb")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    name = table(ddb)
    answer = {}
    poll = threading.Thread(
        target=lambda: answer.update(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20))
    )
    poll.start()
    time.sleep(0.5)  # for the poll to reach the server: not a measure of anything
    ddb.put_item(**put(name, "during-the-poll")["Put"])
    sqs.list_queues()
    # Both were answered while the poll still waits: a server that served one request at a
    # time would have answered them only when the poll gave up, 20 s on, with nothing.
    assert poll.is_alive() and answer == {}
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    poll.join()
    assert [message["Body"] for message in answer["Messages"]] == ["wake up"]


def test_every_service_on_one_endpoint(endpoint):
    s3, kms = client(endpoint, "s3"), client(endpoint, "kms")
    sns, sqs = client(endpoint, "sns"), client(endpoint, "sqs")
    s3.create_bucket(Bucket="herald-test")
    s3.put_object(Bucket="herald-test", Key="k", Body=b"body")
    assert s3.get_object(Bucket="herald-test", Key="k")["Body"].read() == b"body"
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    topic = sns.create_topic(Name="herald-test")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"])
    sns.publish(TopicArn=topic, Message="fan out")
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    assert "fan out" in messages[0]["Body"]


def test_a_get_records_that_asks_to_wait_answers_with_the_record_written_meanwhile(endpoint):
    """make run's stream reader waits for work (devtools/long_polls.py): its GetRecords,
    asked to wait, answers when a write lands instead of at once with nothing."""
    from devtools.long_polls import WAIT_HEADER

    ddb, streams = client(endpoint, "dynamodb"), client(endpoint, "dynamodbstreams")
    name = table(ddb, stream=True)
    iterator = _stream_iterator(endpoint, name)
    assert streams.get_records(ShardIterator=iterator)["Records"] == []  # not asked: at once

    def ask_to_wait(request, **_):
        request.headers[WAIT_HEADER] = "20"

    streams.meta.events.register("before-sign.dynamodb-streams.GetRecords", ask_to_wait)
    answer = {}
    reader = threading.Thread(
        target=lambda: answer.update(streams.get_records(ShardIterator=iterator))
    )
    reader.start()
    time.sleep(0.3)  # it is waiting now (had it answered at once, it found no record)
    ddb.put_item(TableName=name, Item={"pk": {"S": "landed"}})
    reader.join()
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in answer["Records"]] == ["landed"]


def test_another_process_reaches_the_app_through_the_door(endpoint, monkeypatch):
    """make run's HTTP child calls the embedded AWS through its door, not over HTTP."""
    import subprocess

    from devtools import direct_aws

    env = services.door_environment(endpoint)
    assert env, "every embedded AWS has a door"
    served = []
    serve = direct_aws.Door._serve
    monkeypatch.setattr(
        direct_aws.Door, "_serve", lambda door, conn: served.append(1) or serve(door, conn)
    )
    ddb = client(endpoint, "dynamodb")
    name = table(ddb)
    script = (
        "import boto3, sys\n"
        "from devtools import direct_aws\n"
        "direct_aws.enter_from_environment()\n"
        "ddb = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-east-1')\n"
        "ddb.put_item(TableName=sys.argv[2], Item={'pk': {'S': 'from-the-child'}})\n"
    )
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    subprocess.run(
        [sys.executable, "-c", script, endpoint, name],
        check=True, timeout=60, env={**os.environ, **env, **credentials},
    )  # fmt: skip
    assert served, "the child's call came over HTTP"
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "from-the-child"}}).get("Item")
