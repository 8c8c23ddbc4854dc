"""DynamoDB in memory: `MemoryDynamoDB`, an object with a boto3 DynamoDB client's methods
(the same names and keyword arguments) that answers what botocore would answer and refuses
with botocore's ClientError and DynamoDB's codes. `MemoryStreams` (streams.py) reads its
tables' streams.

Every request is atomic with respect to every other (one lock for the whole engine), which
is what Herald's conditional writes and transactions rely on: a request is checked and
compiled outside the lock, then reads and writes under it. Answers are copies the caller may
change; stored items are never handed out, nor changed in place (a write stores a new dict).

Where this differs from moto it follows DynamoDB's documentation, and says so where it does
(tests/devtools/test_memory_dynamodb.py holds the rest to moto's answers).
"""

import copy
import threading
import time

from devtools.memory_aws import reads, transactions, updates
from devtools.memory_aws.definitions import Waiter, check_definition, description
from devtools.memory_aws.errors import client_error, condition_failed, not_found, validation
from devtools.memory_aws.requests import Request
from devtools.memory_aws.streams import TTL_IDENTITY, MemoryStreams, Stream
from devtools.memory_aws.tables import Table
from devtools.memory_aws.values import check_size, copy_item, take_item

__all__ = ["MemoryDynamoDB", "MemoryStreams"]

ACCOUNT_ID = "123456789012"  # moto's
RETURN_VALUES = {
    "PutItem": {"NONE", "ALL_OLD"},
    "DeleteItem": {"NONE", "ALL_OLD"},
    "UpdateItem": {"NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"},
}


