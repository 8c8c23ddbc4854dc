"""The hot-key benchmark: what one busy account does to DynamoDB's partitions.

    .venv/bin/python -m bench.storage_scale [--messages 1000] [--list-messages 5000]
    .venv/bin/python bench/storage_scale.py        (the same)

Printed figures, not a test, as Markdown. For each list shard count N in (1, 8, 32, 64), on
a fresh moto table (in process, fake credentials: nothing reaches AWS) and a fresh account
whose shard count is raised with `admin.set_list_shards` (the clock then moved past the
moment writers use it):

1. M messages are created through `chalicelib.messages.create`, from one sender
   (+15005550006: a high-volume sender uses one number or short code) to 1,000 handsets,
   every other one with an Idempotency-Key, at 10,000 a second (creation times 0.1 ms
   apart on the patched `chalicelib.runtime.clock.now_ms`). Each then goes through delivery as
   chalicelib.delivery does it, through its own code (every status change is a
   `chalicelib.messages.transition`): the worker (`worker.send_one`) reads and claims it
   (SENDING) after 50 ms, a bench carrier takes it at 1 s and the worker records SENT
   (its date_sent, which no index projects: list keys never move); the carrier's receipts
   (`receipts.apply_job`) arrive as the sandbox carrier times them, at once (sent: a
   duplicate, read and dropped) and 1 s later (DELIVERED, with its price; the 1 s is
   HERALD_SANDBOX_DELAY_SECONDS's default); each status change's StatusCallback attempt is
   answered 200 100 ms after it, and recorded only where the stage records every attempt
   (End User Messaging stages record the failed ones: HERALD_RECORD_ATTEMPTS=failures, as
   here). One account-wide list
   page (the default PageSize, 50) is read for every 100 messages created. Events run in
   time order.
2. Every DynamoDB request on storage's client is seen on botocore's event hooks
   (`before-parameter-build` for its parameters, `after-call` for its answer) and costed
   with DynamoDB's documented accounting, per partition key value, on the table and on
   each global secondary index (see `Ledger`). A shadow of every item (from the writes'
   own images, or a raw GetItem on a second, unhooked client) gives the before and after
   images an index write depends on.
3. The per-message figures are scaled to 10,000 messages a second. Shards are chosen from
   the Sid's random digits, so the hottest of N shards carries more than 1/N: the busiest
   1 s window is taken from 60 simulated seconds of real Sids (`sids.message_sid`,
   `schema.shard_of`), each message putting its measured index writes on its own shard at
   the measured moments of its life.

Then a list page's calls and units on an account of --list-messages messages, at N = 1,
32 and 64. The authentication reads of the account item are modelled, not counted: auth
caches them per container for `credentials.CACHE_SECONDS`.
"""

import argparse
import contextlib
import math
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent

from bench.harness import offline  # noqa: E402

# Before anything imports boto3.
offline("herald-scale", HERALD_RECORD_ATTEMPTS="failures")

import admin  # noqa: E402
from bench.dynamodb_cost import (  # noqa: E402
    INDEXES,
    TABLE,
    TARGETS,
    Call,
    Charge,
    Ledger,
    index_entry,
    item_size,
    read_units,
)
from chalicelib import messages, storage  # noqa: E402
from chalicelib.accounts import credentials  # noqa: E402
from chalicelib.messages import Status, checks  # noqa: E402
from chalicelib.messages.params import new_message  # noqa: E402
from chalicelib.runtime import clock  # noqa: E402
from chalicelib.storage import marshal, schema  # noqa: E402
from chalicelib.twilio import sids  # noqa: E402

COMMAND = ".venv/bin/python -m bench.storage_scale"
SHARD_COUNTS = (1, 8, 16, 32, 64)
# The list-page figures: one shard, the 16 an account at 10,000 messages a second needs, 64.
LIST_SHARD_COUNTS = (1, 16, 64)
RATE = 10_000  # new messages a second
SPACING_MS = 1000 / RATE  # 0.1 ms between creations
LIST_EVERY = 100  # one list page per this many messages created
FROM = "+15005550006"
HANDSETS = 1_000
DEFAULT_BODY = "Your Herald verification code is 482913. It expires in 10 minutes."
BODY = DEFAULT_BODY  # --body-chars replaces it
STATUS_CALLBACK = "https://hooks.example.com/sms/status"
# DynamoDB's per-partition limits.
WCU_LIMIT = 1_000
RCU_LIMIT = 3_000
# Warm containers that read the account item (auth's cache, per container, CACHE_SECONDS):
# the API's, the sender's (its senders) and the callbacks' (its AuthToken), at 10,000
# messages a second about 250 + 270 + 430 (bench/cost's modelled durations x invocations).
CONTAINERS = 1_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
# What happens to each message, in ms after its creation, as chalicelib.delivery does it:
# the worker reads it and claims it (SENDING), the carrier takes it and the worker records
# SENT (with its date_sent; the list key stays), the carrier's two receipts arrive
# (TEXT_SUCCESSFUL: a duplicate "sent", read and dropped; TEXT_DELIVERED: DELIVERED with
# its price), and each status change's StatusCallback attempt is recorded with the message.
LIFECYCLE = (
    ("create", 0.0),
    ("claim", 50.0),
    ("callback sending", 100.0),
    ("sent", 1000.0),
    # The sandbox carrier's receipts: at once, then HERALD_SANDBOX_DELAY_SECONDS (1) later.
    ("receipt sent", 1050.0),
    ("callback sent", 1100.0),
    ("receipt delivered", 2050.0),
    ("callback delivered", 2150.0),
)
SIMULATED_SECONDS = 60
BIN_MS = 50  # the simulation's time step; every LIFECYCLE offset is a multiple of it


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class SimClock:
    """The patched `chalicelib.runtime.clock.now_ms`: simulated time, to a tenth of a
    millisecond."""

    def __init__(self, start_ms: float):
        self.ms = start_ms

    def now_ms(self) -> int:
        return int(self.ms)


