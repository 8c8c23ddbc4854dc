"""The embedded AWS's Query from a sorted index (devtools/query_index.py) answers exactly as
moto does on the whole table, page by page, while items come, change keys and go; and it reads
a page's worth of the index, not the table.

Each example writes and queries through the embedded AWS (so the index follows the writes as
it does under make run) and asks every Query twice: once as served, once with the index
switched off, which is moto's own Query on every item of the table.
"""

import uuid

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools import query_index, services

pytestmark = pytest.mark.server

PARTITIONS = ["a", "b"]
SORTS = [str(n) for n in range(8)]
GSI_HASHES = ["x", "y"]
WORDS = ["a", "ab", "abc", "b", "ba", "c"]
NUMBERS = ["-1", "0", "1", "1.5", "2", "10"]


@pytest.fixture(scope="module")
def ddb():
    with services.embedded_aws() as url:
        yield boto3.client(
            "dynamodb", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip


def new_table(ddb, sort_type: str) -> str:
    name = f"q-{uuid.uuid4().hex[:8]}"

    def keys(hash_name, range_name):
        return [
            {"AttributeName": hash_name, "KeyType": "HASH"},
            {"AttributeName": range_name, "KeyType": "RANGE"},
        ]

    types = {"pk": "S", "sk": "S", "gh": "S", "gr": sort_type}
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=keys("pk", "sk"),
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in types.items()],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": keys("gh", "gr"),
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            }
        ],
    )
    return name


def sort_values(sort_type: str):
    return st.sampled_from(NUMBERS if sort_type == "N" else WORDS)


def operations(sort_type: str):
    key = st.fixed_dictionaries({"pk": st.sampled_from(PARTITIONS), "sk": st.sampled_from(SORTS)})
    indexed = st.fixed_dictionaries(
        {"gh": st.sampled_from(GSI_HASHES), "gr": sort_values(sort_type)}
    )
    # Most items are in the index; some lack one of its keys (the index is sparse).
    partial = st.fixed_dictionaries(
        {}, optional={"gh": st.sampled_from(GSI_HASHES), "gr": sort_values(sort_type)}
    )
    gsi = st.one_of(indexed, indexed, indexed, partial)
    put = st.tuples(st.just("put"), key, gsi, st.integers(0, 3))
    delete = st.tuples(st.just("delete"), key)
    condition = st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["=", "<", "<=", ">", ">="]), sort_values(sort_type)),
        st.tuples(st.just("between"), sort_values(sort_type), sort_values(sort_type)),
        *([st.tuples(st.just("begins_with"), st.sampled_from(WORDS))] if sort_type == "S" else []),
    )
    query = st.tuples(
        st.just("query"), st.sampled_from(GSI_HASHES), condition, st.integers(1, 4), st.booleans()
    )
    table_query = st.tuples(
        st.just("table"), st.sampled_from(PARTITIONS), st.integers(1, 3), st.booleans()
    )
    # Items first (most queries find pages to turn), then writes and queries mixed.
    return st.tuples(
        st.lists(put, min_size=4, max_size=30),
        st.lists(st.one_of(put, delete, query, table_query), min_size=1, max_size=30),
    )


def attribute(sort_type: str, value: str) -> dict:
    return {sort_type: value}


def write(ddb, table, sort_type, operation) -> None:
    kind, key = operation[0], {name: {"S": value} for name, value in operation[1].items()}
    if kind == "delete":
        ddb.delete_item(TableName=table, Key=key)
        return
    _, _, gsi, value = operation
    item = {**key, "v": {"N": str(value)}, "other": {"S": "not projected"}}
    if "gh" in gsi:
        item["gh"] = {"S": gsi["gh"]}
    if "gr" in gsi:
        item["gr"] = attribute(sort_type, gsi["gr"])
    ddb.put_item(TableName=table, Item=item)


def pages(ddb, request: dict) -> list[dict]:
    answers, start = [], None
    while True:
        answer = ddb.query(**request, **({"ExclusiveStartKey": start} if start else {}))
        answer.pop("ResponseMetadata")
        answers.append(answer)
        start = answer.get("LastEvaluatedKey")
        if not start or len(answers) > 40:
            return answers


def index_query(table, sort_type, operation) -> dict:
    _, gh, condition, limit, forward = operation
    expression, values = "gh = :h", {":h": {"S": gh}}
    if condition is not None:
        operator, *operands = condition
        values.update({f":v{n}": attribute(sort_type, v) for n, v in enumerate(operands)})
        expression += {
            "between": " AND gr BETWEEN :v0 AND :v1",
            "begins_with": " AND begins_with(gr, :v0)",
        }.get(operator, f" AND gr {operator} :v0")
    return {
        "TableName": table, "IndexName": "gsi", "KeyConditionExpression": expression,
        "ExpressionAttributeValues": values, "Limit": limit, "ScanIndexForward": forward,
    }  # fmt: skip


def table_query(table, operation) -> dict:
    _, pk, limit, forward = operation
    return {
        "TableName": table, "KeyConditionExpression": "pk = :p AND sk >= :s",
        "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": "2"}},
        "Limit": limit, "ScanIndexForward": forward,
    }  # fmt: skip


def moto_alone(monkeypatch):
    def whole_table(*_args, **_kwargs):
        raise query_index.Unsupported

    monkeypatch.setattr(query_index, "_window_for", whole_table)


@pytest.mark.parametrize("sort_type", ["S", "N"])
def test_a_query_from_the_index_answers_as_moto_on_the_whole_table(ddb, sort_type):
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operations(sort_type))
    def check(operations):
        table = new_table(ddb, sort_type)
        items, steps = operations
        every_page = [
            ("query", gh, None, limit, forward)
            for gh in GSI_HASHES
            for limit in (1, 2)
            for forward in (True, False)
        ]
        try:
            for step in [*items, *steps, *every_page]:
                if step[0] in ("put", "delete"):
                    write(ddb, table, sort_type, step)
                    continue
                request = (
                    index_query(table, sort_type, step)
                    if step[0] == "query"
                    else table_query(table, step)
                )
                served = pages(ddb, request)
                with pytest.MonkeyPatch.context() as monkeypatch:
                    moto_alone(monkeypatch)
                    assert served == pages(ddb, request), request
        finally:
            ddb.delete_table(TableName=table)

    check()


def test_a_page_reads_the_index_not_the_table(ddb, monkeypatch):
    """A Query names a page's worth of items: moto never sorts the whole table for it."""
    from moto.dynamodb.models.table import Table

    table = new_table(ddb, "S")
    for n in range(300):
        item = {"pk": {"S": f"p{n}"}, "sk": {"S": "s"}, "gh": {"S": "x"}, "gr": {"S": f"{n:04d}"}}
        ddb.put_item(TableName=table, Item=item)
    ddb.query(**index_query(table, "S", ("query", "x", None, 5, False)))  # builds the index
    whole = []
    real = Table.all_items
    monkeypatch.setattr(Table, "all_items", lambda self: whole.append(self) or real(self))
    answer = ddb.query(**index_query(table, "S", ("query", "x", ("<", "0100"), 5, False)))
    assert [item["gr"]["S"] for item in answer["Items"]] == ["0099", "0098", "0097", "0096", "0095"]
    assert whole == []
    ddb.delete_table(TableName=table)
