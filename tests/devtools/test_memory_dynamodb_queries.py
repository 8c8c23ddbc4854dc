"""Queries and scans of the in-memory DynamoDB page as moto's do: key conditions of every
operator, on the table and on sparse global secondary indexes sorted on strings, numbers and
binary, both directions, Limit, filters, projections, COUNT, page after page.

One difference, deliberate: a page that read Limit items ends with a LastEvaluatedKey even
when no item follows (DynamoDB's Query and Scan references: "the operation stops ... and
returns LastEvaluatedKey"; dynalite does the same), where moto gives one only when another
item follows. `pages` allows exactly that: the next page is then empty and has none.
"""

import itertools
import random
from decimal import Decimal

import pytest

from tests.devtools.dynamodb_sides import canonical, sides

TABLE = "sorts"
WORDS = ["", "a", "ab", "abc", "b", "Z", "é", "\uffff", "😀", "ab😀"]  # "" is: no s
NUMBERS = ["-10", "-1.5", "0", "1", "1.5", "2", "10", "100"]
BLOBS = [b"", b"\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"]


def keys(hash_name: str, range_name: str) -> list:
    return [
        {"AttributeName": hash_name, "KeyType": "HASH"},
        {"AttributeName": range_name, "KeyType": "RANGE"},
    ]


DEFINITION = {
    "TableName": TABLE,
    "BillingMode": "PAY_PER_REQUEST",
    "KeySchema": keys("pk", "sk"),
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": kind}
        for name, kind in (("pk", "S"), ("sk", "N"), ("g", "S"), ("s", "S"), ("n", "N"), ("b", "B"))
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-s",
            "KeySchema": keys("g", "s"),
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
        },
        {"IndexName": "by-n", "KeySchema": keys("g", "n"), "Projection": {"ProjectionType": "ALL"}},
        {
            "IndexName": "by-b",
            "KeySchema": keys("g", "b"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ],
}


def items(count: int = 60) -> list[dict]:
    chance = random.Random(17)
    made = []
    for n in range(count):
        item = {
            "pk": {"S": f"p{n % 3}"},
            "sk": {"N": chance.choice([*NUMBERS, str(n)])},
            "v": {"N": str(n % 7)},
            "w": {"S": chance.choice(WORDS[1:])},
        }
        if n % 11:  # some items are in no index (the indexes are sparse)
            item["g"] = {"S": chance.choice("xy")}
        if chance.random() < 0.8 and (word := chance.choice(WORDS)):
            item["s"] = {"S": word}
        if chance.random() < 0.8:
            item["n"] = {"N": chance.choice(NUMBERS)}
        if chance.random() < 0.8 and (blob := chance.choice(BLOBS)):
            item["b"] = {"B": blob}
        made.append(item)
    return made


@pytest.fixture(scope="module")
def both():
    with sides() as pair:
        pair.create(DEFINITION)
        for item in items():
            pair.same("put_item", TableName=TABLE, Item=item)
        yield pair


def pages(both, request: dict, limit) -> list:
    """Every page of a Query or Scan on both sides, asserting each page the same."""
    theirs_start = ours_start = None
    found = []
    for _ in range(200):
        extra = {"Limit": limit} if limit else {}
        theirs = getattr(both.moto, request["_op"])(
            **_without_op(request),
            **extra,
            **({"ExclusiveStartKey": theirs_start} if theirs_start else {}),
        )
        ours = getattr(both.memory, request["_op"])(
            **_without_op(request),
            **extra,
            **({"ExclusiveStartKey": ours_start} if ours_start else {}),
        )
        for name in ("Items", "Count", "ScannedCount"):
            assert ours.get(name) == theirs.get(name), (name, request, limit)
        found += ours.get("Items", [])
        theirs_start, ours_start = theirs.get("LastEvaluatedKey"), ours.get("LastEvaluatedKey")
        if theirs_start is not None:
            assert ours_start == theirs_start
        elif ours_start is not None:  # the page read Limit items and nothing follows
            assert ours["ScannedCount"] == limit
            last = getattr(both.memory, request["_op"])(
                **_without_op(request), Limit=limit, ExclusiveStartKey=ours_start
            )
            assert (last["Count"], last.get("Items", []), "LastEvaluatedKey" in last) == (
                0,
                [],
                False,
            )
            return found
        if theirs_start is None:
            return found
    raise AssertionError("no last page")


def _without_op(request: dict) -> dict:
    return {name: value for name, value in request.items() if name != "_op"}


