"""The in-memory DynamoDB (devtools/memory_aws/dynamodb.py) answers as moto does: the same
requests on Herald's own table (chalicelib.storage.tables.table_definition), sent to each,
get the same answers and the same error codes (tests/devtools/dynamodb_sides.py).

Where moto answers otherwise than DynamoDB's documentation, the engine follows the
documentation; those requests are at the end, each with what the documentation says, and
tests/devtools/test_memory_dynamodb_queries.py holds queries, paging and scans to moto.
"""

import pytest

from chalicelib.storage.tables import table_definition
from tests.devtools.dynamodb_sides import canonical, sides

TABLE = "herald-conformance"


def key(pk: str, sk: str = "message") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def message(pk: str, **attributes) -> dict:
    typed = {
        name: {"N": str(value)} if isinstance(value, int) else {"S": value}
        for name, value in attributes.items()
    }
    return {**key(pk), **typed}


@pytest.fixture
def both():
    with sides() as pair:
        pair.create(table_definition(TABLE))
        yield pair


def test_the_table_is_described_as_moto_describes_it(both):
    theirs, ours = (
        side.describe_table(TableName=TABLE)["Table"] for side in (both.moto, both.memory)
    )
    same = (
        "TableName",
        "KeySchema",
        "TableStatus",
        "TableArn",
        "BillingModeSummary",
        "StreamSpecification",
        "ItemCount",
        "TableSizeBytes",
        "DeletionProtectionEnabled",
    )
    assert {name: ours[name] for name in same} == {name: theirs[name] for name in same}
    assert sorted(ours["AttributeDefinitions"], key=str) == sorted(
        theirs["AttributeDefinitions"], key=str
    )
    fields = ("IndexName", "KeySchema", "Projection", "IndexStatus")
    assert [{f: index[f] for f in fields} for index in ours["GlobalSecondaryIndexes"]] == [
        {f: index[f] for f in fields} for index in theirs["GlobalSecondaryIndexes"]
    ]
    assert ours["LatestStreamArn"].startswith(f"{ours['TableArn']}/stream/")
    assert both.same("list_tables") == {"TableNames": [TABLE]}
    assert both.same("describe_time_to_live", TableName=TABLE) == {
        "TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}
    }
    enable = {"Enabled": True, "AttributeName": "expires_at"}
    both.same("update_time_to_live", TableName=TABLE, TimeToLiveSpecification=enable)
    assert both.same("describe_time_to_live", TableName=TABLE)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    assert both.same("create_table", **table_definition(TABLE)) == {
        "Error": "ResourceInUseException"
    }


