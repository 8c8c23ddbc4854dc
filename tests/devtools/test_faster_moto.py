"""The embedded AWS's cuts to moto's per-request costs (devtools/faster_moto.py): each answers
as moto does, and each takes away the work a profile of make run found.

Where moto's own answer is at hand, the two are compared on generated values (serializing
DynamoDB's items, projecting them); where the cut is work moto no longer does (counting a
queue's messages, listing its own directory, parsing an expression again, routing through
Flask), the test counts that work.
"""

import base64
import os
import uuid
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools import faster_moto, services
from tests.devtools.aws import client, table

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def endpoint():
    with services.embedded_aws() as url:
        yield url


@contextmanager
def serving(value: bool):
    faster_moto.install()
    was = faster_moto.serving()
    faster_moto.set_serving(value)
    try:
        yield
    finally:
        faster_moto.set_serving(was)


def some(elements):
    return st.sets(elements, min_size=1, max_size=3).map(sorted)


# AttributeValues as moto's DynamoDB answers hold them (dynamo_to_dict: binary as bytes).
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**12), 10**12)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": s}, some(st.text(max_size=4))),
    st.builds(lambda s: {"NS": [str(n) for n in s]}, some(st.integers())),
    st.builds(lambda s: {"BS": s}, some(st.binary(max_size=4))),
)  # fmt: skip
attribute_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"M": items}, st.dictionaries(st.text(max_size=4), inner)),
    ),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), attribute_values, max_size=6))
def test_an_item_is_written_as_moto_s_serializer_writes_it(item):
    from moto.core.responses import get_service_model
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.dynamodb.responses import DynamoHandler  # noqa: F401 (loads the model)

    operation = get_service_model("dynamodb").operation_model("GetItem")

    def body():
        serializer = JSONSerializer(operation, value_picker=XFormedAttributePicker())
        return serializer.serialize({"Item": item})["body"]

    with serving(False):
        moto = body()
    with serving(True):
        assert body() == moto


def test_an_answer_s_items_skip_moto_s_member_by_member_serializer(endpoint, monkeypatch):
    from moto.core.serialize import ResponseSerializer

    ddb = client(endpoint, "dynamodb")
    name = table(ddb)
    item = {"pk": {"S": "a"}, **{f"f{n}": {"S": "v" * n} for n in range(30)}}
    ddb.put_item(TableName=name, Item=item)
    members = []
    member = ResponseSerializer._serialize_structure_member
    monkeypatch.setattr(
        ResponseSerializer,
        "_serialize_structure_member",
        lambda *args: members.append(args[-1]) or member(*args),
    )
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"] == item
    assert len(members) < 5, members  # Item and ConsumedCapacity's few; none per attribute


def test_sqs_sends_receives_and_deletes_without_counting_the_queue(endpoint, monkeypatch):
    from moto.sqs.models import Queue

    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for start in range(0, 200, 10):
        entries = [{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    counted = []
    for name in (
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        real = getattr(Queue, name)
        monkeypatch.setattr(
            Queue, name, property(lambda self, real=real: counted.append(1) or real.fget(self))
        )
    sqs.send_message(QueueUrl=url, MessageBody="one more")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    handles = [
        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
        for n, m in enumerate(received["Messages"])
    ]
    assert not sqs.delete_message_batch(QueueUrl=url, Entries=handles).get("Failed")
    assert counted == []
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "191"  # asked for: counted, as moto does
    assert counted


def test_a_request_lists_no_directory(endpoint, monkeypatch):
    kms, ddb = client(endpoint, "kms"), client(endpoint, "dynamodb")
    kms.list_keys()  # once moto has found its services
    listed = []
    listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda *args: listed.append(args) or listdir(*args))
    kms.list_keys()
    ddb.list_tables()
    assert listed == []


def test_json_protocol_requests_reach_moto_s_view_without_flask(endpoint, monkeypatch):
    from flask import Flask

    ddb, sqs = client(endpoint, "dynamodb"), client(endpoint, "sqs")
    routed = []
    call = Flask.__call__
    monkeypatch.setattr(
        Flask, "__call__", lambda app, *args: routed.append(app) or call(app, *args)
    )
    ddb.list_tables()
    sqs.list_queues()
    assert routed == []
    client(endpoint, "kms").list_keys()  # a service it does not take still goes through Flask
    assert routed


def test_an_update_s_expressions_are_parsed_once(endpoint, monkeypatch):
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    ddb = client(endpoint, "dynamodb")
    name = table(ddb)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "n": {"N": "0"}})
    tokenized, lexed = [], []
    make_list = ExpressionTokenizer.make_list.__func__
    monkeypatch.setattr(
        ExpressionTokenizer,
        "make_list",
        classmethod(lambda cls, text: tokenized.append(text) or make_list(cls, text)),
    )
    lex = ConditionExpressionParser._lex_condition_expression
    monkeypatch.setattr(
        ConditionExpressionParser,
        "_lex_condition_expression",
        lambda self: lexed.append(1) or lex(self),
    )
    # Expressions no other test has sent: the embedded AWS in this process keeps its parses.
    unique = f"#{uuid.uuid4().hex[:6]}"
    for value in range(5):
        ddb.update_item(
            TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression=f"SET {unique} = :v",
            ConditionExpression=f"attribute_exists({unique})",
            ExpressionAttributeNames={unique: "n"},
            ExpressionAttributeValues={":v": {"N": str(value)}},
        )  # fmt: skip
    assert len(tokenized) == 1 and len(lexed) == 1, (tokenized, lexed)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "4"}


