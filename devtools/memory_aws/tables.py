"""One in-memory table: its items by key, each partition's sort keys in order, and each
secondary index kept sorted partition by partition, so that a Query reads its page and not
the table (devtools/memory_aws/reads.py).

Keys are held as orderable Python values (values.key_value): (partition, sort) for the
table, with sort None when it has no sort key. An index partition is a sorted list of
entries (index sort value, table partition, table sort): an item's table key breaks ties
between items with equal index sort values, as moto orders them (DynamoDB leaves that order
unspecified). An index is sparse: an item lacking one of its key attributes is not in it.
"""

import bisect
import contextlib
import heapq
import uuid
from decimal import Decimal

from devtools.memory_aws.errors import validation
from devtools.memory_aws.values import key_value


class Index:
    __slots__ = ("description", "hash_name", "hash_type", "included", "is_global", "name",
                 "partitions", "projection", "range_name", "range_type")  # fmt: skip

    def __init__(self, table, definition: dict, is_global: bool):
        self.name = definition["IndexName"]
        (self.hash_name,) = _names(definition["KeySchema"], "HASH")
        ranges = _names(definition["KeySchema"], "RANGE")
        self.range_name = ranges[0] if ranges else None
        self.hash_type = table.types[self.hash_name]
        self.range_type = table.types[self.range_name] if self.range_name else None
        projection = definition.get("Projection") or {}
        self.projection = projection.get("ProjectionType", "ALL")
        keys = {table.hash_name, table.range_name, self.hash_name, self.range_name} - {None}
        # What the index holds of an item, in a fixed order (answers' order is the same run
        # after run).
        self.included = tuple(sorted(keys | set(projection.get("NonKeyAttributes") or ())))
        self.is_global = is_global
        self.partitions: dict = {}  # index partition value -> sorted entries
        self.description = {
            "IndexName": self.name,
            "KeySchema": definition["KeySchema"],
            "Projection": {"ProjectionType": self.projection}
            | ({"NonKeyAttributes": list(projection["NonKeyAttributes"])}
               if projection.get("NonKeyAttributes") else {}),
        }  # fmt: skip

    def entry(self, item: dict, key: tuple, operation: str):
        """(partition value, sorted entry) of `item` in this index; None when it is not in
        it. Refuses index key values DynamoDB refuses, even where the other is missing."""
        hash_typed = item.get(self.hash_name)
        if hash_typed is not None:
            hash_typed = self._value(hash_typed, self.hash_name, self.hash_type, operation)
        if self.range_name is None:
            return None if hash_typed is None else (hash_typed, key)
        range_typed = item.get(self.range_name)
        if range_typed is not None:
            range_typed = self._value(range_typed, self.range_name, self.range_type, operation)
        if hash_typed is None or range_typed is None:
            return None  # a sparse index: the item is not in it
        return hash_typed, (range_typed, *key)

    def _value(self, typed: dict, name: str, kind: str, operation: str):
        if kind not in typed:
            (actual,) = typed
            raise validation(
                operation, "One or more parameter values were invalid: Type mismatch for Index "
                f"Key {name} Expected: {kind} Actual: {actual} IndexName: {self.name}",
            )  # fmt: skip
        if kind != "N" and not typed[kind]:
            raise validation(
                operation, "One or more parameter values are not valid. A value specified for a "
                "secondary index key is not supported. The AttributeValue for a key attribute "
                f"cannot contain an empty {'string' if kind == 'S' else 'binary'} value. "
                f"IndexName: {self.name}, IndexKey: {name}",
            )  # fmt: skip
        return key_value(typed, kind)

    def project(self, item: dict) -> dict:
        """What the index holds of `item` (shared values: the caller copies)."""
        if self.projection == "ALL":
            return item
        return {name: item[name] for name in self.included if name in item}

    def key_names(self) -> tuple:
        return (self.hash_name, self.range_name) if self.range_name else (self.hash_name,)


def _names(schema: list, kind: str) -> list:
    return [key["AttributeName"] for key in schema if key["KeyType"] == kind]