@contextlib.contextmanager
def fresh_dynamodb(sim: SimClock) -> Iterator[Ledger]:
    """A new moto DynamoDB and table, with a ledger on storage's client."""
    import boto3
    from moto import mock_aws

    from chalicelib.storage import tokens
    from devtools import local_aws

    with mock_aws(), faster_moto_transactions():
        storage.reset()
        credentials.forget()
        storage.ensure_table()
        # The accounts' AuthTokens are encrypted for signing: no account is made without.
        tokens.reset()
        os.environ["HERALD_KMS_KEY_ID"] = local_aws.signing_key(None)
        raw = boto3.client("dynamodb", region_name="us-east-1")
        ledger = Ledger(storage.client.client(), raw, storage.client.table(), sim)
        yield ledger
    storage.reset()
    credentials.forget()


@contextlib.contextmanager
def faster_moto_transactions() -> Iterator[None]:
    """moto backs up the whole table (copy.deepcopy) before every TransactWriteItems, so a
    transaction costs time in proportion to the table. This keeps the table itself as the
    "backup" instead: nothing changes for a transaction that succeeds, and the bench stops
    at any that fails (a cancelled one would not be rolled back)."""
    import copy

    from moto.dynamodb import models

    class _NoBackup:
        @staticmethod
        def deepcopy(value, memo=None):
            return value

    models.copy = _NoBackup
    try:
        yield
    finally:
        models.copy = copy


# --- one shard count: the lifecycle run -------------------------------------------------


def body() -> str:
    return BODY


def handsets() -> list[str]:
    return [f"+1415555{n:04d}" for n in range(HANDSETS)]


def new_account(sim: SimClock, shards: int) -> str:
    account_sid = admin.create_account()["account_sid"]
    if shards != schema.DEFAULT_LIST_SHARDS:
        result = admin.set_list_shards(account_sid, shards)
        sim.ms = max(sim.ms, result["new_messages_use_it_from_ms"] + 1)
    credentials.forget()
    return account_sid


@dataclass
class Run:
    shards: int
    messages: int
    pages: int
    seconds: float
    charges: list[Charge]
    calls: list[Call]
    auth_reads: int
    refused: int
    account_sid: str
    account_item_size: int
    sizes: dict = field(default_factory=dict)


def lifecycle_run(shards: int, count: int) -> Run:
    import heapq
    import itertools

    sim = SimClock(START_MS)
    clock.now_ms = sim.now_ms
    started = time.perf_counter()
    with fresh_dynamodb(sim) as ledger, bench_carrier(sim, ledger) as carrier:
        account_sid = new_account(sim, shards)
        numbers = handsets()
        begin = sim.ms = math.ceil(sim.ms) + 1000
        order = itertools.count()
        queue: list[tuple[float, int, str, int]] = []
        for i in range(count):
            heapq.heappush(queue, (begin + i * SPACING_MS, next(order), "create", i))
        made: dict[int, messages.Message] = {}
        pages = 0
        while queue:
            at, _, step, i = heapq.heappop(queue)
            sim.ms = at
            with ledger.in_phase(step):
                if step == "create":
                    params = {
                        "To": [numbers[i % HANDSETS]],
                        "From": [FROM],
                        "Body": [body()],
                        "StatusCallback": [STATUS_CALLBACK],
                    }
                    key = f"order-{shards}-{i}" if i % 2 else None
                    made[i] = messages.create(account_sid, params, key).message
                    for later, offset in LIFECYCLE[1:]:
                        if later != "sent":  # the worker's claim step records it
                            heapq.heappush(queue, (at + offset, next(order), later, i))
                else:
                    deliver(step, made[i], carrier)
            if step == "create" and (i + 1) % LIST_EVERY == 0:
                with ledger.in_phase("list"):
                    page = messages.list_page(account_sid, {})
                assert len(page["messages"]) == min(50, i + 1), len(page["messages"])
                pages += 1
            if step == LIFECYCLE[-1][0] and (i + 1) % 250 == 0:
                log(f"  N={shards}: {i + 1:,} of {count:,} messages through their lifecycle")
        if ledger.refused:
            raise RuntimeError(f"{ledger.refused} writes were refused: the run is not clean")
        statuses = {ledger.shadow[(m.account_sid + "#" + m.sid, schema.MESSAGE_SK)]["status"]["S"]
                    for m in made.values()}  # fmt: skip
        if statuses != {Status.DELIVERED.value}:
            raise RuntimeError(f"messages ended {statuses}, not all delivered")
        sizes = message_sizes(ledger)
        account_item_size = item_size(ledger._raw_get((account_sid, schema.ACCOUNT_SK)))
    return Run(
        shards,
        count,
        pages,
        time.perf_counter() - started,
        ledger.charges,
        ledger.calls,
        ledger.auth_reads,
        ledger.refused,
        account_sid,
        account_item_size,
        sizes,
    )