plain = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=6)),
        st.builds(lambda n: {"N": str(n)}, st.integers(-1000, 1000)),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.builds(lambda s: {"SS": s}, some(st.text(max_size=3))),
    ),
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"M": items}, st.dictionaries(st.text(min_size=1), inner)),
    ),
    max_leaves=8,
)  # fmt: skip
names = ["pk", "a", "b", "c", "d"]


def _sets_sorted(value):
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS") else _sets_sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sets_sorted(v) for v in value]
    return value


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.dictionaries(st.sampled_from(names[1:]), plain),
    st.lists(st.sampled_from(names), min_size=1, max_size=6),
    st.binary(max_size=4),
)
def test_a_projection_keeps_what_moto_keeps(attrs, projected, blob):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    for extra in ({}, {"z": {"B": base64.b64encode(blob).decode()}}):  # binary: moto's own way
        item = Item(DynamoType({"S": "k"}), None, {"pk": {"S": "k"}, **attrs, **extra})
        paths = [[name] for name in [*projected, *extra]]
        with serving(False):
            moto = item.project(paths).to_json()
        with serving(True):
            fast = item.project(paths).to_json()
        assert _sets_sorted(fast) == _sets_sorted(moto)  # a set's order is not kept by moto


def test_an_index_s_projection_copies_what_it_keeps(endpoint, monkeypatch):
    """A Query on an index projects each item it returns: without turning the whole item into
    Python values and back, once per attribute kept."""
    from moto.dynamodb.models.dynamo_type import Item

    ddb = client(endpoint, "dynamodb")
    name = f"t-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    )  # fmt: skip
    history = {"L": [{"M": {"status": {"S": "queued"}}}] * 5}
    for n in range(10):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"p{n}"}, "g": {"S": "x"}, "h": history})
    converted = []
    regular = Item.to_regular_json
    monkeypatch.setattr(Item, "to_regular_json", lambda item: converted.append(1) or regular(item))
    answer = ddb.query(
        TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )  # fmt: skip
    assert sorted(item["pk"]["S"] for item in answer["Items"]) == [f"p{n}" for n in range(10)]
    assert all(set(item) == {"pk", "g"} for item in answer["Items"])
    assert converted == []


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(attribute_values)
def test_a_value_is_turned_into_moto_s_dict_and_sized_as_moto_does(value):
    """dynamo_to_dict (what the serializer takes) and DynamoType.size (the 1 MB and 16 MB
    limits of Query and BatchGetItem), from a value as moto stores it (binary as base64)."""
    from moto.dynamodb.models import utilities
    from moto.dynamodb.models.dynamo_type import DynamoType

    def stored(value):
        ((kind, inner),) = value.items()
        if kind == "B":
            return {kind: base64.b64encode(inner).decode()}
        if kind == "BS":
            return {kind: [base64.b64encode(v).decode() for v in inner]}
        if kind == "L":
            return {kind: [stored(v) for v in inner]}
        if kind == "M":
            return {kind: {k: stored(v) for k, v in inner.items()}}
        return value

    typed = DynamoType(stored(value))
    with serving(False):
        moto = (utilities.dynamo_to_dict(typed), typed.size())
    with serving(True):
        assert (utilities.dynamo_to_dict(typed), typed.size()) == moto