def test_conditional_writes_answer_as_moto_does(both):
    new = "attribute_not_exists(pk)"
    assert (
        both.same(
            "put_item",
            TableName=TABLE,
            Item=message("a", st="queued", n=1),
            ConditionExpression=new,
        )
        == {}
    )
    for failure in ("NONE", "ALL_OLD"):
        refused = both.same(
            "put_item",
            TableName=TABLE,
            Item=message("a", st="other"),
            ConditionExpression=new,
            ReturnValuesOnConditionCheckFailure=failure,
        )
        assert refused["Error"] == "ConditionalCheckFailedException"
        assert ("Item" in refused) == (failure == "ALL_OLD")
    moves = {"#s": "st"}
    for status, expected in (("sending", "queued"), ("sent", "queued"), ("sent", "sending")):
        both.same(
            "update_item",
            TableName=TABLE,
            Key=key("a"),
            UpdateExpression="SET #s = :new",
            ConditionExpression="#s = :was",
            ExpressionAttributeNames=moves,
            ExpressionAttributeValues={":new": {"S": status}, ":was": {"S": expected}},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    # An update of a missing item makes it, unless its condition needs the item.
    both.same(
        "update_item",
        TableName=TABLE,
        Key=key("b"),
        UpdateExpression="SET n = :one",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    both.same(
        "update_item",
        TableName=TABLE,
        Key=key("b"),
        UpdateExpression="SET n = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    both.same(
        "update_item",
        TableName=TABLE,
        Key=key("b"),
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "41"}},
        ReturnValues="UPDATED_NEW",
    )
    for condition in ("n > :limit", "n < :limit"):
        both.same(
            "delete_item",
            TableName=TABLE,
            Key=key("b"),
            ConditionExpression=condition,
            ExpressionAttributeValues={":limit": {"N": "10"}},
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    both.same("delete_item", TableName=TABLE, Key=key("missing"), ReturnValues="ALL_OLD")
    for pk in ("a", "b", "missing"):
        both.same("get_item", TableName=TABLE, Key=key(pk))
        both.same(
            "get_item",
            TableName=TABLE,
            Key=key(pk),
            ProjectionExpression="#s, pk",
            ExpressionAttributeNames={"#s": "st"},
        )


@pytest.mark.parametrize("choice", ["NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_every_return_values_choice(both, choice):
    both.same("put_item", TableName=TABLE, Item=message("r", a="1", b="2", n=5))
    for operation, request in (
        ("update_item", {"UpdateExpression": "SET a = :a, c = :c REMOVE b ADD n :n"}),
        ("update_item", {"UpdateExpression": "SET m = :m"}),
    ):
        values = {
            ":a": {"S": "one"},
            ":c": {"S": "3"},
            ":n": {"N": "2"},
            ":m": {"M": {"x": {"L": [{"S": "y"}]}}},
        }
        used = {
            name: value for name, value in values.items() if name in request["UpdateExpression"]
        }
        both.same(
            operation,
            TableName=TABLE,
            Key=key("r"),
            ExpressionAttributeValues=used,
            ReturnValues=choice,
            **request,
        )
    if choice in ("NONE", "ALL_OLD"):
        both.same("put_item", TableName=TABLE, Item=message("r", a="new"), ReturnValues=choice)
        both.same("delete_item", TableName=TABLE, Key=key("r"), ReturnValues=choice)
    else:
        assert both.same("put_item", TableName=TABLE, Item=message("r"), ReturnValues=choice) == {
            "Error": "ValidationException"
        }


REFUSED = [
    ("put_item", {"Item": {"pk": {"S": "a"}}}),
    ("put_item", {"Item": {"pk": {"N": "1"}, "sk": {"S": "b"}}}),
    ("put_item", {"Item": {"pk": {"S": ""}, "sk": {"S": "b"}}}),
    ("put_item", {"Item": {**key("a"), "list_pk": {"S": ""}, "lk": {"S": "x"}}}),
    ("put_item", {"Item": {**key("big"), "x": {"S": "x" * 410_000}}}),
    (
        "put_item",
        {
            "Item": key("a"),
            "ConditionExpression": "attribute_exists(#a)",
            "ExpressionAttributeNames": {"#a": "pk", "#b": "x"},
        },
    ),
    ("put_item", {"Item": key("a"), "ReturnValues": "ALL_NEW"}),
    ("get_item", {"Key": {"pk": {"S": "a"}}}),
    ("get_item", {"Key": {"pk": {"S": ""}, "sk": {"S": "b"}}}),
    ("get_item", {"Key": key("a"), "TableName": "missing"}),
    (
        "update_item",
        {
            "Key": key("a"),
            "UpdateExpression": "SET pk = :a",
            "ExpressionAttributeValues": {":a": {"S": "1"}},
        },
    ),
    (
        "update_item",
        {
            "Key": key("a"),
            "UpdateExpression": "SET x = :a",
            "ExpressionAttributeValues": {":a": {"S": "1"}, ":b": {"S": "2"}},
        },
    ),
    (
        "update_item",
        {
            "Key": key("a"),
            "UpdateExpression": "SET x = x + :a",
            "ExpressionAttributeValues": {":a": {"N": "1"}},
        },
    ),
    ("delete_item", {"Key": key("a"), "ReturnValues": "ALL_NEW"}),
    (
        "query",
        {
            "IndexName": "by-account",
            "KeyConditionExpression": "list_pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
            "ConsistentRead": True,
        },
    ),
    (
        "query",
        {"KeyConditionExpression": "sk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}},
    ),
    (
        "query",
        {
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
            "Select": "COUNT",
            "ProjectionExpression": "pk",
        },
    ),
    ("batch_get_item", {"RequestItems": {TABLE: {"Keys": [key("a"), key("a")]}}}),
    ("batch_get_item", {"RequestItems": {TABLE: {"Keys": [key(str(n)) for n in range(101)]}}}),
    (
        "transact_write_items",
        {
            "TransactItems": [
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key("a"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": TABLE, "Item": key("a")}},
            ]
        },
    ),
    (
        "transact_write_items",
        {"TransactItems": [{"Put": {"TableName": "missing", "Item": key("a")}}]},
    ),
    ("describe_table", {"TableName": "missing"}),
    ("delete_table", {"TableName": "missing"}),
]


@pytest.mark.parametrize(("operation", "request_"), REFUSED, ids=lambda v: str(v)[:40])
def test_refusals_have_moto_s_codes(both, operation, request_):
    both.same("put_item", TableName=TABLE, Item=message("a", x="1"))
    if "TableName" not in request_ and operation not in ("batch_get_item", "transact_write_items"):
        request_ = {"TableName": TABLE, **request_}
    assert "Error" in both.same(operation, **request_)
    both.same("get_item", TableName=TABLE, Key=key("a"))  # nothing written


def transaction(*items, **extra) -> dict:
    return {"TransactItems": list(items), **extra}


def put(pk: str, condition=None, **attributes) -> dict:
    body = {"TableName": TABLE, "Item": message(pk, **attributes)}
    if condition:
        body |= {"ConditionExpression": condition, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    return {"Put": body}


def test_transactions_commit_and_cancel_as_moto_does(both):
    both.same("put_item", TableName=TABLE, Item=message("kept", st="queued"))
    both.same("put_item", TableName=TABLE, Item=message("gone"))
    committed = transaction(
        put("new", "attribute_not_exists(pk)", st="queued"),
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("kept"),
                "UpdateExpression": "SET st = :s",
                "ConditionExpression": "st = :q",
                "ExpressionAttributeValues": {":s": {"S": "sent"}, ":q": {"S": "queued"}},
            }
        },
        {
            "Delete": {
                "TableName": TABLE,
                "Key": key("gone"),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": key("absent"),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    )
    assert both.same("transact_write_items", **committed) == {}
    # Two refusals among four: every item gets its reason, the refused ones the item (when
    # asked), and nothing is written.
    cancelled = transaction(
        put("other", "attribute_not_exists(pk)"),
        put("new", "attribute_not_exists(pk)"),
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("kept"),
                "UpdateExpression": "SET st = :s",
                "ConditionExpression": "st = :q",
                "ExpressionAttributeValues": {":s": {"S": "failed"}, ":q": {"S": "queued"}},
            }
        },
        {"Delete": {"TableName": TABLE, "Key": key("absent")}},
    )
    refused = both.same("transact_write_items", **cancelled)
    assert [reason["Code"] for reason in refused["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
        "None",
    ]
    for pk in ("kept", "gone", "new", "other", "absent"):
        both.same("get_item", TableName=TABLE, Key=key(pk))
    gets = [{"Get": {"TableName": TABLE, "Key": key(pk)}} for pk in ("new", "absent", "kept")]
    both.same("transact_get_items", TransactItems=gets)
    # TransactGetItems honours a Get's ProjectionExpression (its reference); moto ignores it.
    gets[2]["Get"] |= {"ProjectionExpression": "#s", "ExpressionAttributeNames": {"#s": "st"}}
    projected = both.memory.transact_get_items(TransactItems=gets)["Responses"]
    assert projected[1:] == [{}, {"Item": {"st": {"S": "sent"}}}]
    twice = transaction(put("twice"), {"Delete": {"TableName": TABLE, "Key": key("twice")}})
    assert both.same("transact_write_items", **twice) == {"Error": "ValidationException"}


def test_batches_answer_as_moto_does(both):
    writes = [{"PutRequest": {"Item": message(f"b{n}", n=n)}} for n in range(20)]
    writes += [{"DeleteRequest": {"Key": key("never-there")}}]
    assert both.same("batch_write_item", RequestItems={TABLE: writes}) == {"UnprocessedItems": {}}
    deletes = [{"DeleteRequest": {"Key": key(f"b{n}")}} for n in range(0, 20, 3)]
    both.same("batch_write_item", RequestItems={TABLE: deletes})
    keys = [key(f"b{n}") for n in range(0, 24, 2)]
    for extra in ({}, {"ProjectionExpression": "pk, #n", "ExpressionAttributeNames": {"#n": "n"}}):
        theirs, ours = both.both("batch_get_item", RequestItems={TABLE: {"Keys": keys, **extra}})
        assert ours["UnprocessedKeys"] == theirs["UnprocessedKeys"] == {}
        # DynamoDB answers a batch's items in no particular order.
        assert sorted(ours["Responses"][TABLE], key=canonical) == sorted(
            theirs["Responses"][TABLE], key=canonical
        )


# Where moto answers otherwise than DynamoDB's documentation: the engine follows the
# documentation (each case says where it is).
DOCUMENTED = [
    # "Type mismatch for Index Key" (Developer Guide, "Working with global secondary indexes:
    # an item whose index key attribute has the wrong type is refused"); moto stores it.
    (
        "put_item",
        {"Item": {**key("a"), "list_pk": {"N": "1"}, "lk": {"S": "x"}}},
        "Type mismatch for Index Key",
    ),
    # Unused placeholders are refused before any condition is tested (ExpressionAttributeValues
    # reference); moto tests PutItem's condition and ignores them.
    (
        "put_item",
        {
            "Item": key("a"),
            "ConditionExpression": "x = :a",
            "ExpressionAttributeValues": {":a": {"S": "1"}, ":b": {"S": "2"}},
        },
        "unused",
    ),
    # Undefined placeholders are a ValidationException; moto fails with a KeyError (500).
    (
        "put_item",
        {
            "Item": key("a"),
            "ConditionExpression": "#zz = :a",
            "ExpressionAttributeValues": {":a": {"S": "1"}},
        },
        "not defined",
    ),
    (
        "put_item",
        {"Item": key("a"), "ExpressionAttributeValues": {":a": {"S": "1"}}},
        "can only be specified when using expressions",
    ),
    # A Key names the key attributes and no others (GetItem: "provide all of the attributes
    # of the primary key"); moto ignores the extra one.
    ("get_item", {"Key": {**key("a"), "x": {"S": "1"}}}, "does not match the schema"),
    ("get_item", {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}, "does not match the schema"),
    # Query: the partition value's type must be the key's; moto answers no items.
    (
        "query",
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"N": "1"}}},
        "Condition parameter type does not match schema type",
    ),
    # An unknown index is a ValidationException; moto says ResourceNotFoundException.
    (
        "query",
        {
            "IndexName": "nope",
            "KeyConditionExpression": "list_pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
        },
        "does not have the specified index",
    ),
    # A starting key without the table's keys; moto fails with a TypeError (500).
    (
        "query",
        {
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
            "ExclusiveStartKey": {"pk": {"S": "a"}},
        },
        "starting key is invalid",
    ),
    # BatchWriteItem: no two requests on one item, at most 25 requests; moto takes both.
    (
        "batch_write_item",
        {
            "RequestItems": {
                TABLE: [{"PutRequest": {"Item": key("a")}}, {"DeleteRequest": {"Key": key("a")}}]
            }
        },
        "duplicates",
    ),
    (
        "batch_write_item",
        {"RequestItems": {TABLE: [{"PutRequest": {"Item": key(str(n))}} for n in range(26)]}},
        "less than or equal to 25",
    ),
    # Enabling TTL twice ("TimeToLive is already enabled"); moto takes it.
    (
        "update_time_to_live",
        {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "e"}},
        "already enabled",
    ),
]


@pytest.mark.parametrize(
    ("operation", "request_", "message_"), DOCUMENTED, ids=lambda v: str(v)[:40]
)
def test_refusals_moto_lets_through_follow_dynamodb(both, operation, request_, message_):
    from botocore.exceptions import ClientError

    both.memory.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "e"}
    )
    if operation != "batch_write_item":
        request_ = {"TableName": TABLE, **request_}
    with pytest.raises(ClientError) as refused:
        getattr(both.memory, operation)(**request_)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert message_ in refused.value.response["Error"]["Message"]
    assert both.memory.scan(TableName=TABLE)["Items"] == []


