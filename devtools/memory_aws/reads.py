"""Query and Scan on an in-memory table (devtools/memory_aws/tables.py), run under the
engine's lock: a Query reads its page from the partition's sorted keys, O(log n + page).

The key condition comes compiled (expressions.key_condition) with the sort key's test as a
predicate. The items it matches are one run of the partition's order, which begins where
one of the request's values would be inserted (a bound of =, <, <=, >, >=, BETWEEN or
begins_with) or at the partition's start: so the run's start is found by testing those few
places, and its end by bisecting (inside the run the test holds, after it it never does).

Paging is DynamoDB's: Limit counts the items read before the filter, and a page that read
Limit items (or 1 MB) ends with a LastEvaluatedKey, even when no item follows it (as
DynamoDB and dynalite do; moto gives one only when another item follows).
"""

import bisect
import zlib
from decimal import Decimal
from operator import itemgetter

from devtools.memory_aws.errors import validation
from devtools.memory_aws.values import copy_item, key_value

PAGE_BYTES = 1024 * 1024
_FIRST = itemgetter(0)


class Page:
    """A Query's or Scan's page: the items read (in order), and whether it ended full."""

    def __init__(self):
        self.read: list[dict] = []
        self.full = False


def query_page(table, index, condition, request, *, limit, start_key, forward) -> Page:
    operation = "Query"
    hash_name, hash_type = (index or table).hash_name, (index or table).hash_type
    range_name, range_type = (index or table).range_name, (index or table).range_type
    if condition.partition_name != hash_name:
        raise validation(operation, f"Query condition missed key schema element: {hash_name}")
    if condition.sort_name is not None and condition.sort_name != range_name:
        raise validation(
            operation, f"Query condition missed key schema element: {range_name or hash_name}"
        )  # fmt: skip
    partition = _value(condition.partition_value, hash_type, operation)
    if index is None:
        entries = table.partitions.get(partition, [])
        if range_name is None:  # a table of partition keys alone: one item per partition
            entries = [None] if (partition, None) in table.items else []
        sort_key = None

        def key_at(at):
            return partition, entries[at]
    else:
        entries = index.partitions.get(partition, [])
        sort_key = _FIRST if range_name else None

        def key_at(at):
            entry = entries[at]
            return entry[-2], entry[-1]

    low, high = 0, len(entries)
    if condition.sort is not None and entries:
        bounds = getattr(condition, "sort_values", None) or request.values.values()
        low, high = _run(entries, sort_key, condition.sort, range_name, range_type,
                         lambda at: table.items[key_at(at)], bounds)  # fmt: skip
    if start_key is not None:
        start = _start_entry(table, index, start_key, partition, operation)
        if forward:
            low = max(low, bisect.bisect_right(entries, start))
        else:
            high = min(high, bisect.bisect_left(entries, start))
    positions = range(low, high) if forward else range(high - 1, low - 1, -1)
    return _read(table, map(key_at, positions), limit)


def _value(typed, kind: str, operation: str):
    if not isinstance(typed, dict) or kind not in typed:
        raise validation(
            operation, "One or more parameter values were invalid: Condition parameter type "
            "does not match schema type",
        )  # fmt: skip
    return key_value(typed, kind)


def _run(entries, sort_key, test, range_name, range_type, item_at, bounds) -> tuple[int, int]:
    """The run of `entries` whose items pass `test` (on their sort attribute); `bounds`, the
    typed values the test compares with."""

    def passes(at: int) -> bool:
        return test(item_at(at)[range_name])

    places = {0}
    for typed in bounds:
        if range_type in typed:
            bound = key_value(typed, range_type)
            places.add(bisect.bisect_left(entries, bound, key=sort_key))
            places.add(bisect.bisect_right(entries, bound, key=sort_key))
    count = len(entries)
    for low in sorted(places):
        if low < count and passes(low) and (low == 0 or not passes(low - 1)):
            break
    else:
        return 0, 0
    high, end = low + 1, count
    while high < end:  # the first place past the run
        middle = (high + end) // 2
        if passes(middle):
            high = middle + 1
        else:
            end = middle
    return low, high


