"""What the in-memory DynamoDB refuses of a CreateTable, what DescribeTable answers, and
get_waiter's waiters (a table here is ACTIVE as soon as it is made)."""

from datetime import datetime

from dateutil.tz import tzlocal

from devtools.memory_aws.errors import validation
from devtools.memory_aws.values import KEY_TYPES


def _names(schema: list, kind: str) -> list:
    return [key["AttributeName"] for key in schema if key.get("KeyType") == kind]


def check_definition(request: dict, operation: str) -> None:
    """What CreateTable refuses of a table's keys, indexes, billing and stream."""
    for required in ("TableName", "KeySchema", "AttributeDefinitions"):
        if required not in request:
            raise validation(operation, f"{required} is required")
    if request.get("BillingMode", "PROVISIONED") == "PROVISIONED" and (
        "ProvisionedThroughput" not in request
    ):
        raise validation(
            operation, "One or more parameter values were invalid: ReadCapacityUnits and "
            "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )  # fmt: skip
    specification = request.get("StreamSpecification") or {}
    if specification.get("StreamEnabled") and "StreamViewType" not in specification:
        raise validation(operation, "StreamViewType is required when the stream is enabled")
    defined = {
        a.get("AttributeName"): a.get("AttributeType")
        for a in request.get("AttributeDefinitions") or ()
    }
    schemas = [request.get("KeySchema") or []]
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        schemas += [index.get("KeySchema") or [] for index in request.get(kind) or ()]
    used = set()
    for schema in schemas:
        hashes, ranges = _names(schema, "HASH"), _names(schema, "RANGE")
        if len(hashes) != 1 or len(ranges) > 1 or len(schema) != len(hashes) + len(ranges):
            raise validation(
                operation, "Invalid KeySchema: exactly one HASH and at most one RANGE key"
            )
        used.update(hashes + ranges)
    missing = sorted(used - set(defined))
    if missing:
        raise validation(
            operation, "One or more parameter values were invalid: Some index key attributes are "
            f"not defined in AttributeDefinitions. Keys: {missing}, AttributeDefinitions: "
            f"{sorted(defined)}",
        )  # fmt: skip
    if set(defined) - used:
        raise validation(
            operation, "One or more parameter values were invalid: Number of attributes in "
            "KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions",
        )  # fmt: skip
    if any(kind not in KEY_TYPES for kind in defined.values()):
        raise validation(operation, "Member must satisfy enum value set: [B, N, S]")


def description(table) -> dict:
    """DescribeTable's Table (and CreateTable's TableDescription)."""
    request = table.request
    throughput = {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    throughput |= request.get("ProvisionedThroughput") or {}
    description = {
        "AttributeDefinitions": [dict(a) for a in request["AttributeDefinitions"]],
        "TableName": table.name,
        "KeySchema": [dict(k) for k in request["KeySchema"]],
        "TableStatus": "ACTIVE",
        "CreationDateTime": datetime.fromtimestamp(table.created, tzlocal()),
        "ProvisionedThroughput": throughput,
        "TableSizeBytes": sum(table.sizes.values()),
        "ItemCount": len(table.items),
        "TableArn": table.arn,
        "TableId": table.id,
        "BillingModeSummary": {"BillingMode": request.get("BillingMode", "PROVISIONED")},
        "DeletionProtectionEnabled": False,
    }
    for kind, is_global in (("GlobalSecondaryIndexes", True), ("LocalSecondaryIndexes", False)):
        indexes = [i for i in table.indexes.values() if i.is_global == is_global]
        if indexes:
            description[kind] = [_index(table, index) for index in indexes]
    if table.stream is not None:
        description["StreamSpecification"] = {
            "StreamEnabled": True, "StreamViewType": table.stream.view_type,
        }  # fmt: skip
        description["LatestStreamLabel"] = table.stream.label
        description["LatestStreamArn"] = table.stream.arn
    return description


def _index(table, index) -> dict:
    count = sum(len(entries) for entries in index.partitions.values())
    described = {
        "IndexName": index.name,
        "KeySchema": [dict(k) for k in index.description["KeySchema"]],
        "Projection": dict(index.description["Projection"]),
        "IndexSizeBytes": 0,
        "ItemCount": count,
        "IndexArn": f"{table.arn}/index/{index.name}",
    }
    if index.is_global:
        described["IndexStatus"] = "ACTIVE"
        described["ProvisionedThroughput"] = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    return described


class Waiter:
    """get_waiter's table_exists and table_not_exists."""

    def __init__(self, dynamodb, name: str):
        if name not in ("table_exists", "table_not_exists"):
            raise ValueError(f"Waiter does not exist: {name}")
        self.dynamodb, self.name = dynamodb, name

    def wait(self, *, TableName, WaiterConfig=None) -> None:
        from botocore.exceptions import WaiterError

        exists = TableName in self.dynamodb.tables
        if exists != (self.name == "table_exists"):
            raise WaiterError(self.name, "Max attempts exceeded", {})