CONDITIONS = ["= :a", "< :a", "<= :a", "> :a", ">= :a", "BETWEEN :a AND :b", "begins_with"]
INDEXES = {
    None: ("pk", "sk", "N"),
    "by-s": ("g", "s", "S"),
    "by-n": ("g", "n", "N"),
    "by-b": ("g", "b", "B"),
}


def shapes():
    """Queries of every operator on each index and the table, with bounds that are and are
    not in the data, both directions, a few limits, filters and projections."""
    chance = random.Random(5)
    combinations = itertools.product(INDEXES, [None, *CONDITIONS], (True, False))
    for index, condition, forward in list(combinations) * 3:
        hash_name, range_name, kind = INDEXES[index]
        if condition == "begins_with" and kind == "N":
            continue
        pool = {"S": [*WORDS[1:], "aa", "c"], "N": [*NUMBERS, "3", "-100"], "B": BLOBS[1:]}[kind]
        low, high = sorted(chance.sample(pool, 2), key=_order(kind))
        values = {
            ":h": {"S": chance.choice(["p0", "p1", "p2"]) if index is None else chance.choice("xy")}
        }
        expression = "#h = :h"
        if condition == "begins_with":
            expression += " AND begins_with(#r, :a)"
            values[":a"] = {kind: low[:1] if kind != "N" else low}
        elif condition is not None:
            expression += f" AND #r {condition}"
            values[":a"] = {kind: low}
            if ":b" in condition:
                values[":b"] = {kind: high}
        names = {"#h": hash_name} | ({"#r": range_name} if "#r" in expression else {})
        request = {
            "_op": "query",
            "TableName": TABLE,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if index:
            request["IndexName"] = index
        twist = chance.randrange(4)
        if twist == 1:
            request["FilterExpression"] = "v > :v"
            values[":v"] = {"N": "2"}
        elif twist == 2 and index != "by-b":
            request["ProjectionExpression"] = "#h, v"
        elif twist == 3:
            request["Select"] = "COUNT"
        yield request, chance.choice([None, 1, 2, 5])


def _order(kind: str):
    return {"N": Decimal, "S": str, "B": bytes}[kind]


@pytest.mark.parametrize(("request_", "limit"), list(shapes()), ids=lambda v: str(v)[:60])
def test_a_query_pages_as_moto_s(both, request_, limit):
    pages(both, request_, limit)


@pytest.mark.parametrize("limit", [None, 1, 7])
@pytest.mark.parametrize("index", [None, "by-s", "by-b"])
def test_a_scan_finds_what_moto_s_finds(both, limit, index):
    """A Scan's order is DynamoDB's own (neither side promises one): the items, page by page
    to the end, are the same set; and the segments of a parallel scan share them out."""
    request = {"TableName": TABLE, **({"IndexName": index} if index else {})}
    theirs = both.moto.scan(**request)["Items"]
    found = []
    start = None
    while True:
        page = both.memory.scan(
            **request,
            **({"Limit": limit} if limit else {}),
            **({"ExclusiveStartKey": start} if start else {}),
        )
        found += page["Items"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
        assert page["ScannedCount"] == limit
    assert sorted(found, key=canonical) == sorted(theirs, key=canonical)
    segments = [both.memory.scan(**request, Segment=n, TotalSegments=3)["Items"] for n in range(3)]
    assert sorted((i for s in segments for i in s), key=canonical) == sorted(theirs, key=canonical)
    filtered = {"FilterExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": "3"}}}
    theirs, ours = (side.scan(**request, **filtered) for side in (both.moto, both.memory))
    assert sorted(ours["Items"], key=canonical) == sorted(theirs["Items"], key=canonical)
    assert (ours["Count"], ours["ScannedCount"]) == (theirs["Count"], theirs["ScannedCount"])


def test_keys_sort_by_dynamodb_s_rules(both):
    """Strings by their UTF-8 bytes (so "\\uffff" before "😀", unlike UTF-16), numbers by
    value, binary bytewise, whatever order they were written in."""
    for index, name, kind in (("by-s", "s", str), ("by-n", "n", Decimal), ("by-b", "b", bytes)):
        for partition in "xy":
            found = both.memory.query(
                TableName=TABLE,
                IndexName=index,
                KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": partition}},
            )["Items"]
            values = [kind(next(iter(item[name].values()))) for item in found]
            assert values == sorted(values)
            assert len(values) > 5
