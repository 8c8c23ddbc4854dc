"""The two DynamoDBs the in-memory DynamoDB's tests hold side by side: moto's (boto3 clients
under mock_aws) and devtools.memory_aws's MemoryDynamoDB and MemoryStreams.

`Sides.same(operation, **request)` sends one request to each and asserts that they answer
alike: the same answer, less what only AWS's transport adds (ResponseMetadata,
ConsumedCapacity), or the same error code and the same fields DynamoDB adds to an error
(the refused Item, a transaction's CancellationReasons). Each side gets its own deep copy of
the request.
"""

import contextlib
import copy

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from devtools.memory_aws.dynamodb import MemoryDynamoDB, MemoryStreams
from tests.conftest import MOTO

# moto answers DynamoDB Streams at the service's classic endpoint; left to itself botocore
# derives an endpoint from the stream's ARN for DescribeStream, which moto does not serve.
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"
TRANSPORT = ("ResponseMetadata", "ConsumedCapacity", "ItemCollectionMetrics")
ERROR_FIELDS = ("Item", "CancellationReasons")


def outcome(client, operation: str, request: dict) -> dict:
    """What `client.operation(**request)` answered, or {"Error": code, ...its fields}."""
    try:
        answer = getattr(client, operation)(**copy.deepcopy(request))
    except ClientError as error:
        response = error.response
        fields = {name: response[name] for name in ERROR_FIELDS if name in response}
        return {"Error": response["Error"]["Code"], **fields}
    return {name: value for name, value in answer.items() if name not in TRANSPORT}


def canonical(item: dict) -> str:
    """An item's text whatever the order of its attributes: to sort answers DynamoDB gives
    in no particular order."""
    return repr(sorted(item.items()))


class Sides:
    def __init__(self, dynamodb, streams):
        self.moto, self.moto_streams = dynamodb, streams
        self.memory = MemoryDynamoDB()
        self.memory_streams = MemoryStreams(self.memory)

    def both(self, operation: str, **request) -> tuple[dict, dict]:
        """(moto's outcome, the in-memory one)."""
        return outcome(self.moto, operation, request), outcome(self.memory, operation, request)

    def same(self, operation: str, **request) -> dict:
        theirs, ours = self.both(operation, **request)
        assert ours == theirs, (operation, request)
        return ours

    def create(self, definition: dict) -> None:
        for client in (self.moto, self.memory):
            client.create_table(**copy.deepcopy(definition))

    def records(self, table: str) -> tuple[list, list]:
        """Each side's stream records of `table` so far, as (eventName, Keys, NewImage,
        OldImage): what a reader acts on."""
        return (
            stream_records(self.moto, self.moto_streams, table),
            stream_records(self.memory, self.memory_streams, table),
        )


def stream_records(dynamodb, streams, table: str, full: bool = False) -> list:
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    found = []
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=100)
        found += answer["Records"]
        if not answer["Records"]:
            break
        iterator = answer.get("NextShardIterator")
    if full:
        return found
    return [
        (
            record["eventName"],
            record["dynamodb"]["Keys"],
            record["dynamodb"].get("NewImage"),
            record["dynamodb"].get("OldImage"),
        )
        for record in found
    ]


@contextlib.contextmanager
def sides():
    with mock_aws(config=MOTO):
        yield Sides(
            boto3.client("dynamodb", region_name="us-east-1"),
            boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=STREAMS_ENDPOINT),
        )
