"""Where the embedded AWS's state starts (devtools/services.py). A file of its own: the
other embedded AWS tests keep a server running for their whole module, which shares its
state with any started beside it."""

import boto3

from devtools import services


def tables(url: str) -> list[str]:
    ddb = boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    return ddb.list_tables()["TableNames"]


def create(url: str, name: str) -> None:
    boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )  # fmt: skip


def test_an_embedded_aws_starts_empty_whatever_an_earlier_one_left():
    """moto keeps its state per process: the first embedded AWS a process starts begins
    empty, as a new moto server does, and one started beside it shares its state. Without
    it a live Herald served the table an earlier one left (a number registered to another
    account: 21422), depending on which test files had run before in the same process."""
    with services.embedded_aws() as url:
        create(url, "left-behind")
    with services.embedded_aws() as url:
        assert tables(url) == []
        create(url, "shared")
        with services.embedded_aws() as beside:
            assert tables(beside) == ["shared"]