def test_a_failed_update_in_a_transaction_is_its_validation_error_reason(both):
    """TransactWriteItems: an update that cannot apply to the item it finds (arithmetic on a
    missing attribute) cancels the transaction with a ValidationError reason (the
    TransactionCanceledException reference); moto refuses the whole request instead."""
    from botocore.exceptions import ClientError

    update = {
        "Update": {
            "TableName": TABLE,
            "Key": key("a"),
            "UpdateExpression": "SET x = x + :a",
            "ExpressionAttributeValues": {":a": {"N": "1"}},
        }
    }
    with pytest.raises(ClientError) as refused:
        both.memory.transact_write_items(TransactItems=[put("b"), update])
    reasons = refused.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ValidationError"]
    assert both.memory.scan(TableName=TABLE)["Items"] == []


def random_writes(chance, count: int):
    """Writes, reads and transactions on a few keys, with conditions that pass and fail."""
    keys = ["a", "b", "c", "d"]
    conditions = [None, "attribute_not_exists(pk)", "attribute_exists(pk)", "#s = :q",
                  "attribute_exists(n) AND n < :ten", "attribute_exists(l)"]  # fmt: skip
    values = {":q": {"S": "queued"}, ":ten": {"N": "10"}}

    def conditional(body: dict) -> dict:
        condition = chance.choice(conditions)
        if condition is None:
            return body
        used = {name: value for name, value in values.items() if name in condition}
        body = body | {"ConditionExpression": condition}
        if "#s" in condition:
            body["ExpressionAttributeNames"] = {
                **body.get("ExpressionAttributeNames", {}),
                "#s": "st",
            }
        if used:
            body["ExpressionAttributeValues"] = {
                **body.get("ExpressionAttributeValues", {}),
                **used,
            }
        if chance.random() < 0.5:
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return body

    def write(pk: str) -> tuple[str, dict]:
        kind = chance.choice(["put", "update", "update", "delete"])
        if kind == "put":
            item = message(pk, st=chance.choice(["queued", "sent"]), n=chance.randrange(20))
            if chance.random() < 0.6:
                item |= {"list_pk": {"S": "L"}, "lk": {"S": f"{chance.randrange(50):03d}"}}
            return "Put", conditional({"TableName": TABLE, "Item": item})
        if kind == "delete":
            return "Delete", conditional({"TableName": TABLE, "Key": key(pk)})
        update, update_values = chance.choice([
            ("SET st = :s", {":s": {"S": "sent"}}),
            ("ADD n :two", {":two": {"N": "2"}}),
            ("REMOVE lk, st", {}),
            ("SET l = list_append(if_not_exists(l, :none), :l)",
             {":none": {"L": []}, ":l": {"L": [{"S": "x"}]}}),
            ("SET lk = :lk, list_pk = :lp", {":lk": {"S": "025"}, ":lp": {"S": "L"}}),
        ])  # fmt: skip
        body = {"TableName": TABLE, "Key": key(pk), "UpdateExpression": update}
        if update_values:
            body["ExpressionAttributeValues"] = update_values
        return "Update", conditional(body)

    for _ in range(count):
        roll = chance.random()
        if roll < 0.6:
            kind, body = write(chance.choice(keys))
            operation = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}[kind]
            # UPDATED_OLD and UPDATED_NEW: moto answers what changed, DynamoDB what the update
            # wrote (test_updated_old_and_new_are_what_the_update_wrote).
            choices = ["NONE", "ALL_OLD"] + (["ALL_NEW"] if kind == "Update" else [])
            body.pop("TableName")
            yield operation, {"TableName": TABLE, "ReturnValues": chance.choice(choices), **body}
        elif roll < 0.8:
            first, second = chance.sample(keys, 2)
            items = [dict([write(first)]), dict([write(second)])]
            for item in items:
                for body in item.values():
                    body.pop("ReturnValuesOnConditionCheckFailure", None)
                    if chance.random() < 0.5 and "ConditionExpression" in body:
                        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            yield "transact_write_items", {"TransactItems": items}
        elif roll < 0.9:
            yield "get_item", {"TableName": TABLE, "Key": key(chance.choice(keys))}
        else:
            yield "query", {"TableName": TABLE, "IndexName": "by-account",
                            "KeyConditionExpression": "list_pk = :p AND lk > :low",
                            "ExpressionAttributeValues": {":p": {"S": "L"}, ":low": {"S": "010"}},
                            "ScanIndexForward": chance.random() < 0.5}  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_random_writes_answer_as_moto_does(both, seed):
    import random

    for operation, request_ in random_writes(random.Random(seed), 120):
        both.same(operation, **request_)
    theirs, ours = (
        sorted(side.scan(TableName=TABLE)["Items"], key=canonical)
        for side in (both.moto, both.memory)
    )
    assert ours == theirs


