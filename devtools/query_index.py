"""Queries on the embedded AWS at the cost DynamoDB charges for them: the page, not the table.

moto answers every Query by sorting every item of the table (`Table.all_items`) and testing
each against the key condition, so a list page, and each of the scheduler's 32 sweeps of the
`due` index, cost time in proportion to all the messages of all accounts. Here each global or
local secondary index of a table is kept sorted, partition by partition, in the order moto's
Query sorts them (the index's sort key, then the table's keys), and a Query on an index is
answered by moto itself from a window of that order: the items from where the page starts
(ExclusiveStartKey, the sort key condition's bound, the direction) up to one past its Limit.
Every rule of moto's Query (conditions, direction, paging, LastEvaluatedKey, filters,
projections) still runs, on the window. A Query on the table is answered from the
partition's own items. tests/devtools/test_query_index.py holds both to moto's answers on the whole
table.

The index follows the table through the requests that write it: `AtomicRequests` calls
`written` with every DynamoDB request it has run (under the DynamoDB lock), which re-reads
the items the request names; a request that changes tables, or that this does not know,
makes every index be rebuilt at its next use. Outside the embedded AWS's requests (moto
under `mock_aws`), Query is moto's own.
"""

import bisect
import json
import threading
import weakref

from devtools.faster_moto import serving

# Read-only DynamoDB and DynamoDB Streams actions: they change no item.
READS = frozenset({
    "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable",
    "ListTables", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource",
    "DescribeLimits", "DescribeEndpoints", "DescribeStream", "GetRecords",
    "GetShardIterator", "ListStreams",
})  # fmt: skip
# Operators (as moto names them) whose matches are one contiguous run of the sort key's order.
OPERATORS = {
    "EQ": "EQ", "=": "EQ", "LT": "LT", "<": "LT", "LE": "LE", "<=": "LE", "GT": "GT", ">": "GT",
    "GE": "GE", ">=": "GE", "BETWEEN": "BETWEEN", "BEGINS_WITH": "BEGINS_WITH",
}  # fmt: skip

_indexes: dict[int, tuple] = {}  # id(Table) -> (weakref to it, its TableIndex)
_installed = threading.Lock()


class Unsupported(Exception):
    """A table, index or query this does not answer: moto answers it on the whole table."""


def _cast(value) -> object:
    if value is None or value.type not in ("S", "N"):
        raise Unsupported
    return value.cast_value


