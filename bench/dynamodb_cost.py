"""DynamoDB's bill for the requests Herald makes, request by request: item and index-entry
sizes as DynamoDB counts them, the read and write units each request costs per partition key
value (the Ledger, on botocore's public event hooks of storage's client). Shared by
bench/storage_scale.py (per shard layout) and bench/cost.py (per message)."""

import contextlib
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib import storage
from chalicelib.storage import schema

TABLE = "table"


@dataclass(frozen=True)
class Index:
    hash_key: str
    range_key: str | None
    projected: tuple[str, ...] | None  # None: ALL


def index_layout() -> dict[str, Index]:
    """Every global secondary index of the table, from schema's own CreateTable request."""
    layout = {}
    for gsi in storage.table_definition("herald")["GlobalSecondaryIndexes"]:
        keys = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        projection = gsi["Projection"]
        projected = {
            "KEYS_ONLY": (),
            "INCLUDE": tuple(projection.get("NonKeyAttributes", ())),
        }.get(projection["ProjectionType"])
        layout[gsi["IndexName"]] = Index(keys["HASH"], keys.get("RANGE"), projected)
    return layout


INDEXES = index_layout()
TARGETS = (TABLE, *INDEXES)
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


# --- DynamoDB's item size ---------------------------------------------------------------


def number_size(text: str) -> int:
    """A number's stored size: 1 byte per two significant digits, plus 1."""
    mantissa = text.lower().lstrip("+-").split("e")[0].replace(".", "")
    significant = mantissa.strip("0") or "0"
    return 1 + math.ceil(len(significant) / 2)


def value_size(typed: dict) -> int:
    ((kind, raw),) = typed.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    if kind == "SS":
        return sum(len(v.encode()) for v in raw)
    if kind == "NS":
        return sum(number_size(v) for v in raw)
    if kind == "BS":
        return sum(len(v) for v in raw)
    raise TypeError(kind)


