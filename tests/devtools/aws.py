"""What the embedded AWS tests share: a client of the embedded AWS at an endpoint, and
tables to try it on."""

import uuid

import boto3


def client(endpoint, service, config=None):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", config=config,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


def keys(range_key: bool = True) -> dict:
    """A table's string keys, pk (and sk when `range_key`), on demand: create_table's
    arguments beside TableName."""
    names = [("pk", "HASH")] + ([("sk", "RANGE")] if range_key else [])
    return {
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in names],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k, _ in names],
    }


def table(ddb, filler: int = 0, range_key: bool = False, stream: bool = False) -> str:
    """A new table (pk, and sk when `range_key`) holding `filler` items."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    ddb.create_table(TableName=name, **keys(range_key), **(extra if stream else {}))
    for start in range(0, filler, 25):
        puts = [put(name, f"filler{i}", pad="x" * 200) for i in range(start, start + 25)]
        ddb.transact_write_items(TransactItems=puts)
    return name


def put(table_name, pk, condition=None, **attrs):
    item = {"pk": {"S": pk}, **{k: {"S": v} for k, v in attrs.items()}}
    operation = {"TableName": table_name, "Item": item}
    if condition:
        operation["ConditionExpression"] = condition
    return {"Put": operation}