class MemoryDynamoDB:
    def __init__(self, region: str = "us-east-1", account_id: str = ACCOUNT_ID):
        self.region, self.account_id = region, account_id
        self.lock = threading.Lock()
        self.tables: dict[str, Table] = {}
        self.streams: dict[str, Stream] = {}  # by ARN, kept after their table is deleted
        self.tokens = transactions.Tokens()

    def reset(self) -> None:
        """Forget every table, stream and transaction token."""
        with self.lock:
            for stream in self.streams.values():
                stream.close()
            self.tables, self.streams = {}, {}
            self.tokens = transactions.Tokens()

    def table(self, name, operation: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            raise not_found(operation)
        return table

    def current(self, table: Table, operation: str) -> None:
        """Under the lock: `table` (found before it) is still the table of its name."""
        if self.tables.get(table.name) is not table:
            raise not_found(operation)

    def apply(self, table: Table, key: tuple, old, new, size=0, placed=(), identity=None):
        """Under the lock: store `new` (or remove the item when None) and note the change on
        the table's stream. A write that changes nothing notes nothing, as in DynamoDB."""
        if new is None:
            old_size = table.sizes.get(key, 0)
            table.remove(key)
        else:
            old_size = table.sizes.get(key, 0) if old is not None else 0
            table.store(key, new, size, list(placed))
        if table.stream is not None and new != old:
            table.stream.append(old, new, (size if new is not None else 0) + old_size, identity)

    # Tables

    def create_table(self, **request) -> dict:
        operation = "CreateTable"
        request = copy.deepcopy(request)  # the table keeps it: the caller may change theirs
        check_definition(request, operation)
        with self.lock:
            if request["TableName"] in self.tables:
                raise client_error(
                    "ResourceInUseException", f"Table already exists: {request['TableName']}",
                    operation,
                )  # fmt: skip
            created = max([time.time()] + [s.created + 0.001 for s in self.streams.values()])
            arn = f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{request['TableName']}"
            table = Table(request, arn, created, self.region)
            if table.stream is not None:
                self.streams[table.stream.arn] = table.stream
            self.tables[table.name] = table
            return {"TableDescription": description(table)}

    def describe_table(self, *, TableName) -> dict:
        with self.lock:
            table = self.tables.get(TableName)
            if table is None:
                raise not_found(
                    "DescribeTable", f"Requested resource not found: Table: {TableName} not found"
                )  # fmt: skip
            return {"Table": description(table)}

    def delete_table(self, *, TableName) -> dict:
        with self.lock:
            table = self.table(TableName, "DeleteTable")
            answer = description(table) | {"TableStatus": "DELETING"}
            del self.tables[TableName]
            if table.stream is not None:
                table.stream.close()
            return {"TableDescription": answer}

    def list_tables(self, *, ExclusiveStartTableName=None, Limit=100) -> dict:
        with self.lock:
            names = sorted(self.tables)
        if ExclusiveStartTableName is not None:
            names = [name for name in names if name > ExclusiveStartTableName]
        answer = {"TableNames": names[:Limit]}
        if len(names) > Limit:
            answer["LastEvaluatedTableName"] = names[Limit - 1]
        return answer

    def get_waiter(self, name: str):
        return Waiter(self, name)

    # Time to live

    def update_time_to_live(self, *, TableName, TimeToLiveSpecification) -> dict:
        operation = "UpdateTimeToLive"
        enabled = TimeToLiveSpecification.get("Enabled")
        attribute = TimeToLiveSpecification.get("AttributeName")
        with self.lock:
            table = self.table(TableName, operation)
            # DynamoDB refuses to enable it twice, or to disable what is not enabled (moto
            # lets both through).
            if enabled and table.ttl_attribute is not None:
                raise validation(operation, "TimeToLive is already enabled")
            if not enabled and table.ttl_attribute is None:
                raise validation(operation, "TimeToLive is already disabled")
            table.set_ttl(attribute if enabled else None)
        return {"TimeToLiveSpecification": {"Enabled": bool(enabled), "AttributeName": attribute}}

    def describe_time_to_live(self, *, TableName) -> dict:
        with self.lock:
            attribute = self.table(TableName, "DescribeTimeToLive").ttl_attribute
        if attribute is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {
            "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute}
        }

    def expire_items(self, now: float | None = None) -> int:
        """Delete the items whose time to live (a number of epoch seconds) is below `now`, as
        DynamoDB's TTL does, each with a REMOVE record by the service; how many went. Until
        then reads still see them, as in DynamoDB."""
        now = time.time() if now is None else now
        removed = 0
        with self.lock:
            for table in self.tables.values():
                for key in table.expired(now):
                    self.apply(table, key, table.items[key], None, identity=TTL_IDENTITY)
                    removed += 1
        return removed

    # Items

    def _allowed(self, table: Table, key: tuple, request, test, on_failure: str):
        """Under the lock: the item at `key` (None when there is none), once the request's
        condition allows the write; refused as DynamoDB refuses it otherwise."""
        self.current(table, request.operation)
        old = table.items.get(key)
        if test is not None and not request.run(test, old):
            raise _refused(request.operation, old, on_failure)
        return old

    def get_item(self, *, TableName, Key, ConsistentRead=False, ProjectionExpression=None,
                 ExpressionAttributeNames=None, ReturnConsumedCapacity=None) -> dict:  # fmt: skip
        operation = "GetItem"
        table = self.table(TableName, operation)
        key = table.key(Key, operation)
        request = Request(operation, ExpressionAttributeNames, None,
                          ProjectionExpression=ProjectionExpression)  # fmt: skip
        projection = request.projection()
        with self.lock:
            self.current(table, operation)
            item = table.items.get(key)
        if item is None:
            return {}
        return {"Item": copy_item(projection(item) if projection else item)}

    def put_item(self, *, TableName, Item, ConditionExpression=None, ExpressionAttributeNames=None,
                 ExpressionAttributeValues=None, ReturnValues="NONE",
                 ReturnValuesOnConditionCheckFailure="NONE", ReturnConsumedCapacity=None,
                 ReturnItemCollectionMetrics=None) -> dict:  # fmt: skip
        operation = "PutItem"
        _check_return_values(operation, ReturnValues)
        table = self.table(TableName, operation)
        item, size = take_item(Item, operation)
        check_size(size, operation)
        key = table.item_key(item, operation)
        placed = table.placements(item, key, operation)
        request = Request(operation, ExpressionAttributeNames, ExpressionAttributeValues,
                          ConditionExpression=ConditionExpression)  # fmt: skip
        test = request.condition()
        with self.lock:
            old = self._allowed(table, key, request, test, ReturnValuesOnConditionCheckFailure)
            self.apply(table, key, old, item, size, placed)
        if ReturnValues == "ALL_OLD" and old is not None:
            return {"Attributes": copy_item(old)}
        return {}

    def update_item(self, *, TableName, Key, UpdateExpression=None, ConditionExpression=None,
                    ExpressionAttributeNames=None, ExpressionAttributeValues=None,
                    ReturnValues="NONE", ReturnValuesOnConditionCheckFailure="NONE",
                    ReturnConsumedCapacity=None,
                    ReturnItemCollectionMetrics=None) -> dict:  # fmt: skip
        operation = "UpdateItem"
        _check_return_values(operation, ReturnValues)
        table = self.table(TableName, operation)
        key = table.key(Key, operation)
        request = Request(operation, ExpressionAttributeNames, ExpressionAttributeValues,
                          UpdateExpression=UpdateExpression,
                          ConditionExpression=ConditionExpression)  # fmt: skip
        change = updates.Update(table, Key, request)
        test = request.condition()
        with self.lock:
            old = self._allowed(table, key, request, test, ReturnValuesOnConditionCheckFailure)
            new, size, placed = change(key, old)
            self.apply(table, key, old, new, size, placed)
        return updates.answer(ReturnValues, old, new, change.paths)

    def delete_item(self, *, TableName, Key, ConditionExpression=None,
                    ExpressionAttributeNames=None, ExpressionAttributeValues=None,
                    ReturnValues="NONE", ReturnValuesOnConditionCheckFailure="NONE",
                    ReturnConsumedCapacity=None,
                    ReturnItemCollectionMetrics=None) -> dict:  # fmt: skip
        operation = "DeleteItem"
        _check_return_values(operation, ReturnValues)
        table = self.table(TableName, operation)
        key = table.key(Key, operation)
        request = Request(operation, ExpressionAttributeNames, ExpressionAttributeValues,
                          ConditionExpression=ConditionExpression)  # fmt: skip
        test = request.condition()
        with self.lock:
            old = self._allowed(table, key, request, test, ReturnValuesOnConditionCheckFailure)
            if old is not None:
                self.apply(table, key, old, None)
        if ReturnValues == "ALL_OLD" and old is not None:
            return {"Attributes": copy_item(old)}
        return {}

    # Reads of many items

    def query(self, *, TableName, KeyConditionExpression=None, IndexName=None,
              FilterExpression=None, ProjectionExpression=None, ExpressionAttributeNames=None,
              ExpressionAttributeValues=None, Limit=None, ExclusiveStartKey=None,
              ScanIndexForward=True, Select=None, ConsistentRead=False,
              ReturnConsumedCapacity=None) -> dict:  # fmt: skip
        operation = "Query"
        table = self.table(TableName, operation)
        index = reads.index_of(table, IndexName, ConsistentRead, operation)
        if KeyConditionExpression is None:
            raise validation(
                operation, "Either the KeyConditions or KeyConditionExpression parameter must "
                "be specified in the request.",
            )  # fmt: skip
        request = Request(operation, ExpressionAttributeNames, ExpressionAttributeValues,
                          KeyConditionExpression=KeyConditionExpression,
                          FilterExpression=FilterExpression,
                          ProjectionExpression=ProjectionExpression)  # fmt: skip
        condition = request.key_condition((index or table).hash_name)
        filter_test, projection = request.condition("FilterExpression"), request.projection()
        reads.check_page(operation, Limit, Select, ProjectionExpression)
        with self.lock:
            self.current(table, operation)
            page = reads.query_page(table, index, condition, request, limit=Limit,
                                    start_key=ExclusiveStartKey,
                                    forward=ScanIndexForward is not False)  # fmt: skip
        return reads.answer(table, index, page, request, filter_test=filter_test,
                            projection=projection, count_only=Select == "COUNT")  # fmt: skip

    def scan(self, *, TableName, IndexName=None, FilterExpression=None,
             ProjectionExpression=None, ExpressionAttributeNames=None,
             ExpressionAttributeValues=None, Limit=None, ExclusiveStartKey=None, Select=None,
             Segment=None, TotalSegments=None, ConsistentRead=False,
             ReturnConsumedCapacity=None) -> dict:  # fmt: skip
        operation = "Scan"
        table = self.table(TableName, operation)
        index = reads.index_of(table, IndexName, ConsistentRead, operation)
        if (Segment is None) != (TotalSegments is None) or (
            TotalSegments is not None and not 0 <= Segment < TotalSegments
        ):
            raise validation(
                operation, "The Segment parameter is required but was not present in the "
                "request when parameter TotalSegments is present",
            )  # fmt: skip
        request = Request(operation, ExpressionAttributeNames, ExpressionAttributeValues,
                          FilterExpression=FilterExpression,
                          ProjectionExpression=ProjectionExpression)  # fmt: skip
        filter_test, projection = request.condition("FilterExpression"), request.projection()
        reads.check_page(operation, Limit, Select, ProjectionExpression)
        with self.lock:
            self.current(table, operation)
            page = reads.scan_page(table, index, segment=Segment, total=TotalSegments,
                                   limit=Limit, start_key=ExclusiveStartKey)  # fmt: skip
        return reads.answer(table, index, page, request, filter_test=filter_test,
                            projection=projection, count_only=Select == "COUNT")  # fmt: skip

    def batch_get_item(self, *, RequestItems, ReturnConsumedCapacity=None) -> dict:
        return transactions.batch_get(self, RequestItems)

    def batch_write_item(self, *, RequestItems, ReturnConsumedCapacity=None,
                         ReturnItemCollectionMetrics=None) -> dict:  # fmt: skip
        return transactions.batch_write(self, RequestItems)

    def transact_get_items(self, *, TransactItems, ReturnConsumedCapacity=None) -> dict:
        return transactions.transact_get(self, TransactItems)

    def transact_write_items(self, *, TransactItems, ClientRequestToken=None,
                             ReturnConsumedCapacity=None,
                             ReturnItemCollectionMetrics=None) -> dict:  # fmt: skip
        return transactions.transact_write(self, TransactItems, ClientRequestToken)


def _check_return_values(operation: str, return_values) -> None:
    if return_values not in RETURN_VALUES[operation]:
        raise validation(operation, "Return values set to invalid value")


def _refused(operation: str, old, return_values_on_failure: str):
    wanted = return_values_on_failure == "ALL_OLD" and old is not None
    return condition_failed(operation, copy_item(old) if wanted else None)
