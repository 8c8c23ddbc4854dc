"""A list page: index entries read in list-key order from one or more ranges of partitions,
merged, then the messages they name, checked one by one, until the page is full.

A list is a sequence of Segments, each a range of list keys over some index partitions, in
list order (the DateSent filters read two: chalicelib.messages.listing). Within a segment,
each partition is read in `lk` order; a sharded list (the account-wide and From lists of an
account with more than one list shard) merges its shards: each is read a few entries at a
time, in parallel, and refilled only when its next entry might be the next one. The indexes
hold keys (and a late message's `sent_ms`), so the messages are then read by key, one
BatchGetItem per 100, and each is kept only if the list's own check says so.

What a page reads is bounded: at most ENTRY_BUDGET index entries and ITEM_BUDGET messages
(past them the page ends early, with what it found). A page says where it stopped: the
`resume` key, everything up to which (in the reading direction) has been looked at, which a
PageToken carries so the next page reads on from there and nothing is read twice or skipped.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.storage import client, marshal, schema

BATCH_GET_LIMIT = 100
UNPROCESSED_ATTEMPTS = 5
# Index entries one page may read (Query's ScannedCount, summed) and messages it may fetch:
# a page of the largest size, or the part of a DateSent range where few messages match.
ENTRY_BUDGET = 5_000
ITEM_BUDGET = 2_000
# A Query with a filter reads this many entries at a time (most are expected to be dropped).
FILTERED_READ = 1_000


@dataclass
class Entry:
    """One index entry: the message's list key and its table key."""

    lk: str
    key: dict


@dataclass
class Segment:
    """Index partitions read between `low` and `high` (list keys, inclusive); `sent_range`
    (first, last): read only entries whose projected `sent_ms` is in it, or (unless
    `sent_required`) that have none."""

    index: str
    partitions: list[str]
    low: str
    high: str
    sent_range: tuple[int, int] | None = None
    sent_required: bool = False


@dataclass
class Page:
    rows: list[tuple[str, dict]]  # (lk, fields), in reading order
    more: bool  # something past the page may match
    resume: str | None  # with `more`: read on strictly past this key


@dataclass
class _Budget:
    entries: int = ENTRY_BUDGET
    items: int = ITEM_BUDGET


@dataclass
class _Partition:
    segment: Segment
    value: str
    descending: bool
    budget: _Budget
    buffer: list = field(default_factory=list)
    start_key: dict | None = None
    exhausted: bool = False
    # The furthest key read so far (in the reading direction): everything up to it is seen.
    reached: str | None = None

    def fill(self, limit: int) -> None:
        """Read up to `limit` more entries (fewer at the end of the range, or of the budget)."""
        segment = self.segment
        hash_name = schema.LIST_INDEXES[segment.index]
        request = {
            "IndexName": segment.index,
            "KeyConditionExpression": "#h = :h AND #lk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#h": hash_name, "#lk": schema.LIST_SORT_KEY},
            "ExpressionAttributeValues": {
                ":h": {"S": self.value},
                ":low": {"S": segment.low},
                ":high": {"S": segment.high},
            },
            "ScanIndexForward": not self.descending,
        }
        if segment.sent_range is not None:
            first, last = segment.sent_range
            names, values = (
                request["ExpressionAttributeNames"],
                request["ExpressionAttributeValues"],
            )
            names["#sent"] = schema.LATE_SENT
            values[":first"], values[":last"] = {"N": str(first)}, {"N": str(last)}
            condition = "#sent BETWEEN :first AND :last"
            if not segment.sent_required:
                condition = f"attribute_not_exists(#sent) OR {condition}"
            request["FilterExpression"] = condition
        wanted = len(self.buffer) + limit
        while len(self.buffer) < wanted and not self.exhausted:
            if self.budget.entries <= 0:
                return
            step = wanted - len(self.buffer)
            if segment.sent_range is not None:
                step = max(step, FILTERED_READ)
            if self.start_key:
                request["ExclusiveStartKey"] = self.start_key
            response = client.call("query", Limit=min(step, self.budget.entries), **request)
            self.budget.entries -= response.get("ScannedCount", len(response.get("Items", [])))
            for item in response.get("Items", []):
                lk = item[schema.LIST_SORT_KEY]["S"]
                self.buffer.append(Entry(lk, {"pk": item["pk"], "sk": item["sk"]}))
                self.reached = lk
            self.start_key = response.get("LastEvaluatedKey")
            self.exhausted = self.start_key is None
            if self.start_key:
                self.reached = self.start_key[schema.LIST_SORT_KEY]["S"]