def test_updated_old_and_new_are_what_the_update_wrote(both):
    """ReturnValues UPDATED_OLD and UPDATED_NEW: "only the updated attributes, as they appeared
    before (after) the UpdateItem operation" (UpdateItem reference): every attribute the
    update writes, changed or not, and none it only removes (for UPDATED_NEW). moto answers
    only the attributes whose value changed, and the whole item for an update that makes it
    or only removes."""
    both.same("put_item", TableName=TABLE, Item=message("a", st="sent", lk="001"))
    cases = [
        ("a", "SET st = :s", "UPDATED_OLD", {"st": {"S": "sent"}}),
        ("a", "SET st = :s", "UPDATED_NEW", {"st": {"S": "sent"}}),
        ("new", "SET st = :s", "UPDATED_NEW", {"st": {"S": "sent"}}),
        ("newer", "SET st = :s", "UPDATED_OLD", None),
        ("a", "REMOVE lk", "UPDATED_NEW", None),
        ("a", "REMOVE st", "UPDATED_OLD", {"st": {"S": "sent"}}),
    ]
    for pk, update, choice, expected in cases:
        values = {":s": {"S": "sent"}} if ":s" in update else None
        answer = both.memory.update_item(
            TableName=TABLE, Key=key(pk), UpdateExpression=update, ReturnValues=choice,
            **({"ExpressionAttributeValues": values} if values else {}),
        )  # fmt: skip
        assert answer == ({"Attributes": expected} if expected else {}), (pk, update, choice)
