"""The DynamoDBs that devtools/memory_aws/expressions.py is held to, side by side: moto (a boto3
client under mock_aws) and dynalite (a second implementation, which checks expressions as
DynamoDB does, on 127.0.0.1). Each runs one write, conditional write, update, projected read
or query on a table of its own, with the item to start from put first, and says how it ended,
in the same terms as `ours_*` say it of the module:

    True / False    a condition held / did not (a conditional write accepted / refused)
    "refused"       a ValidationException (or the module's ValidationError)
    "crash"         anything else: moto raising from its own code (it does, for some)
    an item         what an update left, or what a projected read answered, `canonical`
"""

import re
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

from devtools.memory_aws import expressions
from tests.devtools.aws import keys

KEY = {"pk": {"S": "k"}, "sk": {"S": "k"}}


def canonical(value):
    """A typed value as Python values that are equal where DynamoDB's are the same: numbers
    normalized ("3.0" is "3"), sets unordered."""
    ((type_, raw),) = value.items()
    if type_ == "N":
        return ("N", Decimal(raw).normalize())
    if type_ == "NS":
        return ("NS", frozenset(Decimal(x).normalize() for x in raw))
    if type_ in ("SS", "BS"):
        return (type_, frozenset(raw))
    if type_ == "L":
        return ("L", [canonical(v) for v in raw])
    if type_ == "M":
        return ("M", {k: canonical(v) for k, v in raw.items()})
    return (type_, raw)


def canonical_item(item: dict | None):
    return None if item is None else {name: canonical(value) for name, value in item.items()}


def _options(expression: str, names, values) -> dict:
    """The request's placeholders: those the expression uses (DynamoDB refuses others)."""
    used = set(re.findall(r"[#:]\w+", expression, re.ASCII))
    options = {}
    if names:
        options["ExpressionAttributeNames"] = {k: v for k, v in names.items() if k in used}
    if values:
        options["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in used}
    return options


class Reference:
    def __init__(self, name: str, client, table: str):
        self.name, self.client, self.table = name, client, table

    @classmethod
    def create(cls, name: str, table: str, **client_options) -> "Reference":
        client = boto3.client("dynamodb", region_name="us-east-1", **client_options)
        client.create_table(TableName=table, **keys())
        client.get_waiter("table_exists").wait(
            TableName=table, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200}
        )
        return cls(name, client, table)

    def _start(self, item: dict | None) -> None:
        if item is None:
            self.client.delete_item(TableName=self.table, Key=KEY)
        else:
            self.client.put_item(TableName=self.table, Item={**KEY, **item})

    def _ended(self, call, **request):
        try:
            call(TableName=self.table, **request)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                return False
            return "refused" if code == "ValidationException" else f"error {code}"
        except Exception:  # moto's own code raising: what its server answers with a 500
            return "crash"
        return True

    def condition(self, item, expression, names=None, values=None):
        self._start(item)
        request = _options(expression, names, values)
        return self._ended(
            self.client.put_item, Item=KEY, ConditionExpression=expression, **request
        )

    def update(self, item, expression, names=None, values=None):
        self._start(item)
        request = _options(expression, names, values)
        ended = self._ended(
            self.client.update_item, Key=KEY, UpdateExpression=expression, **request
        )
        if ended is not True:
            return ended
        found = self.client.get_item(TableName=self.table, Key=KEY, ConsistentRead=True)
        return canonical_item(found.get("Item"))

    def projected(self, item, expression, names=None):
        self._start(item)
        request = _options(expression, names, None)
        try:
            found = self.client.get_item(
                TableName=self.table, Key=KEY, ProjectionExpression=expression, **request
            )
        except ClientError as error:
            return "refused" if error.response["Error"]["Code"] == "ValidationException" else "?"
        return canonical_item(found.get("Item", {}))

    def put_partition(self, partition: str, sort_keys: list[str]) -> None:
        for sort_key in sort_keys:
            item = {"pk": {"S": partition}, "sk": {"S": sort_key}}
            self.client.put_item(TableName=self.table, Item=item)

    def query(self, expression, names=None, values=None):
        """The sort keys a Query answers, in order; or how it ended."""
        try:
            found = self.client.query(
                TableName=self.table,
                KeyConditionExpression=expression,
                **_options(expression, names, values),
            )
        except ClientError as error:
            return "refused" if error.response["Error"]["Code"] == "ValidationException" else "?"
        except Exception:
            return "crash"
        return [item["sk"]["S"] for item in found["Items"]]


def ours_condition(item, expression, names=None, values=None):
    try:
        test = expressions.condition(expression, names, values)
    except expressions.ValidationError:
        return "refused"
    return test(None if item is None else {**KEY, **item})


def ours_update(item, expression, names=None, values=None):
    try:
        return canonical_item(
            expressions.update(expression, names, values)({**KEY, **(item or {})})
        )
    except expressions.ValidationError:
        return "refused"


def ours_projected(item, expression, names=None):
    try:
        return canonical_item(expressions.projection(expression, names)({**KEY, **item}))
    except expressions.ValidationError:
        return "refused"


def ours_query(items: list[str], partition: str, expression, names=None, values=None):
    try:
        found = expressions.key_condition(expression, names, values, partition_key="pk")
    except expressions.ValidationError:
        return "refused"
    if found.partition_value != {"S": partition}:
        return []
    return [key for key in sorted(items) if found.sort is None or found.sort({"S": key})]