class TableIndex:
    """Every secondary index of one moto Table, partition by partition, kept sorted."""

    def __init__(self, table):
        self.table = table
        self.schemas = {}
        for index in table.all_indexes():
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if len(hashes) == 1 and len(ranges) == 1:
                self.schemas[index.name] = (hashes[0], ranges[0])
        # index name -> partition value -> (sorted sort keys, the items' table keys)
        self.partitions: dict[str, dict] = {name: {} for name in self.schemas}
        self.entries: dict[tuple, list] = {}  # an item's table key -> where it is indexed
        for item in table.all_items():
            self._add(item)

    def _table_key(self, item) -> tuple:
        return (item.hash_key, item.range_key)

    def _add(self, item) -> None:
        key = self._table_key(item)
        tail = (_cast(item.hash_key),) + ((_cast(item.range_key),) if item.range_key else ())
        placed = []
        for name, (hash_attr, range_attr) in self.schemas.items():
            partition_value, sort_value = item.attrs.get(hash_attr), item.attrs.get(range_attr)
            if partition_value is None or sort_value is None:
                continue  # a sparse index: the item is not in it
            partition = self.partitions[name].setdefault(_cast(partition_value), ([], []))
            sort_key = (_cast(sort_value), *tail)
            at = bisect.bisect_left(partition[0], sort_key)
            partition[0].insert(at, sort_key)
            partition[1].insert(at, key)
            placed.append((name, _cast(partition_value), sort_key))
        self.entries[key] = placed

    def _remove(self, key: tuple) -> None:
        for name, partition_value, sort_key in self.entries.pop(key, ()):
            keys, items = self.partitions[name][partition_value]
            at = bisect.bisect_left(keys, sort_key)
            while at < len(keys) and keys[at] == sort_key and items[at] != key:
                at += 1
            if at < len(keys) and items[at] == key:
                del keys[at], items[at]

    def refresh(self, hash_key, range_key) -> None:
        """Re-read one item (after a write named it) and move its index entries."""
        self._remove((hash_key, range_key))
        item = self._item(hash_key, range_key)
        if item is not None:
            self._add(item)

    def _item(self, hash_key, range_key):
        stored = self.table.items.get(hash_key)
        if stored is None or not self.table.range_key_attr:
            return stored
        return stored.get(range_key)

    def window(self, index_name, hash_value, comparison, values, limit, start, forward):
        """The items a Query on `index_name` can reach, in index order: from its start, up
        to one past `limit`."""
        if index_name not in self.schemas or limit is None:
            raise Unsupported
        range_attr = self.schemas[index_name][1]
        keys, items = self.partitions[index_name].get(_cast(hash_value), ([], []))
        low, high = _bounds(keys, comparison, [_cast(v) for v in values])
        if start is not None:
            table_attrs = [self.table.hash_key_attr, self.table.range_key_attr]
            from moto.dynamodb.models.dynamo_type import DynamoType

            start_key = tuple(
                _cast(DynamoType(start[attr])) if attr in start else _missing()
                for attr in [range_attr, *filter(None, table_attrs)]
            )
            if forward:
                low = max(low, bisect.bisect_right(keys, start_key))
            else:
                high = min(high, bisect.bisect_left(keys, start_key))
        # Up to `limit` items that meet the condition, then the next item of the partition
        # whichever it is: moto stops there, and gives a LastEvaluatedKey, when the page is full.
        if forward:
            end = min(high, low + limit)
            chosen = range(low, min(end + 1, len(keys)))
        else:
            begin = max(low, high - limit)
            chosen = range(max(begin - 1, 0), high)
        found = [self._item(*items[at]) for at in chosen]
        return [item for item in found if item is not None]


def _missing():
    raise Unsupported


def _bounds(keys: list, comparison: str | None, values: list) -> tuple[int, int]:
    """The run of `keys` whose first element meets the sort key condition."""
    if comparison is None:
        return 0, len(keys)
    comparison = OPERATORS.get(comparison.upper())
    if comparison is None:
        raise Unsupported
    first = values[0]
    if comparison == "BEGINS_WITH":
        if not isinstance(first, str):
            raise Unsupported
        low = bisect.bisect_left(keys, (first,))
        high = low
        while high < len(keys) and keys[high][0].startswith(first):
            high += 1
        return low, high
    below = bisect.bisect_left(keys, (first,))  # the first with a sort key >= first
    above = _after(keys, first)  # the first with a sort key > first
    last = values[-1]
    return {
        "EQ": (below, above),
        "LT": (0, below),
        "LE": (0, above),
        "GT": (above, len(keys)),
        "GE": (below, len(keys)),
        "BETWEEN": (below, _after(keys, last)),
    }[comparison]


def _after(keys: list, value) -> int:
    low, high = bisect.bisect_left(keys, (value,)), len(keys)
    while low < high:  # the first key whose first element is past `value`
        middle = (low + high) // 2
        if keys[middle][0] > value:
            high = middle
        else:
            low = middle + 1
    return low


def index_of(table) -> TableIndex:
    held = _indexes.get(id(table))
    if held is None or held[0]() is not table:
        held = (weakref.ref(table), TableIndex(table))
        _indexes[id(table)] = held
    return held[1]


class _Window:
    """A moto Table whose `all_items` is a window: moto's Query runs on it unchanged."""

    def __init__(self, table, items):
        self._table, self._items = table, items

    def __getattr__(self, name):
        return getattr(self._table, name)

    def all_items(self):
        return list(self._items)


