"""The in-memory DynamoDB's requests on many items: BatchGetItem, BatchWriteItem,
TransactGetItems and TransactWriteItems (devtools/memory_aws/dynamodb.py holds the rest).

A transaction is checked and compiled item by item before the engine's lock; under it every
condition is tested on the items as they are, and either every write is applied or none is
(TransactionCanceledException with one reason per item: ConditionalCheckFailed, with the item
when asked, ValidationError, or None). A batch never leaves anything unprocessed.
"""

import collections
import time

from devtools.memory_aws.errors import CONDITION_FAILED, cancelled, client_error, validation
from devtools.memory_aws.requests import Request
from devtools.memory_aws.updates import Update
from devtools.memory_aws.values import check_size, copy_item, take_item

MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
TOKEN_SECONDS = 600  # a ClientRequestToken answers for 10 minutes


class Tokens:
    """The ClientRequestTokens of committed transactions, for 10 minutes each."""

    def __init__(self):
        self.seen: collections.OrderedDict = collections.OrderedDict()

    def replayed(self, token: str | None, fingerprint: int, now: float) -> bool:
        """True when `token` committed this same request within 10 minutes."""
        while self.seen and next(iter(self.seen.values()))[1] <= now:
            self.seen.popitem(last=False)
        if token is None or token not in self.seen:
            return False
        if self.seen[token][0] != fingerprint:
            raise client_error(
                "IdempotentParameterMismatchException", "The request uses the same client "
                "token as a previous, but non-identical request.", "TransactWriteItems",
            )  # fmt: skip
        return True

    def remember(self, token: str | None, fingerprint: int, now: float) -> None:
        if token is not None:
            self.seen[token] = (fingerprint, now + TOKEN_SECONDS)


class _Write:
    """One item of a TransactWriteItems, checked and compiled."""

    def __init__(self, dynamodb, entry: dict):
        operation = "TransactWriteItems"
        if not isinstance(entry, dict) or len(entry) != 1:
            raise validation(
                operation, "TransactItems can only contain one of Check, Put, Update or Delete"
            )
        ((self.kind, body),) = entry.items()
        if self.kind not in ("Put", "Update", "Delete", "ConditionCheck"):
            raise validation(operation, f"Unknown transaction item: {self.kind}")
        self.table = dynamodb.table(body.get("TableName"), operation)
        self.return_old = body.get("ReturnValuesOnConditionCheckFailure", "NONE") == "ALL_OLD"
        if self.kind == "ConditionCheck" and not body.get("ConditionExpression"):
            raise validation(operation, "ConditionExpression is required for a ConditionCheck")
        self.request = Request(
            operation, body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"),
            ConditionExpression=body.get("ConditionExpression"),
            UpdateExpression=body.get("UpdateExpression") if self.kind == "Update" else None,
        )  # fmt: skip
        self.test = self.request.condition()
        self.item, self.size, self.placed, self.change = None, 0, [], None
        if self.kind == "Put":
            self.item, self.size = take_item(body.get("Item"), operation)
            check_size(self.size, operation)
            self.key = self.table.item_key(self.item, operation)
            self.placed = self.table.placements(self.item, self.key, operation)
        else:
            self.key = self.table.key(body.get("Key"), operation)
            if self.kind == "Update":
                if body.get("UpdateExpression") is None:
                    raise validation(operation, "UpdateExpression is required for an Update")
                self.change = Update(self.table, body["Key"], self.request)

    def outcome(self, old):
        """Under the lock: (a cancellation reason, or None; the new item, size, placements)."""
        if self.test is not None and not self.request.run(self.test, old):
            reason = {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED}
            if self.return_old and old is not None:
                reason["Item"] = copy_item(old)
            return reason, None
        if self.kind == "Put":
            return None, (self.item, self.size, self.placed)
        if self.kind == "Update":
            from botocore.exceptions import ClientError

            try:
                return None, self.change(self.key, old)
            except ClientError as error:
                return {
                    "Code": "ValidationError",
                    "Message": error.response["Error"]["Message"],
                }, None
        return None, (old if self.kind == "ConditionCheck" else None, 0, [])


def transact_write(dynamodb, items, token) -> dict:
    operation = "TransactWriteItems"
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_TRANSACTION_ITEMS:
        raise validation(
            operation, "1 validation error detected: Value at 'transactItems' failed to satisfy "
            f"constraint: Member must have length between 1 and {MAX_TRANSACTION_ITEMS}",
        )  # fmt: skip
    writes = [_Write(dynamodb, entry) for entry in items]
    if len({(w.table.name, w.key) for w in writes}) != len(writes):
        raise validation(
            operation, "Transaction request cannot include multiple operations on one item"
        )
    fingerprint = hash(repr(items)) if token is not None else 0
    with dynamodb.lock:
        now = time.monotonic()
        if dynamodb.tokens.replayed(token, fingerprint, now):
            return {}
        for write in writes:
            dynamodb.current(write.table, operation)
        olds = [write.table.items.get(write.key) for write in writes]
        outcomes = [write.outcome(old) for write, old in zip(writes, olds, strict=True)]
        if any(reason is not None for reason, _ in outcomes):
            raise cancelled([reason or {"Code": "None"} for reason, _ in outcomes])
        for write, old, (_, (new, size, placed)) in zip(writes, olds, outcomes, strict=True):
            if write.kind == "ConditionCheck" or (new is None and old is None):
                continue
            dynamodb.apply(write.table, write.key, old, new, size, placed)
        dynamodb.tokens.remember(token, fingerprint, now)
    return {}