class _Merge:
    """A segment's partitions merged in list order, a few entries at a time."""

    def __init__(self, segment: Segment, descending: bool, budget: _Budget):
        self.descending = descending
        self.readers = [
            _Partition(segment, value, descending, budget) for value in segment.partitions
        ]
        self.started = False

    @property
    def exhausted(self) -> bool:
        return all(r.exhausted and not r.buffer for r in self.readers)

    def _ahead(self, a: str, b: str) -> bool:
        """Whether key `a` comes before key `b` in the reading order."""
        return a > b if self.descending else a < b

    def take(self, count: int) -> tuple[list[Entry], bool, str | None]:
        """(entries, stopped, horizon): up to `count` next entries in order; `stopped` when
        the budget ran out first, and then `horizon`, the key up to which every partition
        has been read (None: a partition has not been read at all)."""
        if not self.started:
            self.started = True
            # A shard holds about count/n of them; read twice that, so few need a refill.
            share = (
                count if len(self.readers) == 1 else 2 * math.ceil(count / len(self.readers)) + 1
            )
            _fill_all(self.readers, share)
        entries: list[Entry] = []
        while len(entries) < count:
            empty = [r for r in self.readers if not r.buffer and not r.exhausted]
            if empty:
                _fill_all(empty, math.ceil((count - len(entries)) / len(empty)) + 1)
                stuck = [r for r in empty if not r.buffer and not r.exhausted]
                if stuck:
                    return entries, True, self._horizon(stuck, entries, count)
            best = self._best()
            if best is None:
                break
            entries.append(best.buffer.pop(0))
        return entries, False, None

    def _horizon(self, stuck: list[_Partition], entries: list[Entry], count: int) -> str | None:
        """Out of budget: the least advanced of the stuck partitions' positions; what is
        still buffered before it is taken into `entries` (it is read already)."""
        if any(reader.reached is None for reader in stuck):
            return None
        horizon = stuck[0].reached
        for reader in stuck[1:]:
            if self._ahead(reader.reached, horizon):
                horizon = reader.reached
        while len(entries) < count:
            best = self._best()
            if best is None or not self._ahead(best.buffer[0].lk, horizon):
                break
            entries.append(best.buffer.pop(0))
        return horizon

    def _best(self) -> "_Partition | None":
        candidates = [r for r in self.readers if r.buffer]
        if not candidates:
            return None
        pick = max if self.descending else min
        return pick(candidates, key=lambda r: r.buffer[0].lk)


def _fill_all(readers: list[_Partition], limit: int) -> None:
    if len(readers) == 1:
        readers[0].fill(limit)
        return
    # Imported only by sharded lists, so an unsharded account's cold start never pays.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(readers), 16)) as pool:
        for future in [pool.submit(reader.fill, limit) for reader in readers]:
            future.result()


def page(
    account_sid: str,
    segments: list[Segment],
    descending: bool,
    limit: int,
    keep: Callable[[dict], bool],
) -> Page:
    """Up to `limit` messages of `segments` (given in list order; read in reverse when not
    `descending`) that `keep` accepts, in reading order; a message deleted since its entry
    was read is left out."""
    budget = _Budget()
    rows: list[tuple[str, dict]] = []
    for segment in segments if descending else segments[::-1]:
        if segment.low > segment.high or not segment.partitions:
            continue
        merge = _Merge(segment, descending, budget)
        # Where this segment's reading stands: before its first key, then its last entry.
        last = _before(segment, descending)
        while not merge.exhausted:
            wanted = min(limit + 1 - len(rows), budget.items)
            if wanted <= 0:
                return Page(rows, True, last)
            entries, stopped, horizon = merge.take(wanted)
            budget.items -= len(entries)
            if entries:
                last = entries[-1].lk
            for entry, fields in fetch_messages(account_sid, entries):
                if keep(fields):
                    rows.append((entry.lk, fields))
            if len(rows) > limit:
                return Page(rows[:limit], True, rows[limit - 1][0])
            if stopped:
                return Page(rows, True, horizon if horizon is not None else last)
            if not entries:
                break
    return Page(rows, False, None)


def _before(segment: Segment, descending: bool) -> str:
    """The key just before the segment's first one, in the reading direction."""
    digits = len(segment.high)
    if descending:
        return f"{min(int(segment.high, 16) + 1, 16**digits - 1):0{digits}x}"
    return f"{max(int(segment.low, 16) - 1, 0):0{digits}x}"


def fetch_messages(account_sid: str, entries: list[Entry]) -> list[tuple[Entry, dict]]:
    """(entry, fields) for each entry whose message still exists, in the entries' order.

    Eventually consistent, as the index the entries came from is: a message deleted since
    the index was read is left out; one changed since is shown as it is now.
    """
    found: dict[tuple[str, str], dict] = {}
    for start in range(0, len(entries), BATCH_GET_LIMIT):
        keys = [entry.key for entry in entries[start : start + BATCH_GET_LIMIT]]
        request = {client.table(): {"Keys": keys}}
        for attempt in range(UNPROCESSED_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            response = client.call("batch_get_item", RequestItems=request)
            for item in response.get("Responses", {}).get(client.table(), []):
                found[(item["pk"]["S"], item["sk"]["S"])] = marshal.from_attrs(item)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            # DynamoDB leaves keys unprocessed when it is short of capacity.
            raise client.Throttled("UnprocessedKeys")
    page = []
    for entry in entries:
        item = found.get((entry.key["pk"]["S"], entry.key["sk"]["S"]))
        # Entries come from the account's own index partitions; the check costs nothing.
        if (
            item is not None
            and item.get("account_sid") == account_sid
            and not schema.is_stand_in(item)
        ):
            page.append((entry, schema.fields_of(item)))
    return page