class BenchCarrier:
    """The carrier the worker hands messages to: it takes each one about 1 s after its
    creation (the clock moves there, so the worker records SENT then) and answers with a
    carrier id, as the sandbox carrier does, without queueing receipts (the bench plays
    them at their moments)."""

    name = "bench"

    def __init__(self, sim: SimClock, ledger: Ledger):
        self.sim, self.ledger = sim, ledger
        self.carrier_ids: dict[str, str] = {}

    def refuse_at_create(self, to, from_):
        return None

    def handoff_seconds(self, message) -> float:
        return 2.0  # as the sandbox's: the worker claims only with this much time left

    def send(self, message):
        import secrets

        from chalicelib.carriers.base import Accepted

        self.sim.ms = message.created_ms + dict(LIFECYCLE)["sent"]
        self.ledger.phase = "sent"
        carrier_id = "sandbox-" + secrets.token_hex(16)
        self.carrier_ids[message.sid] = carrier_id
        return Accepted(carrier_id)


@contextlib.contextmanager
def bench_carrier(sim: SimClock, ledger: Ledger) -> Iterator[BenchCarrier]:
    from chalicelib import carriers

    carrier = BenchCarrier(sim, ledger)
    real = carriers.current
    carriers.current = lambda: carrier
    try:
        yield carrier
    finally:
        carriers.current = real


def deliver(step: str, message: messages.Message, carrier: BenchCarrier) -> None:
    """One step of a message's delivery, through chalicelib.delivery's own code where it
    touches DynamoDB (the status callback's HTTP POST is left out: only its record)."""
    from chalicelib.carriers import events as carrier_events
    from chalicelib.delivery import receipts, worker
    from chalicelib.jobs.batch import Job
    from chalicelib.storage import events as message_events

    account_sid, sid = message.account_sid, message.sid
    if step == "claim":
        # The send job the dispatcher queued from the create's stream record.
        worker.send_one(Job({"kind": "send", "account_sid": account_sid, "sid": sid}, "", "", 1))
    elif step.startswith("receipt "):
        event_type = "TEXT_SUCCESSFUL" if step == "receipt sent" else "TEXT_DELIVERED"
        price = 0.0079 * message.num_segments if event_type == "TEXT_DELIVERED" else None
        carrier_id = carrier.carrier_ids[sid]
        body = carrier_events.event(
            event_type, account_sid, sid, carrier_id, clock.now_ms(), message.to,
            message.from_, price=price,
        )  # fmt: skip
        receipts.apply_job(Job(body, "", "", 1))
    elif step.startswith("callback "):
        from chalicelib.runtime import config

        if not config.delivery().record_every_attempt:
            return  # answered 200: recorded only where every attempt is (the sandbox's)
        # What chalicelib.delivery.callbacks records of a successful first attempt.
        entry = {"kind": "status-callback", "status": step.removeprefix("callback "),
                 "url": STATUS_CALLBACK, "attempt": 1, "answer": 200, "error": None,
                 "latency_ms": 87, "signed": True}  # fmt: skip
        message_events.record(account_sid, sid, entry)
    else:
        raise ValueError(step)


def message_sizes(ledger: Ledger) -> dict:
    """The sizes of the stored items, to print next to the costs."""
    kinds: dict[str, list[int]] = defaultdict(list)
    for (pk, _), item in ledger.shadow.items():
        if pk.startswith(schema.IDEMPOTENCY_PK_PREFIX):
            kinds["idempotency record"].append(item_size(item))
        elif item.get("sk", {}).get("S", "").startswith("event#"):
            kinds["status callback record"].append(item_size(item))
        elif "#" in pk:
            kinds["message (delivered)"].append(item_size(item))
            for index in INDEXES:
                entry = index_entry(item, index)
                if entry:
                    kinds[f"{index} entry"].append(item_size(entry))
    return {kind: statistics.mean(values) for kind, values in kinds.items()}


# --- figures from one run ---------------------------------------------------------------

ACCOUNT_PATTERN = re.compile(r"AC[0-9a-f]{32}")


def pattern(key: str) -> str:
    """A key value with its account, Sid and digests elided: its shape."""
    key = ACCOUNT_PATTERN.sub("AC…", key)
    key = re.sub(r"(SM|MM)[0-9a-f]{32}", "SM…", key)
    key = re.sub(r"idem#[0-9a-f]{64}", "idem#…", key)
    # A Markdown table cell: its pipes escaped (GitHub splits cells on them, even in code).
    return key.replace("|", "\\|")


MESSAGE_PARTITION = re.compile(r"AC[0-9a-f]{32}#(SM|MM)[0-9a-f]{32}|idem#[0-9a-f]{64}")


OWNER_PREFIX = "number#"  # a number's owner item, read by the From check (owner_model)