def install() -> None:
    from moto.dynamodb.models.table import Table

    with _installed:
        if getattr(Table.query, "uses_index", False):
            return
        query = Table.query

        def indexed_query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs):
            if serving():
                try:
                    window = _window_for(
                        self, hash_key, range_comparison, range_objs, limit, args, kwargs
                    )
                except (Unsupported, TypeError):
                    window = None
                if window is not None:
                    table = _Window(self, window)
                    return query(
                        table, hash_key, range_comparison, range_objs, limit, *args, **kwargs
                    )
            return query(self, hash_key, range_comparison, range_objs, limit, *args, **kwargs)

        indexed_query.uses_index = True
        Table.query = indexed_query


NAMES = (
    "exclusive_start_key", "scan_index_forward", "projection_expressions", "index_name",
    "consistent_read", "filter_expression",
)  # fmt: skip


def _window_for(table, hash_key, comparison, values, limit, args, kwargs):
    options = dict(zip(NAMES, args, strict=False)) | kwargs
    if set(options) - {*NAMES, "hash_key_conditions", "range_key_conditions"}:
        raise Unsupported  # QueryFilter and the like
    index_name = options.get("index_name")
    if not index_name:  # the table's own partition
        if hash_key is None or not table.range_key_attr:
            raise Unsupported
        return list(table.items.get(hash_key, {}).values())
    conditions = options.get("hash_key_conditions") or []
    ranges = options.get("range_key_conditions") or []
    if len(conditions) != 1 or len(ranges) > 1:
        raise Unsupported
    index = index_of(table)
    if index_name not in index.schemas:
        raise Unsupported
    name, hash_value = conditions[0]
    hash_attr, range_attr = index.schemas[index_name]
    if name != hash_attr or (ranges and ranges[0][0] != range_attr):
        raise Unsupported
    window = index.window(
        index_name, hash_value, comparison, values, limit,
        options.get("exclusive_start_key"), options.get("scan_index_forward", True) is not False,
    )  # fmt: skip
    return _projected(table, index_name, window)


def _projected(table, index_name: str, window: list) -> list:
    """The window's items as the index holds them: moto copies and sizes each item its Query
    returns before it projects it, which for a keys-only index is nearly all its work on a
    page. Projected first, each is copied and sized small; moto's answer is the same unless
    the window's whole items come to its 1 MB page limit (then they are kept whole)."""
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    if sum(item.size() for item in window) >= RESULT_SIZE_LIMIT:
        return window
    index = table.get_index(index_name)
    return [index.project(item) for item in window]


def written(action: str, body: bytes) -> None:
    """After a DynamoDB request ran (under the DynamoDB lock): follow what it wrote."""
    if action in READS or not _indexes:
        return
    try:
        request = json.loads(body)
        keys = list(_keys_of(action, request))
    except Unsupported:
        _indexes.clear()
        return
    except ValueError:
        return  # moto refused it as it refused to parse it: nothing was written
    from moto.dynamodb.models.dynamo_type import DynamoType

    for table_name, key in keys:
        for table_id, (reference, index) in list(_indexes.items()):
            table = reference()
            if table is None or table.name != table_name:
                continue
            hash_value = key.get(table.hash_key_attr)
            range_value = key.get(table.range_key_attr) if table.range_key_attr else None
            if hash_value is None or (table.range_key_attr and range_value is None):
                continue  # moto refused a key without its attributes
            try:
                index.refresh(
                    DynamoType(hash_value), DynamoType(range_value) if range_value else None
                )
            except (Unsupported, TypeError):
                del _indexes[table_id]  # a key this cannot order: moto answers its queries


def _keys_of(action: str, request: dict):
    if action in ("PutItem", "UpdateItem", "DeleteItem"):
        yield request.get("TableName"), request.get("Item") or request.get("Key") or {}
    elif action == "BatchWriteItem":
        for table_name, writes in (request.get("RequestItems") or {}).items():
            for write in writes:
                for operation in write.values():
                    yield table_name, operation.get("Item") or operation.get("Key") or {}
    elif action == "TransactWriteItems":
        for entry in request.get("TransactItems") or []:
            for operation in entry.values():
                key = operation.get("Item") or operation.get("Key") or {}
                yield operation.get("TableName"), key
    else:
        raise Unsupported  # CreateTable, DeleteTable, UpdateTable, PartiQL, ...