def _start_key(table, index, start_key, operation) -> tuple:
    """The table key of an ExclusiveStartKey that names exactly the table's keys and the
    index's; refused as DynamoDB refuses any other."""
    names = set(table.key_names) | (set(index.key_names()) if index else set())
    if not isinstance(start_key, dict) or set(start_key) != names:
        raise validation(
            operation, "The provided starting key is invalid: The provided key element does not "
            "match the schema",
        )  # fmt: skip
    return table.key({name: start_key[name] for name in table.key_names}, operation)


def _start_entry(table, index, start_key, partition, operation):
    """Where an ExclusiveStartKey sits in the partition's order."""
    key = _start_key(table, index, start_key, operation)
    if index is None:
        return key[1]
    if index.range_name is None:
        return key
    return (_value(start_key[index.range_name], index.range_type, operation), *key)


def _read(table, keys, limit: int | None) -> Page:
    """The items at `keys` (in order) up to `limit` of them or 1 MB."""
    page, size = Page(), 0
    items, sizes = table.items, table.sizes
    for key in keys:
        if limit is not None and len(page.read) >= limit:
            break
        page.read.append(items[key])
        size += sizes[key]
        if size >= PAGE_BYTES:
            page.full = True
            return page
    page.full = limit is not None and len(page.read) >= limit
    return page


def scan_page(table, index, *, segment, total, limit, start_key) -> Page:
    """A Scan's page: the table's (or index's) items in a fixed order, its segment's only."""
    operation = "Scan"
    if index is None:
        order = sorted(table.items)
        keys = order
    else:
        order = [
            (partition, entry)
            for partition in sorted(index.partitions)
            for entry in index.partitions[partition]
        ]
        keys = [(entry[-2], entry[-1]) for _, entry in order]
    if total is not None:
        chosen = [at for at, key in enumerate(keys) if _segment(key[0], total) == segment]
        order, keys = [order[at] for at in chosen], [keys[at] for at in chosen]
    low = 0
    if start_key is not None:
        key = _start_key(table, index, start_key, operation)
        if index is None:
            low = bisect.bisect_right(order, key)
        else:
            partition = _value(start_key[index.hash_name], index.hash_type, operation)
            entry = key
            if index.range_name is not None:
                entry = (_value(start_key[index.range_name], index.range_type, operation), *key)
            low = bisect.bisect_right(order, (partition, entry))
    return _read(table, keys[low:], limit)


def _segment(partition, total: int) -> int:
    if isinstance(partition, Decimal):
        partition = str(partition.normalize())
    if isinstance(partition, str):
        partition = partition.encode()
    return zlib.crc32(partition) % total


def answer(table, index, page: Page, request, *, filter_test, projection, count_only) -> dict:
    """A Query's or Scan's answer from its page: the items the index holds, filtered and
    projected, copied; Count, ScannedCount and LastEvaluatedKey."""
    items = []
    for item in page.read:
        held = index.project(item) if index is not None else item
        if filter_test is not None and not request.run(filter_test, held):
            continue
        items.append(held)
    result = {}
    if not count_only:
        result["Items"] = [
            copy_item(projection(item) if projection is not None else item) for item in items
        ]  # fmt: skip
    result["Count"] = len(items)
    result["ScannedCount"] = len(page.read)
    if page.full and page.read:
        result["LastEvaluatedKey"] = table.typed_key(page.read[-1], index)
    return result


def index_of(table, name, consistent: bool, operation: str):
    if name is None:
        return None
    index = table.indexes.get(name)
    if index is None:
        raise validation(
            operation, f"The table does not have the specified index: {name}"
        )  # fmt: skip
    if consistent and index.is_global:
        raise validation(
            operation, "Consistent reads are not supported on global secondary indexes"
        )
    return index


def check_page(operation: str, limit, select, projection) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise validation(
            operation, f"1 validation error detected: Value '{limit}' at 'limit' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1",
        )  # fmt: skip
    if select == "COUNT" and projection is not None:
        raise validation(
            operation, "Cannot specify the ProjectionExpression when choosing to get only the Count"
        )  # fmt: skip