def per_message_key(target: str, key: str) -> bool:
    """Keys that belong to one message (its own partition, its idempotency record): their
    load does not grow with the account's rate. A number's owner item (`number#…`), read on
    every create from it, is shared: it was counted as one message's own before."""
    return target == TABLE and MESSAGE_PARTITION.fullmatch(key) is not None


def busiest_second(times_units: list[tuple[float, float]]) -> float:
    """The most units any 1 s window holds."""
    events = sorted(times_units)
    best, total, start = 0.0, 0.0, 0
    for end in range(len(events)):
        total += events[end][1]
        while events[end][0] - events[start][0] >= 1000:
            total -= events[start][1]
            start += 1
        best = max(best, total)
    return best


@dataclass
class Hottest:
    target: str
    kind: str
    key: str
    per_second: float  # at RATE messages a second
    basis: str
    mean_per_second: float | None = None
    per_message: float = 0.0  # units on this key per account message (rate-driven keys)


def hottest_keys(run: Run, windows: dict) -> list[Hottest]:
    """Per target and kind, the key with the most load at RATE messages a second."""
    out = []
    for target in TARGETS:
        for kind in ("W", "R"):
            charges = [
                c
                for c in run.charges
                if c.target == target and c.kind == kind and c.phase != "setup"
            ]
            if not charges:
                out.append(Hottest(target, kind, "-", 0.0, "none"))
                continue
            shared: dict[str, float] = defaultdict(float)
            own: dict[str, list] = defaultdict(list)
            for c in charges:
                if target == TABLE and c.key.startswith(OWNER_PREFIX):
                    continue  # modelled: owner_model
                if per_message_key(target, c.key):
                    own[c.key].append((c.at_ms, c.units))
                else:
                    shared[c.key] += c.units
            best = Hottest(target, kind, "-", 0.0, "none")
            if shared:
                key, units = max(shared.items(), key=lambda pair: pair[1])
                per_message = units / run.messages
                best = Hottest(
                    target,
                    kind,
                    key,
                    per_message * RATE,
                    "units per message x rate",
                    per_message=per_message,
                )
                if kind == "W" and target in schema.SHARDED_INDEXES:
                    # The sample's hottest shard, at the simulated busiest window's load.
                    window = windows[target]
                    best.per_second, best.mean_per_second = window["max"], window["mean"]
                    best.per_message = window["max"] / RATE
                    best.basis = f"busiest 1 s of {SIMULATED_SECONDS} s simulated"
            for key, events in own.items():
                rate = busiest_second(events)
                if rate > best.per_second:
                    best = Hottest(target, kind, key, rate, "busiest 1 s of its own life")
            out.append(best)
    return out


def units_per_message(run: Run) -> dict[str, float]:
    """WCU a message's whole life costs, on the table and each index."""
    totals = dict.fromkeys(TARGETS, 0.0)
    for c in run.charges:
        if c.kind == "W" and c.phase not in ("setup", "list"):
            totals[c.target] += c.units
    return {target: units / run.messages for target, units in totals.items()}


def transactional_index_writes(run: Run) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for c in run.charges:
        if c.transactional_index:
            totals[c.target] += c.units
    return {target: units / run.messages for target, units in totals.items()}


def per_phase_units(run: Run, target: str) -> dict[str, float]:
    """Index write units per message in each phase of its life (on its own shard)."""
    totals: dict[str, float] = defaultdict(float)
    for c in run.charges:
        if c.kind == "W" and c.target == target:
            totals[c.phase] += c.units
    return {phase: totals.get(phase, 0.0) / run.messages for phase, _ in LIFECYCLE}


def list_page_units(run: Run) -> dict:
    calls = [c for c in run.calls if c.phase == "list"]
    by_op: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        by_op[c.operation].append(c)
    pages = max(run.pages, 1)
    return {
        "queries": len(by_op["Query"]) / pages,
        "batches": len(by_op["BatchGetItem"]) / pages,
        "query_rcu": sum(c.units for c in by_op["Query"]) / pages,
        "batch_rcu": sum(c.units for c in by_op["BatchGetItem"]) / pages,
    }


# --- the shard simulation: the busiest 1 s window ---------------------------------------


def sid_stream(seconds: int) -> list[str]:
    """Real Sids for `seconds` of RATE messages a second."""
    return [sids.message_sid(int(START_MS + i * SPACING_MS)) for i in range(seconds * RATE)]