def item_size(item: dict | None) -> int:
    """Bytes as DynamoDB counts them: attribute names (UTF-8) plus values; a List or Map
    costs 3 bytes plus 1 per element; a Number 1 byte per two significant digits, plus 1."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def index_entry(item: dict | None, index: str) -> dict | None:
    """The item's entry in a list index (None when the item is not in it): the index keys,
    the table keys and the projected attributes."""
    layout = INDEXES[index]
    if not item or any(k and k not in item for k in (layout.hash_key, layout.range_key)):
        return None  # a sparse index: the item is not in it
    if layout.projected is None:
        return dict(item)
    names = ("pk", "sk", layout.hash_key, layout.range_key, *layout.projected)
    return {name: item[name] for name in names if name and name in item}


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


# --- the ledger: every request, costed per partition key value --------------------------


@dataclass
class Charge:
    at_ms: float
    phase: str
    kind: str  # "W" or "R"
    target: str  # TABLE or an index name
    key: str  # the partition key value
    units: float
    transactional_index: bool = False


@dataclass
class Call:
    phase: str
    operation: str
    items: int  # items (or index entries) the call read or wrote
    units: float


class Ledger:
    """Costs every DynamoDB request made on storage's client, per partition key value.

    Table writes: ceil(size / 1 KB) WCU of the larger of the before and after images (a
    refused conditional write: of the item it saw, at least 1), twice that inside a
    transaction. Index writes, per list index: a new entry 1, a removed entry 1, a changed
    index key (here `lk`) 2 (delete + put), a changed projected attribute 1, anything else
    0; each ceil(entry size / 1 KB). GetItem ceil(size / 4 KB) RCU (at least 1), half when
    eventually consistent; Query ceil(sum of entries read / 4 KB), halved when eventually
    consistent; BatchGetItem ceil(size / 4 KB) per item, halved likewise. Authentication
    reads (the account and API key items) are counted apart: they are modelled instead.
    """

    def __init__(self, client, raw, table: str, now):
        self.raw, self.table, self.now = raw, table, now
        self.shadow: dict[tuple[str, str], dict] = {}
        self.charges: list[Charge] = []
        self.calls: list[Call] = []
        self.auth_reads = 0
        self.refused = 0
        self.phase = "setup"
        self.lock = threading.Lock()
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    @contextlib.contextmanager
    def in_phase(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous

    def _before(self, params, model, context, **_):
        context["scale_params"] = params

    def _after(self, http_response, parsed, model, context, **_):
        params = context.get("scale_params", {})
        ok = http_response.status_code == 200
        with self.lock:
            handler = getattr(self, f"_{model.name}", None)
            if handler is None:
                # DescribeTable, CreateTable, UpdateTimeToLive: table administration.
                return
            handler(params, parsed, ok)

    def _charge(self, kind, target, key, units, transactional_index=False) -> None:
        self.charges.append(
            Charge(self.now.ms, self.phase, kind, target, key, units, transactional_index)
        )

    # -- writes

    def _image_after_update(self, key: tuple[str, str], params, parsed) -> dict | None:
        if params.get("ReturnValues") == "ALL_NEW":
            return parsed.get("Attributes")
        return self._raw_get(key)

    def _raw_get(self, key: tuple[str, str]) -> dict | None:
        response = self.raw.get_item(
            TableName=self.table,
            Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
            ConsistentRead=True,
        )
        return response.get("Item")

    def _write(self, key, before, after, factor=1, transactional=False) -> float:
        """Charge one item's write to the table and the indexes; its table units."""
        units = factor * write_units(max(item_size(before), item_size(after)))
        self._charge("W", TABLE, key[0], units)
        for index, layout in INDEXES.items():
            hash_key, range_key = layout.hash_key, layout.range_key
            old, new = index_entry(before, index), index_entry(after, index)
            if old is None and new is None:
                continue
            moved = (
                old is not None
                and new is not None
                and (
                    old[hash_key] != new[hash_key]
                    or (range_key is not None and old[range_key] != new[range_key])
                )
            )
            if old is not None and (new is None or moved):
                size = write_units(item_size(old))
                self._charge("W", index, old[hash_key]["S"], size, transactional)
            if new is not None and (old is None or moved):
                size = write_units(item_size(new))
                self._charge("W", index, new[hash_key]["S"], size, transactional)
            if old is not None and new is not None and not moved and old != new:
                size = write_units(item_size(new))
                self._charge("W", index, new[hash_key]["S"], size, transactional)
        if after is None:
            self.shadow.pop(key, None)
        else:
            self.shadow[key] = after
        return units

    def _refused_write(self, key, factor=1) -> float:
        self.refused += 1
        units = factor * write_units(item_size(self.shadow.get(key)))
        self._charge("W", TABLE, key[0], units)
        return units

    @staticmethod
    def _key(attrs: dict) -> tuple[str, str]:
        return attrs["pk"]["S"], attrs["sk"]["S"]

    def _PutItem(self, params, parsed, ok):
        key = self._key(params["Item"])
        if ok:
            units = self._write(key, self.shadow.get(key), params["Item"])
        else:
            units = self._refused_write(key)
        self.calls.append(Call(self.phase, "PutItem", 1, units))

    def _UpdateItem(self, params, parsed, ok):
        key = self._key(params["Key"])
        if ok:
            after = self._image_after_update(key, params, parsed)
            units = self._write(key, self.shadow.get(key), after)
        else:
            units = self._refused_write(key)
        self.calls.append(Call(self.phase, "UpdateItem", 1, units))

    def _DeleteItem(self, params, parsed, ok):
        key = self._key(params["Key"])
        units = self._write(key, self.shadow.get(key), None) if ok else self._refused_write(key)
        self.calls.append(Call(self.phase, "DeleteItem", 1, units))

    def _TransactWriteItems(self, params, parsed, ok):
        units = 0.0
        for entry in params["TransactItems"]:
            ((kind, op),) = entry.items()
            key = self._key(op["Item"] if kind == "Put" else op["Key"])
            if not ok:
                units += self._refused_write(key, factor=2)
            elif kind == "Put":
                units += self._write(key, self.shadow.get(key), op["Item"], 2, True)
            elif kind == "Delete":
                units += self._write(key, self.shadow.get(key), None, 2, True)
            elif kind == "Update":
                units += self._write(key, self.shadow.get(key), self._raw_get(key), 2, True)
            else:  # ConditionCheck: charged as a write of the item it checks
                check = 2 * write_units(item_size(self.shadow.get(key)))
                self._charge("W", TABLE, key[0], check)
                units += check
        self.calls.append(
            Call(self.phase, "TransactWriteItems", len(params["TransactItems"]), units)
        )

    def _BatchWriteItem(self, params, parsed, ok):
        units, count = 0.0, 0
        unprocessed = parsed.get("UnprocessedItems") or {}
        for requests in params["RequestItems"].values():
            for request in requests:
                if request in [r for batch in unprocessed.values() for r in batch]:
                    continue
                count += 1
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    units += self._write(self._key(item), self.shadow.get(self._key(item)), item)
                else:
                    key = self._key(request["DeleteRequest"]["Key"])
                    units += self._write(key, self.shadow.get(key), None)
        self.calls.append(Call(self.phase, "BatchWriteItem", count, units))

    # -- reads

    def _GetItem(self, params, parsed, ok):
        key = self._key(params["Key"])
        if key[1] == schema.ACCOUNT_SK or key[1].startswith(schema.KEY_SK_PREFIX):
            self.auth_reads += 1  # modelled: see auth_model()
            return
        item = parsed.get("Item")
        units = read_units(item_size(item), bool(params.get("ConsistentRead")))
        self._charge("R", TABLE, key[0], units)
        self.calls.append(Call(self.phase, "GetItem", 1 if item else 0, units))

    def _Query(self, params, parsed, ok):
        index = params.get("IndexName")
        items = parsed.get("Items", [])
        size = sum(item_size(item) for item in items)
        scanned, count = parsed.get("ScannedCount", len(items)), parsed.get("Count", len(items))
        if count and scanned > count:
            # Entries a FilterExpression dropped are read (and billed) all the same.
            size = size * scanned / count
        units = read_units(size, bool(params.get("ConsistentRead")))
        self._charge("R", index or TABLE, self._hash_value(params, index), units)
        self.calls.append(Call(self.phase, "Query", len(items), units))

    @staticmethod
    def _hash_value(params, index) -> str:
        hash_key = INDEXES[index].hash_key if index else "pk"
        names = params.get("ExpressionAttributeNames", {})
        values = params.get("ExpressionAttributeValues", {})
        for name, placeholder in re.findall(
            r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]
        ):
            if names.get(name, name) == hash_key:
                return values[placeholder]["S"]
        raise ValueError(f"no hash key condition in {params['KeyConditionExpression']}")

    def _BatchGetItem(self, params, parsed, ok):
        units, count = 0.0, 0
        for table, items in parsed.get("Responses", {}).items():
            consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
            for item in items:
                each = read_units(item_size(item), consistent)
                self._charge("R", TABLE, item["pk"]["S"], each)
                units += each
                count += 1
        self.calls.append(Call(self.phase, "BatchGetItem", count, units))