class Table:
    def __init__(self, request: dict, arn: str, created: float, region: str):
        self.name = request["TableName"]
        self.arn = arn
        self.created = created
        self.request = request
        self.types = {
            a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]
        }
        (self.hash_name,) = _names(request["KeySchema"], "HASH")
        ranges = _names(request["KeySchema"], "RANGE")
        self.range_name = ranges[0] if ranges else None
        self.hash_type = self.types[self.hash_name]
        self.range_type = self.types[self.range_name] if self.range_name else None
        self.key_names = frozenset(filter(None, (self.hash_name, self.range_name)))
        self.items: dict[tuple, dict] = {}
        self.sizes: dict[tuple, int] = {}
        self.partitions: dict = {}  # partition value -> its sort values, in order
        self.indexes: dict[str, Index] = {}
        for kind, is_global in (("GlobalSecondaryIndexes", True), ("LocalSecondaryIndexes", False)):
            for definition in request.get(kind) or ():
                self.indexes[definition["IndexName"]] = Index(self, definition, is_global)
        # Attributes that are some index's key: an update that leaves them moves no entry.
        self.index_keys = frozenset(n for i in self.indexes.values() for n in i.key_names())
        self.id = str(uuid.uuid4())
        self.placed: dict[tuple, list] = {}  # key -> [(index, partition value, entry)]
        specification = request.get("StreamSpecification") or {}
        self.stream = None
        if specification.get("StreamEnabled"):
            from devtools.memory_aws.streams import Stream

            self.stream = Stream(self, specification["StreamViewType"], region, created)
        self.ttl_attribute: str | None = None
        self.expiries: list = []  # a heap of (expiry, key), some stale

    # Keys

    def key(self, key, operation: str) -> tuple:
        """The stored key of a request's Key: exactly the table's key attributes."""
        if not isinstance(key, dict) or len(key) != len(self.key_names):
            raise validation(operation, "The provided key element does not match the schema")
        try:
            return (self._key_part(key[self.hash_name], self.hash_name, self.hash_type, operation),
                    self._key_part(key[self.range_name], self.range_name, self.range_type,
                                   operation) if self.range_name else None)  # fmt: skip
        except (KeyError, TypeError):
            raise validation(
                operation, "The provided key element does not match the schema"
            ) from None  # fmt: skip

    def item_key(self, item: dict, operation: str) -> tuple:
        """The stored key of an item to put."""
        for name in (self.hash_name, self.range_name):
            if name and name not in item:
                raise validation(
                    operation, f"One or more parameter values were invalid: Missing the key "
                    f"{name} in the item",
                )  # fmt: skip
        for name in self.key_names:
            kind = self.types[name]
            if kind not in item[name]:
                (actual,) = item[name]
                raise validation(
                    operation, f"One or more parameter values were invalid: Type mismatch for "
                    f"key {name} expected: {kind} actual: {actual}",
                )  # fmt: skip
        return self.key({name: item[name] for name in self.key_names}, operation)

    def _key_part(self, typed, name: str, kind: str, operation: str):
        if not isinstance(typed, dict) or kind not in typed:
            raise KeyError(name)
        if kind != "N" and not typed[kind]:
            raise validation(
                operation, "One or more parameter values are not valid. The AttributeValue for "
                f"a key attribute cannot contain an empty {'string' if kind == 'S' else 'binary'}"
                f" value. Key: {name}",
            )  # fmt: skip
        try:
            value = key_value(typed, kind)
        except ArithmeticError:
            raise validation(
                operation, "A value provided cannot be converted into a number"
            ) from None  # fmt: skip
        if kind == "B" and not isinstance(value, bytes):
            value = bytes(value, "utf-8") if isinstance(value, str) else bytes(value)
        return value

    def typed_key(self, item: dict, index: Index | None = None) -> dict:
        """The table's (and `index`'s) key attributes of a stored item, copied."""
        names = [self.hash_name, self.range_name]
        if index is not None:
            names += [index.hash_name, index.range_name]
        return {name: dict(item[name]) for name in names if name}

    # Writes: `placed` is what `placements` said for the new item

    def placements(self, item: dict, key: tuple, operation: str) -> list:
        """Where `item` goes in each index (checking its index keys)."""
        placed = []
        for index in self.indexes.values():
            found = index.entry(item, key, operation)
            if found is not None:
                placed.append((index, *found))
        return placed

    def store(self, key: tuple, item: dict, size: int, placed: list) -> dict | None:
        """Put `item` at `key`; the item it replaced, or None."""
        old = self.items.get(key)
        self.items[key] = item
        self.sizes[key] = size
        if old is None and self.range_name is not None:
            bisect.insort(self.partitions.setdefault(key[0], []), key[1])
        self._place(key, placed)
        if self.ttl_attribute is not None:
            self._note_expiry(key, item, old)
        return old

    def remove(self, key: tuple) -> dict | None:
        old = self.items.pop(key, None)
        if old is None:
            return None
        del self.sizes[key]
        if self.range_name is not None:
            sorts = self.partitions[key[0]]
            del sorts[bisect.bisect_left(sorts, key[1])]
            if not sorts:
                del self.partitions[key[0]]
        self._place(key, [])
        return old

    def _place(self, key: tuple, placed: list) -> None:
        before = self.placed.get(key, ())
        if before == placed:
            return
        for index, partition, entry in before:
            if (index, partition, entry) not in placed:
                entries = index.partitions[partition]
                del entries[bisect.bisect_left(entries, entry)]
                if not entries:
                    del index.partitions[partition]
        for index, partition, entry in placed:
            if (index, partition, entry) not in before:
                bisect.insort(index.partitions.setdefault(partition, []), entry)
        if placed:
            self.placed[key] = placed
        else:
            self.placed.pop(key, None)

    # Time to live

    def set_ttl(self, attribute: str | None) -> None:
        self.ttl_attribute = attribute
        self.expiries = []
        if attribute is not None:
            for key, item in self.items.items():
                self._note_expiry(key, item, None)

    def _note_expiry(self, key: tuple, item: dict, old: dict | None) -> None:
        value = item.get(self.ttl_attribute)
        if value is None or "N" not in value or (old and old.get(self.ttl_attribute) == value):
            return
        with contextlib.suppress(ArithmeticError):  # not a number: never expires
            heapq.heappush(self.expiries, (Decimal(value["N"]), key))

    def expired(self, now: float) -> list[tuple]:
        """The keys of items whose time to live is below `now` (taken off the heap)."""
        due, limit = [], Decimal(repr(now))
        while self.expiries and self.expiries[0][0] < limit:
            expiry, key = heapq.heappop(self.expiries)
            value = (self.items.get(key) or {}).get(self.ttl_attribute) or {}
            if "N" in value and Decimal(value["N"]) == expiry:
                due.append(key)
        return due