def shard_windows(stream: list[str], shards: int, phase_units: dict[str, float]) -> dict:
    """The hottest shard's load over the 1 s windows of the simulated stream, each message
    putting its measured per-phase units on its own shard at that phase's moment."""
    bins = SIMULATED_SECONDS * 1000 // BIN_MS
    per_window = 1000 // BIN_MS
    messages_per_bin = BIN_MS / SPACING_MS
    counts = [[0] * bins for _ in range(shards)]
    for i, sid in enumerate(stream):
        counts[schema.shard_of(sid, shards)][int(i / messages_per_bin)] += 1
    offsets = [(phase_units[phase], int(offset // BIN_MS)) for phase, offset in LIFECYCLE]
    # Windows start once every phase of the stream is under way (steady state).
    first = max(offset for _, offset in offsets)
    starts = range(first, bins - per_window + 1)
    hottest_per_window = [0.0] * len(starts)
    seconds = []  # every shard's load in every whole second, for the spread
    for shard in range(shards):
        prefix = [0.0]
        for b in range(bins):
            load = sum(u * counts[shard][b - off] for u, off in offsets if b >= off)
            prefix.append(prefix[-1] + load)
        for n, start in enumerate(starts):
            window = prefix[start + per_window] - prefix[start]
            hottest_per_window[n] = max(hottest_per_window[n], window)
            if n % per_window == 0:
                seconds.append(window)
    mean = sum(phase_units.values()) * RATE / shards
    spread = statistics.pstdev(seconds)
    # How far the partition limit is above a shard's mean, in standard deviations, and (by
    # the normal approximation) how often some shard's second goes over it.
    no_spread = math.inf if mean <= WCU_LIMIT else -math.inf
    z = (WCU_LIMIT - mean) / spread if spread else no_spread
    over = 0.5 * math.erfc(z / math.sqrt(2))
    return {
        "max": max(hottest_per_window),
        # Whole seconds, not overlapping, for the typical window.
        "median": statistics.median(hottest_per_window[::per_window]),
        "mean": mean,
        "sd": spread,
        "z": z,
        "every_s": 1 / (over * shards) if over > 0 else math.inf,
    }


# --- list pages on a big account --------------------------------------------------------


def bulk_load(ledger: Ledger, sim: SimClock, account_sid: str, shards: int, count: int) -> None:
    """`count` delivered messages, made as a create makes them, written with BatchWriteItem
    on the raw client (not costed: they are the account's history)."""
    numbers = handsets()
    batch = []
    for i in range(count):
        sim.ms = START_MS + 10_000 + i * SPACING_MS
        params = {"To": [numbers[i % HANDSETS]], "From": [FROM], "Body": [body()],
                  "StatusCallback": [STATUS_CALLBACK]}  # fmt: skip
        fields = new_message(account_sid, params).to_fields()
        fields.update(status=Status.DELIVERED.value, sent_ms=fields["created_ms"] + 1000,
                      price="-0.00790")  # fmt: skip
        item = marshal.to_attrs(schema.message_item(fields, schema.shard_of(fields["sid"], shards)))
        ledger.shadow[Ledger._key(item)] = item
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25 or i == count - 1:
            pending = {ledger.table: batch}
            while pending:
                pending = ledger.raw.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            batch = []


def list_costs(shards: int, count: int) -> list[dict]:
    sim = SimClock(START_MS)
    clock.now_ms = sim.now_ms
    rows = []
    with fresh_dynamodb(sim) as ledger:
        account_sid = new_account(sim, shards)
        bulk_load(ledger, sim, account_sid, shards, count)
        sim.ms += 60_000
        first = messages.list_page(account_sid, {})
        token = parse_qs(urlparse(first["next_page_uri"]).query)["PageToken"][0]
        cases = [
            ("first page, no filter", {}),
            ("next page (PageToken)", {"PageToken": [token], "Page": ["1"]}),
            ("first page, From filter", {"From": [FROM]}),
            ("first page, To filter", {"To": [handsets()[7]]}),
        ]
        for label, params in cases:
            ledger.calls.clear()
            with ledger.in_phase("page"):
                page = messages.list_page(account_sid, params)
            calls = [c for c in ledger.calls if c.phase == "page"]
            queries = [c for c in calls if c.operation == "Query"]
            batches = [c for c in calls if c.operation == "BatchGetItem"]
            rows.append(
                {
                    "shards": shards,
                    "page": label,
                    "returned": len(page["messages"]),
                    "queries": len(queries),
                    "batches": len(batches),
                    "entries": sum(c.items for c in queries),
                    "items": sum(c.items for c in batches),
                    "query_rcu": sum(c.units for c in queries),
                    "batch_rcu": sum(c.units for c in batches),
                    "other": len(calls) - len(queries) - len(batches),
                }
            )
    return rows


# --- output -----------------------------------------------------------------------------


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def one_kb_note(sizes: dict) -> str:
    size = sizes["message (delivered)"]
    if size <= 1024:
        return (
            f"The delivered message item is {1024 - size:.0f} bytes under 1 KB: a Body that "
            "many characters longer makes its last status writes 2 WCU instead of 1."
        )
    return (
        f"The delivered message item is {size - 1024:.0f} bytes over 1 KB: the status "
        "writes whose item is over 1 KB cost 2 WCU each."
    )


def z_cell(z: float) -> str:
    if z < 0:
        return "the mean is over it"
    return "-" if math.isinf(z) else f"z = {z:.1f}"


def every(seconds: float) -> str:
    """How often, in words: 'every 0.6 s', 'every 3 days', 'never (…)'."""
    if math.isinf(seconds) or seconds > 1e4 * 365 * 86400:
        return "never (normal approx.)"
    if seconds < 0.05:
        return "always"
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("min", 60)):
        if seconds >= size:
            return f"every {seconds / size:.3g} {unit}"
    return f"every {seconds:.2g} s"


def num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def auth_model(account_item_size: int) -> tuple[float, str]:
    reads_per_second = CONTAINERS / credentials.CACHE_SECONDS
    units = read_units(account_item_size, consistent=True)
    return reads_per_second * units, (
        f"Account item reads are modelled, not counted: each warm container (the API's, "
        f"the sender's, the callbacks') reads the "
        f"account item (strongly consistent, {account_item_size} bytes → {units:g} RCU) once "
        f"per credentials.CACHE_SECONDS = {credentials.CACHE_SECONDS:g} s; with {CONTAINERS} warm "
        f"containers "
        f"that is {CONTAINERS} / {credentials.CACHE_SECONDS:g} = {reads_per_second:.1f} reads/s "
        f"({reads_per_second * units:.1f} RCU/s) on the key `AC…` (the account item's "
        f"partition), at 10,000 messages a second (bench/cost's durations give about "
        f"{CONTAINERS:,} warm containers); even the account's whole Lambda concurrency, "
        f"10,000 once raised, would read it 333 times a second, 11% of a partition's "
        f"3,000 RCU/s. API-key credentials add one such read per key and container."
    )


def owner_model() -> tuple[float, str]:
    """The From check's reads of the sender's owner item: kept per container, so counted
    over a run of a few messages they would say one read per run, not per second."""
    units = read_units(100, consistent=True)  # a small item: the minimum read
    reads_per_second = CONTAINERS / checks.SENDABLE_SECONDS
    flagged_rate = RCU_LIMIT / units
    return reads_per_second * units, (
        f"Owner item reads are modelled too: the From check reads the sender's "
        f"`number#…` item (strongly consistent, {units:g} RCU) and, without "
        f"HERALD_REQUIRE_REGISTERED_FROM, each warm container keeps a yes for "
        f"checks.SENDABLE_SECONDS = {checks.SENDABLE_SECONDS:g} s: {CONTAINERS} / "
        f"{checks.SENDABLE_SECONDS:g} = {reads_per_second:.1f} reads/s on one sender's key. "
        f"With the flag nothing is kept: one read per message, {RATE * units:,.0f} RCU/s at "
        f"{RATE:,} messages/s, so one sender number holds {flagged_rate:,.0f} messages a "
        f"second (an account's other numbers and its Messaging Services' pools have keys of "
        f"their own)."
    )


def report(runs: list[Run], windows: dict, list_rows: list[dict], elapsed: float,
           command: str, list_count: int) -> str:  # fmt: skip
    import boto3
    import moto

    auth_rcu, auth_note = auth_model(runs[0].account_item_size)
    owner_rcu, owner_note = owner_model()
    out = [
        "### Hot keys at 10,000 messages a second",
        "",
        f"Command: `{command}`. Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, boto3 {boto3.__version__}, moto "
        f"{moto.__version__} (in process); whole run {elapsed:.0f} s. M = "
        f"{runs[0].messages:,} messages per shard count (each created, sent and delivered), "
        f"{runs[0].pages} list pages (PageSize 50, account-wide) per shard count; the busiest "
        f"1 s window from {SIMULATED_SECONDS} s of simulated Sids "
        f"({SIMULATED_SECONDS * RATE:,} messages).",
        "",
        f"Workload: one account, one sender ({FROM}), {HANDSETS:,} handsets, "
        f"{RATE:,} new messages/s (creation times {SPACING_MS:g} ms apart), half of them "
        "with an Idempotency-Key, all with a StatusCallback; each message goes through "
        "chalicelib.delivery's worker (read, claim to SENDING at +50 ms, SENT with "
        "its date_sent at +1 s, which writes no index entry), its carrier receipts (+1.05 s "
        "sent: read, no "
        "change; +2.05 s DELIVERED with a price) and a recorded status callback 100 ms after "
        f"each status change; one account-wide list page per {LIST_EVERY} messages created "
        f"({RATE // LIST_EVERY} pages/s).",
        "",
        "Run time per shard count: "
        + ", ".join(f"N = {r.shards}: {r.seconds:.0f} s" for r in runs)
        + ".",
        "",
        "**Hottest partition key per shard count, at 10,000 messages/s** (WCU/s and RCU/s "
        "on one partition key value; DynamoDB's per-partition limits are 1,000 WCU/s and "
        "3,000 RCU/s):",
        "",
    ]
    header = ["N", "where", "hottest write key", "WCU/s", "hottest read key", "RCU/s"]
    rows = []
    summary = []
    for run in runs:
        hot = hottest_keys(run, windows[run.shards])
        by = {(h.target, h.kind): h for h in hot}
        worst_w = max((h for h in hot if h.kind == "W"), key=lambda h: h.per_second)
        worst_r = max((h for h in hot if h.kind == "R"), key=lambda h: h.per_second)
        for target in TARGETS:
            w, r = by[(target, "W")], by[(target, "R")]
            r_rate, r_key = r.per_second, pattern(r.key)
            if target == TABLE and max(auth_rcu, owner_rcu) > r_rate:
                r_rate, r_key = max(
                    (auth_rcu, "`AC…` (account item, modelled)"),
                    (owner_rcu, "`number#…` (owner item, modelled)"),
                )
            elif r.key != "-":
                r_key = f"`{r_key}`"
            w_key = f"`{pattern(w.key)}`" if w.key != "-" else "-"
            w_cell = num(w.per_second)
            if w.mean_per_second is not None:
                w_cell += f" (mean per shard {num(w.mean_per_second)})"
            rows.append([run.shards, target, w_key, w_cell, r_key, num(r_rate, 1)])
        # The sustainable rate: where the first rate-driven key reaches a limit.
        limits = []
        for h in hot:
            if h.per_message > 0:
                limit = WCU_LIMIT if h.kind == "W" else RCU_LIMIT
                limits.append((limit / h.per_message, h))
        rate, limiting = min(limits, key=lambda x: x[0])
        summary.append((run, worst_w, worst_r, rate, limiting))
    out += [table(header, rows), ""]
    out += [
        "The sharded indexes' write figure is the hottest shard in the busiest 1 s window of "
        f"{SIMULATED_SECONDS} simulated seconds (real Sids, the measured writes per message "
        "at the measured moments); the mean per shard is what an even spread would give. "
        "Other shared keys: units per message in the sample x 10,000/s. A message's own "
        "partition (`AC…#SM…`): the busiest 1 s of "
        "that key's own life, which does not grow with the rate.",
        "",
        "**Sustainable rate per account** (the message rate at which the first key reaches "
        "1,000 WCU/s or 3,000 RCU/s, scaled linearly from the figures above):",
        "",
    ]
    header = ["N", "hottest key at 10,000/s", "WCU/s", "RCU/s (hottest read key)",
              "sustainable messages/s", "limited by", "within limits at 10,000/s?"]  # fmt: skip
    rows = []
    for run, worst_w, worst_r, rate, limiting in summary:
        read_rate = max(worst_r.per_second, auth_rcu, owner_rcu)
        ok = worst_w.per_second <= WCU_LIMIT and read_rate <= RCU_LIMIT
        rows.append(
            [
                run.shards,
                f"`{worst_w.target} {pattern(worst_w.key)}`",
                num(worst_w.per_second),
                num(read_rate, 1),
                f"{round(rate, -2 if rate >= 1000 else -1):,.0f}",
                f"{limiting.target} {'writes' if limiting.kind == 'W' else 'reads'}",
                "yes" if ok else "**no**",
            ]
        )
    out += [table(header, rows), ""]

    out += [
        "**Shard spread in the busiest window** (the sharded indexes, writes/s at 10,000 "
        "messages/s; random assignment puts more than 1/N on the hottest shard):",
        "",
    ]
    header = ["N", "index", "mean per shard", "hottest shard, median 1 s window",
              "hottest shard, busiest 1 s window", "busiest / mean",
              "hottest shard's share of the index's writes", "sd of a shard-second",
              "1,000 WCU is mean + z sd", "a shard-second over 1,000 WCU"]  # fmt: skip
    rows = []
    for run in runs:
        for index in schema.SHARDED_INDEXES:
            w = windows[run.shards][index]
            over = "every second, on every shard" if w["z"] < 0 else every(w["every_s"])
            rows.append([run.shards, index, num(w["mean"]), num(w["median"]), num(w["max"]),
                         f"{w['max'] / w['mean']:.3f}" if w["mean"] else "-",
                         f"{w['max'] / (w['mean'] * run.shards):.2%} (1/N = {1 / run.shards:.2%})"
                         if w["mean"] else "-", num(w["sd"], 1), z_cell(w["z"]),
                         over])  # fmt: skip
    out += [
        table(header, rows),
        "",
        "The sd is over every shard's whole seconds in the simulation; how often a "
        "shard-second goes over 1,000 WCU across all N shards is the normal approximation's "
        "tail at that z (a guide to the margin, not a measurement).",
        "",
    ]

    out += ["**Capacity per message lifetime and per list page** (measured, all N):", ""]
    header = ["N", *[f"{t} WCU/message" for t in TARGETS], "total WCU/message",
              "list page: Query calls", "BatchGetItem calls", "Query RCU", "BatchGetItem RCU",
              "RCU/page"]  # fmt: skip
    rows = []
    for run in runs:
        per = units_per_message(run)
        page = list_page_units(run)
        rows.append(
            [
                run.shards,
                *[f"{per[t]:.2f}" for t in TARGETS],
                f"{sum(per.values()):.2f}",
                f"{page['queries']:.1f}",
                f"{page['batches']:.1f}",
                f"{page['query_rcu']:.1f}",
                f"{page['batch_rcu']:.1f}",
                f"{page['query_rcu'] + page['batch_rcu']:.1f}",
            ]
        )
    out += [table(header, rows), ""]
    first = runs[0]
    out += [
        f"**One message's life, step by step** (N = {first.shards}; units per message, "
        "averaged over the sample; what each step does is in bench/storage_scale.py's "
        "LIFECYCLE):",
        "",
    ]
    header = ["step", "ms after create", "table WCU", "table RCU",
              *[f"{index} WCU" for index in INDEXES]]  # fmt: skip
    offsets = dict(LIFECYCLE)
    rows = []
    for phase, offset in offsets.items():
        wcu = {t: 0.0 for t in TARGETS}
        rcu = 0.0
        for c in first.charges:
            if c.phase == phase:
                if c.kind == "W":
                    wcu[c.target] += c.units
                elif c.target == TABLE:
                    rcu += c.units
        n = first.messages
        rows.append([phase, f"{offset:g}", f"{wcu[TABLE] / n:.2f}", f"{rcu / n:.2f}",
                     *[f"{wcu[index] / n:.2f}" for index in INDEXES]])  # fmt: skip
    out += [
        table(header, rows),
        "",
        "Table WCU at create: one conditional put, with or without an Idempotency-Key (a "
        "keyed message's Sid is derived from its key). Table RCU: the create's opt-out "
        "check, and the worker and each receipt read the message first (strongly "
        "consistent GetItem).",
        "",
        "Item sizes (bytes, as DynamoDB counts them, averaged): "
        + ", ".join(f"{k} {v:.0f}" for k, v in first.sizes.items())
        + f". The Body here is {len(body())} characters. "
        + one_kb_note(first.sizes),
        "",
    ]
    tx = transactional_index_writes(first)
    if tx:
        out += [
            "If DynamoDB also doubled the index writes of a transaction (the brief assumes "
            "2x for the table items only), each index would take "
            + ", ".join(f"{t} +{u:.2f}" for t, u in tx.items())
            + " WCU more per message.",
            "",
        ]

    out += [
        "**Calls and units per list page at N = "
        + ", ".join(str(n) for n in LIST_SHARD_COUNTS)
        + f"** (an account of "
        f"{list_count:,} delivered messages; PageSize 50; RCU eventually consistent):",
        "",
    ]
    header = ["N", "page", "messages returned", "Query calls", "BatchGetItem calls",
              "index entries read", "items read", "Query RCU", "BatchGetItem RCU",
              "RCU total"]  # fmt: skip
    rows = [
        [r["shards"], r["page"], r["returned"], r["queries"], r["batches"], r["entries"],
         r["items"], f"{r['query_rcu']:g}", f"{r['batch_rcu']:g}",
         f"{r['query_rcu'] + r['batch_rcu']:g}"]
        for r in list_rows
    ]  # fmt: skip
    out += [table(header, rows), ""]
    if any(r["other"] for r in list_rows):
        out += ["(Some pages made other calls as well; see the raw figures.)", ""]

    out += [
        "Notes:",
        "",
        f"- {auth_note}",
        f"- {owner_note}",
        "- Accounting (DynamoDB's documented rules, applied per request by `Ledger`): a "
        "write costs ceil(size / 1 KB) WCU of the larger of the before and after images, 2x "
        "inside TransactWriteItems; per index, a new or removed entry 1 write, a changed "
        "index key 2 (delete + put; `lk` never changes), a changed projected "
        "attribute 1, otherwise 0, each ceil(entry size / 1 KB); GetItem ceil(size / 4 KB) "
        "RCU, half when eventually consistent; Query ceil(sum of entries read / 4 KB) x 0.5; "
        "BatchGetItem ceil(size / 4 KB) x 0.5 per item.",
        "- Sizes: attribute name bytes + value bytes (String: UTF-8 bytes; Number: 1 byte "
        "per two significant digits + 1; List/Map: 3 + 1 per element). An index entry is "
        "its table keys + index keys (+ a late message's projected `sent_ms`), without the "
        "100 bytes per entry "
        "DynamoDB adds for storage; with them a list Query would read ~1.5x the bytes.",
        "- The by-to and by-to-from figures depend on the workload's handsets: "
        f"{HANDSETS:,} handsets take {RATE // HANDSETS} messages/s each here; a real sender's "
        "handsets get a few a day.",
        "- A hot partition key cannot be split across partitions for load: `lk` grows with "
        "time, so every write lands at the end of its key's range and DynamoDB's split for "
        "heat cannot spread it; burst capacity only absorbs short peaks.",
    ]
    return "\n".join(out)


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.storage_scale", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=1000, help="M, per shard count")
    parser.add_argument(
        "--list-messages", type=int, default=5000, help="the account size for the list pages"
    )
    parser.add_argument(
        "--shards", default=",".join(map(str, SHARD_COUNTS)), help="shard counts to measure"
    )
    parser.add_argument(
        "--body-chars",
        type=int,
        help=f"a Body of this many characters instead of the {len(DEFAULT_BODY)}-character one",
    )
    args = parser.parse_args(argv)
    global BODY
    if args.body_chars:
        BODY = (DEFAULT_BODY + " " + "x" * args.body_chars)[: args.body_chars]
    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    started = time.perf_counter()
    real_now_ms = clock.now_ms
    # The handlers' log lines (their metrics are always written) are not the report.
    quiet = contextlib.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115
    try:
        quiet.__enter__()
        runs = []
        for shards in (int(s) for s in args.shards.split(",")):
            log(f"N={shards}: {args.messages:,} message lifecycles")
            runs.append(lifecycle_run(shards, args.messages))
            log(f"N={shards}: {runs[-1].seconds:.1f} s")
        log(f"simulating {SIMULATED_SECONDS} s of Sids")
        stream = sid_stream(SIMULATED_SECONDS)
        windows = {
            run.shards: {
                index: shard_windows(stream, run.shards, per_phase_units(run, index))
                for index in schema.SHARDED_INDEXES
            }
            for run in runs
        }
        list_rows = []
        for shards in LIST_SHARD_COUNTS:
            log(f"N={shards}: list pages on {args.list_messages:,} messages")
            list_rows += list_costs(shards, args.list_messages)
    finally:
        quiet.__exit__(None, None, None)
        clock.now_ms = real_now_ms
    print(
        report(runs, windows, list_rows, time.perf_counter() - started, command, args.list_messages)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