def transact_get(dynamodb, items) -> dict:
    operation = "TransactGetItems"
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_TRANSACTION_ITEMS:
        raise validation(
            operation, "1 validation error detected: Value at 'transactItems' failed to satisfy "
            f"constraint: Member must have length between 1 and {MAX_TRANSACTION_ITEMS}",
        )  # fmt: skip
    gets = []
    for entry in items:
        body = (entry or {}).get("Get") if isinstance(entry, dict) else None
        if not isinstance(body, dict):
            raise validation(operation, "TransactItems can only contain Get")
        table = dynamodb.table(body.get("TableName"), operation)
        request = Request(operation, body.get("ExpressionAttributeNames"), None,
                          ProjectionExpression=body.get("ProjectionExpression"))  # fmt: skip
        gets.append((table, table.key(body.get("Key"), operation), request.projection()))
    if len({(table.name, key) for table, key, _ in gets}) != len(gets):
        raise validation(
            operation, "Transaction request cannot include multiple operations on one item"
        )
    with dynamodb.lock:
        for table, _, _ in gets:
            dynamodb.current(table, operation)
        found = [table.items.get(key) for table, key, _ in gets]
    return {
        "Responses": [
            {} if item is None else {"Item": copy_item(projection(item) if projection else item)}
            for item, (_, _, projection) in zip(found, gets, strict=True)
        ]
    }


def batch_get(dynamodb, request_items) -> dict:
    operation = "BatchGetItem"
    if not isinstance(request_items, dict) or not request_items:
        raise validation(operation, "RequestItems must not be empty")
    wanted = []
    for name, body in request_items.items():
        table = dynamodb.table(name, operation)
        request = Request(operation, body.get("ExpressionAttributeNames"), None,
                          ProjectionExpression=body.get("ProjectionExpression"))  # fmt: skip
        keys = [table.key(key, operation) for key in body.get("Keys") or ()]
        if not keys:
            raise validation(operation, "Keys must not be empty")
        if len(set(keys)) != len(keys):
            raise validation(operation, "Provided list of item keys contains duplicates")
        wanted.append((table, keys, request.projection()))
    if sum(len(keys) for _, keys, _ in wanted) > MAX_BATCH_GET:
        raise validation(operation, "Too many items requested for the BatchGetItem call")
    with dynamodb.lock:
        found = []
        for table, keys, _ in wanted:
            dynamodb.current(table, operation)
            found.append([table.items.get(key) for key in keys])
    responses = {}
    for (table, _, projection), items in zip(wanted, found, strict=True):
        found_items = [item for item in items if item is not None]
        responses[table.name] = [
            copy_item(projection(item) if projection else item) for item in found_items
        ]
    return {"Responses": responses, "UnprocessedKeys": {}}


def batch_write(dynamodb, request_items) -> dict:
    operation = "BatchWriteItem"
    if not isinstance(request_items, dict) or not request_items:
        raise validation(operation, "RequestItems must not be empty")
    writes = []
    for name, entries in request_items.items():
        table = dynamodb.table(name, operation)
        keys = set()
        for entry in entries:
            if "PutRequest" in entry:
                item, size = take_item(entry["PutRequest"].get("Item"), operation)
                check_size(size, operation)
                key = table.item_key(item, operation)
                writes.append((table, key, item, size, table.placements(item, key, operation)))
            elif "DeleteRequest" in entry:
                key = table.key(entry["DeleteRequest"].get("Key"), operation)
                writes.append((table, key, None, 0, []))
            else:
                raise validation(
                    operation, "A write request must be a PutRequest or a DeleteRequest"
                )
            if key in keys:
                raise validation(operation, "Provided list of item keys contains duplicates")
            keys.add(key)
    if not writes or len(writes) > MAX_BATCH_WRITE:
        raise validation(
            operation, "1 validation error detected: Value at 'requestItems' failed to satisfy "
            f"constraint: Map value must satisfy constraint: [Member must have length less than "
            f"or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]",
        )  # fmt: skip
    with dynamodb.lock:
        for table, *_ in writes:
            dynamodb.current(table, operation)
        for table, key, item, size, placed in writes:
            old = table.items.get(key)
            if item is not None or old is not None:
                dynamodb.apply(table, key, old, item, size, placed)
    return {"UnprocessedItems": {}}
