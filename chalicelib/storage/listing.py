"""A list page: the index entries of one or more partitions, merged newest first, then the
messages they name.

An index partition is read in `lk` order with a key condition on the date range, so a page
reads what it returns. A sharded list (the account-wide and From lists of an account with
more than one list shard) merges its shards: each is read a few entries at a time, in
parallel, and refilled only when its next entry might be the next one on the page. The
indexes hold keys and `sent_ms` only, so the page's messages are then read by key, one
BatchGetItem per 100 of them.
"""

import math
import time
from dataclasses import dataclass, field

from chalicelib.storage import client, marshal, schema

BATCH_GET_LIMIT = 100
UNPROCESSED_ATTEMPTS = 5


@dataclass
class Entry:
    """One index entry: the message's list key and its table key."""

    lk: str
    key: dict


@dataclass
class _Partition:
    index: str
    value: str
    low: str
    high: str
    descending: bool
    sent_only: bool
    buffer: list = field(default_factory=list)
    start_key: dict | None = None
    exhausted: bool = False

    def fill(self, limit: int) -> None:
        """Read up to `limit` more entries (fewer only at the end of the range)."""
        hash_name = schema.LIST_INDEXES[self.index]
        request = {
            "IndexName": self.index,
            "KeyConditionExpression": "#h = :h AND #lk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#h": hash_name, "#lk": schema.LIST_SORT_KEY},
            "ExpressionAttributeValues": {
                ":h": {"S": self.value},
                ":low": {"S": self.low},
                ":high": {"S": self.high},
            },
            "ScanIndexForward": not self.descending,
        }
        if self.sent_only:
            # Only unsent (scheduled or queued) messages inside the range are read and
            # dropped: they have no date_sent to match.
            request["FilterExpression"] = "attribute_exists(sent_ms)"
        wanted = len(self.buffer) + limit
        while len(self.buffer) < wanted and not self.exhausted:
            if self.start_key:
                request["ExclusiveStartKey"] = self.start_key
            response = client.call("query", Limit=wanted - len(self.buffer), **request)
            for item in response.get("Items", []):
                self.buffer.append(
                    Entry(item[schema.LIST_SORT_KEY]["S"], {"pk": item["pk"], "sk": item["sk"]})
                )
            self.start_key = response.get("LastEvaluatedKey")
            self.exhausted = self.start_key is None


def page_entries(
    index: str,
    partitions: list[str],
    low: str,
    high: str,
    descending: bool,
    limit: int,
    sent_only: bool,
) -> list[Entry]:
    """Up to `limit` entries with low <= lk <= high across `partitions`, in list order."""
    readers = [_Partition(index, value, low, high, descending, sent_only) for value in partitions]
    if len(readers) == 1:
        readers[0].fill(limit)
        return readers[0].buffer[:limit]
    # A shard holds about limit/n of the page; read twice that, so that few need a refill.
    _fill_all(readers, 2 * math.ceil(limit / len(readers)) + 1)
    entries: list[Entry] = []
    while len(entries) < limit:
        empty = [r for r in readers if not r.buffer and not r.exhausted]
        if empty:
            remaining = limit - len(entries)
            _fill_all(empty, math.ceil(remaining / len(empty)) + 1)
        candidates = [r for r in readers if r.buffer]
        if not candidates:
            break
        pick = max if descending else min
        best = pick(candidates, key=lambda r: r.buffer[0].lk)
        entries.append(best.buffer.pop(0))
    return entries


def _fill_all(readers: list[_Partition], limit: int) -> None:
    if len(readers) == 1:
        readers[0].fill(limit)
        return
    # Imported only by sharded lists, so an unsharded account's cold start never pays.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(readers), 16)) as pool:
        for future in [pool.submit(reader.fill, limit) for reader in readers]:
            future.result()


def fetch_messages(account_sid: str, entries: list[Entry]) -> list[tuple[str, dict]]:
    """(lk, fields) for each entry whose message still exists, in the entries' order.

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
        if item is not None and item.get("account_sid") == account_sid:
            page.append((entry.lk, schema.fields_of(item)))
    return page
