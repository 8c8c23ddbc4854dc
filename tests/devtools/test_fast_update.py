"""The embedded AWS's UpdateItem without moto's expression engine (devtools/fast_update.py)
answers as moto does: the same answers (ReturnValues, errors), the same items after, the same
stream records, for every update it takes and every one it leaves to moto.

Each example runs the same updates on two tables holding the same items: one as served, one
with the fast path switched off (moto's own UpdateItem), and compares them step by step.
"""

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools import fast_update, services
from tests.devtools.aws import keys

pytestmark = pytest.mark.server

KEYS = ["a", "b", "c"]  # "c" is never written first: updates of a missing item
NAMES = ["aa", "bb", "hist", "st"]
PLACEHOLDERS = {"#a": "aa", "#b": "bb", "#h": "hist", "#s": "st"}


@pytest.fixture(scope="module")
def aws():
    with services.embedded_aws() as url:
        options = dict(
            endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip
        yield boto3.client("dynamodb", **options), boto3.client("dynamodbstreams", **options)


def new_table(ddb) -> tuple[str, str]:
    name = f"u-{uuid.uuid4().hex[:8]}"
    answer = ddb.create_table(
        TableName=name,
        **keys(),
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return name, answer["TableDescription"]["LatestStreamArn"]


values = st.one_of(
    st.builds(lambda s: {"S": s}, st.sampled_from(["queued", "sent", "x", "queued", "sent", ""])),
    st.builds(lambda n: {"N": n}, st.sampled_from(["0", "1", "17", "-2.5"])),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"L": [{"M": {"status": {"S": s}}}]}, st.sampled_from(["queued", "sent"])),
    st.builds(lambda s: {"L": [{"S": s}]}, st.sampled_from(["one", "two", "three"])),
    st.builds(lambda s: {"L": [{"S": "first"}, {"N": s}]}, st.sampled_from(["1", "2"])),
    st.just({"L": []}),
    st.just({"M": {"k": {"S": "v"}}}),
)
# A key attribute now and then (moto refuses it anywhere in an update).
path = st.sampled_from([*PLACEHOLDERS, *NAMES[:2]] * 4 + ["pk"])
operand = st.one_of(
    st.just(":v0"), st.just(":v1"), path,
    st.builds(lambda p: f"if_not_exists({p}, :v0)", path),
    st.builds(lambda p: f"list_append(if_not_exists({p}, :empty), :v1)", path),
    st.builds(lambda p: f"list_append(:v1, {p})", path),
)  # fmt: skip
set_actions = st.lists(st.builds(lambda p, o: f"{p} = {o}", path, operand), min_size=1, max_size=3)
removes = st.lists(path, max_size=2)
update = st.builds(
    lambda sets, gone, order: " ".join(
        part for part in (
            [f"SET {', '.join(sets)}", f"REMOVE {', '.join(gone)}" if gone else ""][::order]
        ) if part
    ),
    set_actions, removes, st.sampled_from([1, -1]),
)  # fmt: skip
condition = st.sampled_from([
    None, "attribute_exists(pk)", "attribute_not_exists(pk)", "#s IN (:v0, :v1)",
    "attribute_exists(pk) AND #s = :v0", "NOT (#s = :v1) OR attribute_not_exists(#a)",
    "attribute_exists(pk) AND #s IN (:v0, :v1) AND (attribute_not_exists(#h) OR #a <> :v0)",
])  # fmt: skip
step = st.fixed_dictionaries({
    "key": st.sampled_from(["a", "b"] * 4 + ["c"]), "update": update, "condition": condition,
    "values": st.fixed_dictionaries({":v0": values, ":v1": values}),
    "returns": st.sampled_from(["NONE", "ALL_NEW", "ALL_OLD", "UPDATED_NEW", "UPDATED_OLD"]),
    "on_failure": st.sampled_from(["NONE", "ALL_OLD"]),
})  # fmt: skip
# Both "a" and "b" exist, with some attributes; "c" does not.
attributes = st.dictionaries(st.sampled_from(NAMES), values)
seed = st.tuples(
    *(st.fixed_dictionaries({"key": st.just(key), "attrs": attributes}) for key in KEYS[:2])
)


def run(ddb, table: str, change: dict):
    text = f"{change['update']} {change['condition'] or ''}"
    names = {name: real for name, real in PLACEHOLDERS.items() if name in text}
    used = {
        name: value
        for name, value in {**change["values"], ":empty": {"L": []}}.items()
        if name in text
    }
    request = {
        "TableName": table, "Key": {"pk": {"S": change["key"]}, "sk": {"S": "s"}},
        "UpdateExpression": change["update"], "ReturnValues": change["returns"],
        "ReturnValuesOnConditionCheckFailure": change["on_failure"],
        **({"ConditionExpression": change["condition"]} if change["condition"] else {}),
        **({"ExpressionAttributeNames": names} if names else {}),
        **({"ExpressionAttributeValues": used} if used else {}),
    }  # fmt: skip
    try:
        answer = ddb.update_item(**request)
        answer.pop("ResponseMetadata")
        answer.pop("ConsumedCapacity", None)  # it names the table
        return answer
    except ClientError as error:
        return error.response["Error"], error.response.get("Item")


def records(streams, arn: str) -> list:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    found = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [
        (
            r["eventName"],
            r["dynamodb"].get("Keys"),
            r["dynamodb"].get("OldImage"),
            r["dynamodb"].get("NewImage"),
        )
        for r in found
    ]


def test_an_update_answers_as_moto_answers_it(aws, monkeypatch):
    ddb, streams = aws
    served = {"fast": 0}
    apply = fast_update.apply

    def counted(*args, **kwargs):
        item = apply(*args, **kwargs)
        served["fast"] += 1
        return item

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(seed, st.lists(step, min_size=1, max_size=8))
    def check(items, changes):
        (fast, fast_stream), (moto, moto_stream) = new_table(ddb), new_table(ddb)
        for table in (fast, moto):
            for item in items:
                ddb.put_item(
                    TableName=table,
                    Item={"pk": {"S": item["key"]}, "sk": {"S": "s"}, **item["attrs"]},
                )
        for change in changes:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(fast_update, "apply", counted)
                answered = run(ddb, fast, change)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(fast_update, "apply", moto_alone)
                assert answered == run(ddb, moto, change), change
        for key in KEYS:
            where = {"pk": {"S": key}, "sk": {"S": "s"}}
            assert ddb.get_item(TableName=fast, Key=where).get("Item") == ddb.get_item(
                TableName=moto, Key=where
            ).get("Item")
        assert records(streams, fast_stream) == records(streams, moto_stream)
        for table in (fast, moto):
            ddb.delete_table(TableName=table)

    check()
    assert served["fast"] > 50  # the examples did reach the fast path, not only moto


def moto_alone(*_args, **_kwargs):
    raise fast_update.Unsupported


def test_herald_s_updates_take_the_fast_path():
    """The shapes of chalicelib.storage's updates are the ones it applies."""
    expressions = [
        "SET #f0 = :f0, #f1 = :f1, "
        "#history = list_append(if_not_exists(#history, :none), :history)",
        "SET #f0 = :f0 REMOVE #r0, #r1",
        "SET revoked = :t",
        "SET created_ms = if_not_exists(created_ms, :created), "
        "list_shards = if_not_exists(list_shards, :shards)",
    ]
    for expression in expressions:
        assert fast_update.plan_of(expression)
    for unsupported in ("SET a = a + :one", "REMOVE media_sids[0]", "SET a.b = :v", "ADD n :one"):
        with pytest.raises(fast_update.Unsupported):
            fast_update.plan_of(unsupported)
