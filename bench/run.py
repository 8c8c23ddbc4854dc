"""Herald's benchmark: printed figures, not a test. Run with `make bench`.

Prints, as Markdown, measured in one run on moto (in process) and, when Node.js and
`make dynalite` are there, on dynalite (a real DynamoDB implementation on 127.0.0.1):

1. DynamoDB calls per API request, counted on botocore's event hooks of the client that
   `chalicelib.storage` uses; the authentication GetItem (made only when auth's
   per-container cache misses) is counted apart, on a request made with the cache empty.
   A create reads its From's owner item when the container has not read it as sendable
   within chalicelib.messages.checks.SENDABLE_SECONDS: a row of its own, from a new From.
2. What one list page costs as the account grows to 10, 1,000 and 10,000 messages: the
   index Query calls, their ScannedCount, the BatchGetItem that reads the page's messages
   and the latency, without and with a To filter.
3. Requests per second through the Lambda handler in process (`app(event, context)` with
   an API Gateway proxy event), next to the same DynamoDB calls made directly with boto3
   on the same client and backend: the ratio is Herald's own overhead.

Nothing here reaches AWS: moto intercepts every call, and dynalite listens on 127.0.0.1.
"""

import argparse
import contextlib
import copy
import functools
import itertools
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent

from bench.harness import offline  # noqa: E402

# Before anything imports boto3.
offline("herald-bench")

from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher  # noqa: E402

import admin  # noqa: E402
from app import app  # noqa: E402
from chalicelib import messages, storage  # noqa: E402
from chalicelib.accounts import credentials  # noqa: E402
from chalicelib.runtime import clock  # noqa: E402
from chalicelib.storage import marshal, schema  # noqa: E402
from chalicelib.twilio import sids  # noqa: E402

COMMAND = ".venv/bin/python bench/run.py"
TO = "+14155550100"
OTHER_TO = "+14155550101"
FROM = "+15005550006"
SIZES = (10, 1_000, 10_000)
# Bulk-loaded messages are one second apart, from here on.
BASE_MS = 1_700_000_000_000
CONTEXT = LambdaContext(function_name="herald", memory_size=512, max_runtime_ms=30_000)
_EVENTS = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)


def basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- requests through the handler -------------------------------------------------------


class Client:
    """API Gateway proxy events for one account, handed to the Lambda handler directly."""

    def __init__(self, account: dict):
        self.account_sid = account["account_sid"]
        self.auth = basic(account["account_sid"], account["auth_token"])
        self.base = f"/2010-04-01/Accounts/{self.account_sid}"

    def event(self, method: str, path: str, params: dict | None = None, headers=None) -> dict:
        headers = {"Authorization": self.auth, **(headers or {})}
        body = None
        if params is not None:
            body = urlencode(params)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return _EVENTS.create_lambda_event(method, path, headers, body)

    def create(self, **params) -> dict:
        return self.event("POST", self.base + "/Messages.json", params)

    def fetch(self, sid: str) -> dict:
        return self.event("GET", f"{self.base}/Messages/{sid}.json")

    def update(self, sid: str, **params) -> dict:
        return self.event("POST", f"{self.base}/Messages/{sid}.json", params)

    def delete(self, sid: str) -> dict:
        return self.event("DELETE", f"{self.base}/Messages/{sid}.json")

    def list(self, query: str = "") -> dict:
        return self.event("GET", f"{self.base}/Messages.json" + (f"?{query}" if query else ""))


def handle(event: dict) -> dict:
    return app(event, CONTEXT)


def json_body(response: dict) -> dict:
    import json

    return json.loads(response["body"])


# --- counting DynamoDB calls ------------------------------------------------------------


class Recorder:
    """Every DynamoDB call the storage client makes while `recording`: its operation and
    parameters (botocore's before-parameter-build), and each Query's counts (after-call)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.queries: list[dict] = []
        self.on = False
        events = storage.client.client().meta.events
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb.Query", self._after_query)

    def _before(self, params, model, **_):
        if self.on:
            self.calls.append((model.name, copy.deepcopy(params)))

    def _after_query(self, parsed, **_):
        if self.on:
            self.queries.append(
                {"Count": parsed.get("Count"), "Scanned": parsed.get("ScannedCount")}
            )

    @contextlib.contextmanager
    def recording(self) -> Iterator["Recorder"]:
        self.calls, self.queries, self.on = [], [], True
        try:
            yield self
        finally:
            self.on = False


def is_auth(call: tuple[str, dict]) -> bool:
    """A read of the account or API key item: what authentication (and the account's list
    shard count) costs on a miss of auth's per-container cache."""
    name, params = call
    sk = params["Key"]["sk"]["S"] if name == "GetItem" else ""
    return sk == schema.ACCOUNT_SK or sk.startswith(schema.KEY_SK_PREFIX)


# --- bulk data --------------------------------------------------------------------------


def bulk_load(account_sid: str, count: int, status: str = "delivered") -> list[str]:
    """`count` sent messages, one second apart, half of them to TO: written with
    BatchWriteItem (the bench only; Herald itself writes one conditional PutItem each)."""
    client, table = storage.client.client(), storage.client.table()
    made, batch = [], []
    for i in range(count):
        at = BASE_MS + i * 1000
        message = messages.Message(
            account_sid=account_sid,
            sid=sids.message_sid(at),
            to=TO if i % 2 == 0 else OTHER_TO,
            from_=FROM,
            body=f"bench message {i}",
            status=status,
            created_ms=at,
            updated_ms=at,
            sent_ms=at,
        )
        made.append(message.sid)
        # Bench accounts keep the default list shard count.
        shard = schema.shard_of(message.sid, schema.DEFAULT_LIST_SHARDS)
        item = schema.message_item(message.to_fields(), shard)
        batch.append({"PutRequest": {"Item": marshal.to_attrs(item)}})
        if len(batch) == 25 or i == count - 1:
            pending = {table: batch}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            batch = []
    return made


# --- timing -----------------------------------------------------------------------------


def timed_runs(work: list[Callable[[], object]], budget_s: float, minimum: int) -> list[float]:
    """Run the prepared calls in order, each timed, until `budget_s` is spent (but at least
    `minimum` of them, when there are that many); the seconds each took."""
    took: list[float] = []
    started = time.perf_counter()
    for item in work:
        begin = time.perf_counter()
        item()
        took.append(time.perf_counter() - begin)
        if len(took) >= minimum and time.perf_counter() - started > budget_s:
            break
    return took


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the three measurements -------------------------------------------------------------


EXPECTED = {"POST": (200, 201), "GET": (200,), "DELETE": (204,)}


def count_round_trips(recorder: Recorder, client: Client, big: Client, big_size: int) -> list[dict]:
    """One request of each kind, after one warm-up of each; the calls it made."""

    # Scheduling asks for a Messaging Service (35118), as on Twilio.
    made = handle(client.event("POST", "/messaging/v1/Services", {"FriendlyName": "bench"}))
    service = json_body(made)["sid"]

    def scheduled() -> str:
        send_at = datetime.fromtimestamp(time.time() + 7200, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = handle(client.create(To=TO, From=FROM, Body="later", ScheduleType="fixed",
                                        SendAt=send_at, MessagingServiceSid=service))  # fmt: skip
        return json_body(response)["sid"]

    def created() -> str:
        return json_body(handle(client.create(To=TO, From=FROM, Body="hi")))["sid"]

    new_from = (f"+1415200{n:04d}" for n in itertools.count())
    cases: list[tuple[str, Callable[[], dict]]] = [
        ("create", lambda: client.create(To=TO, From=FROM, Body="hello")),
        (
            "create, a From not read in 10 s",
            lambda: client.create(To=TO, From=next(new_from), Body="hello"),
        ),
        (
            "create with Idempotency-Key",
            lambda: client.event(
                "POST",
                client.base + "/Messages.json",
                {"To": TO, "From": FROM, "Body": "once"},
                {"Idempotency-Key": f"key-{time.perf_counter_ns()}"},
            ),
        ),
        ("fetch", lambda: client.fetch(created())),
        (f"list page (50 of {big_size:,})", lambda: big.list()),
        ("list page, To filter", lambda: big.list(urlencode({"To": TO}))),
        ("list page, DateSent filter", lambda: big.list("DateSent%3E=2023-11-14")),
        ("update: redact", lambda: client.update(created(), Body="")),
        ("update: cancel", lambda: client.update(scheduled(), Status="canceled")),
        ("delete", lambda: client.delete(created())),
    ]
    rows = []
    for label, make_event in cases:
        handle(make_event())  # warm-up: first-use imports and caches
        event = make_event()
        # As a container's first request (or its first after credentials.CACHE_SECONDS) makes it:
        # with the credential cache empty, so the auth column shows what a miss costs.
        credentials.forget()
        with recorder.recording():
            response = handle(event)
        calls = recorder.calls
        data = [call for call in calls if not is_auth(call)]
        auth_calls = [call for call in calls if is_auth(call)]
        ok = response["statusCode"] in EXPECTED[event["requestContext"]["httpMethod"]]
        rows.append(
            {
                "request": label,
                "status": response["statusCode"],
                "ok": ok,
                "calls": len(data),
                "operations": " + ".join(name for name, _ in data) or "-",
                "auth": len(auth_calls),
            }
        )
    return rows


def list_cost(recorder: Recorder, accounts: dict[int, Client], budget_s: float) -> list[dict]:
    rows = []
    for size, client in accounts.items():
        for label, query in (("none", ""), ("To", urlencode({"To": TO}))):
            first = json_body(handle(client.list(query)))
            pages = [("first", client.list(query))]
            if first["next_page_uri"]:
                pages.append(("next (PageToken)", client.event("GET", first["next_page_uri"])))
            for page, event in pages:
                handle(event)  # warm-up
                with recorder.recording():
                    response = handle(event)
                queries = list(recorder.queries)
                batches = sum(1 for name, _ in recorder.calls if name == "BatchGetItem")
                took = timed_runs([lambda e=event: handle(e)] * 200, budget_s, minimum=5)
                rows.append(
                    {
                        "size": size,
                        "filter": label,
                        "page": page,
                        "items": len(json_body(response)["messages"]),
                        "queries": len(queries),
                        "batches": batches,
                        "scanned": sum(q["Scanned"] or 0 for q in queries),
                        "median": statistics.median(took),
                        "p90": quantile(took, 0.9),
                        "runs": len(took),
                    }
                )
    return rows


def throughput(
    recorder: Recorder, client: Client, listed: Client, budget_s: float, count: int
) -> list[dict]:
    """Requests per second through the handler, and for the same DynamoDB calls issued
    directly: captured from one request of each kind, then replayed with fresh keys."""
    dynamodb = storage.client.client()
    method_of = {api: method for method, api in dynamodb.meta.method_to_api_mapping.items()}

    def capture(event: dict) -> list[tuple[str, dict]]:
        # A warm container's calls: both accounts' credentials cached, so no auth GetItem
        # (the raw side replays exactly what was captured).
        credentials.account(client.account_sid), credentials.account(listed.account_sid)
        with recorder.recording():
            handle(event)
        return list(recorder.calls)

    def replay(calls: list[tuple[str, dict]]) -> Callable[[], None]:
        bound = [(getattr(dynamodb, method_of[name]), params) for name, params in calls]

        def run() -> None:
            for method, params in bound:
                method(**params)

        return run

    def with_message(calls, sid: str):
        """The same calls aimed at another message: its partition key, Sid and list key
        swapped in (bench accounts have one list shard, so the index keys stay)."""
        out = copy.deepcopy(calls)
        for name, params in out:
            if is_auth((name, params)):
                continue
            for attrs in (params.get("Item"), params.get("Key")):
                if not attrs or attrs.get("sk", {}).get("S") != schema.MESSAGE_SK:
                    continue
                account_sid, _ = schema.split_message_pk(attrs["pk"]["S"])
                attrs["pk"] = {"S": schema.message_pk(account_sid, sid)}
                if "sid" in attrs:
                    attrs["sid"] = {"S": sid}
                if schema.LIST_SORT_KEY in attrs:
                    order_ms = int(attrs[schema.LIST_SORT_KEY]["S"][:12], 16)
                    attrs[schema.LIST_SORT_KEY] = {"S": schema.list_key(order_ms, sid)}
        return out

    def new_sids(n: int) -> list[str]:
        return [sids.message_sid(clock.now_ms()) for _ in range(n)]

    target = json_body(handle(client.create(To=TO, From=FROM, Body="target")))["sid"]
    doomed = bulk_load(client.account_sid, 2 * count)
    for_handler, for_raw = doomed[:count], doomed[count:]
    list_event = listed.list()

    operations = {
        "create": (
            [lambda: handle(client.create(To=TO, From=FROM, Body="hello"))] * count,
            lambda calls: [replay(with_message(calls, sid)) for sid in new_sids(count)],
            client.create(To=TO, From=FROM, Body="hello"),
        ),
        "fetch": (
            [lambda: handle(client.fetch(target))] * count,
            lambda calls: [replay(calls)] * count,
            client.fetch(target),
        ),
        "list page (50)": (
            [lambda: handle(list_event)] * count,
            lambda calls: [replay(calls)] * count,
            list_event,
        ),
        "update: redact": (
            [lambda: handle(client.update(target, Body=""))] * count,
            lambda calls: [replay(calls)] * count,
            client.update(target, Body=""),
        ),
        "delete": (
            [functools.partial(handle, client.delete(sid)) for sid in for_handler[1:]],
            lambda calls: [replay(with_message(calls, sid)) for sid in for_raw],
            client.delete(for_handler[0]),
        ),
    }
    rows = []
    for label, (handler_work, raw_work, sample) in operations.items():
        calls = capture(sample)
        raw = raw_work(calls)
        # Warm both, then alternate them request by request (in turn first), so that any
        # background load on the machine falls on both alike.
        handler_work[0](), raw[0]()
        handler_took, raw_took = [], []
        started = time.perf_counter()
        for i in range(1, min(len(handler_work), len(raw))):
            pair = [(handler_work[i], handler_took), (raw[i], raw_took)]
            for work, took in pair if i % 2 else pair[::-1]:
                begin = time.perf_counter()
                work()
                took.append(time.perf_counter() - begin)
            if i >= 10 and time.perf_counter() - started > 2 * budget_s:
                break
        handler_ms, raw_ms = statistics.median(handler_took), statistics.median(raw_took)
        rows.append(
            {
                "operation": label,
                "raw_calls": " + ".join(name for name, _ in calls),
                "handler_rps": len(handler_took) / sum(handler_took),
                "raw_rps": len(raw_took) / sum(raw_took),
                "handler_ms": handler_ms,
                "raw_ms": raw_ms,
                "ratio": handler_ms / raw_ms,
                "runs": (len(handler_took), len(raw_took)),
            }
        )
    return rows


# --- one backend ------------------------------------------------------------------------


def measure(label: str, sizes: tuple[int, ...], budget_s: float, count: int) -> dict:
    storage.reset()
    recorder = Recorder()
    started = time.perf_counter()
    accounts: dict[int, Client] = {}
    for size in sizes:
        client = Client(admin.create_account())
        load_started = time.perf_counter()
        bulk_load(client.account_sid, size)
        log(f"[{label}] {size:,} messages loaded in {time.perf_counter() - load_started:.1f} s")
        accounts[size] = client
    big_size = 1_000 if 1_000 in accounts else max(accounts)
    big = accounts[big_size]
    small = Client(admin.create_account())
    listed = Client(admin.create_account())
    bulk_load(listed.account_sid, 100)

    log(f"[{label}] round trips")
    trips = count_round_trips(recorder, small, big, big_size)
    log(f"[{label}] list cost")
    cost = list_cost(recorder, accounts, budget_s)
    log(f"[{label}] requests per second")
    rates = throughput(recorder, Client(admin.create_account()), listed, budget_s, count)
    log(f"[{label}] done in {time.perf_counter() - started:.1f} s")
    return {"trips": trips, "cost": cost, "rates": rates}


@contextlib.contextmanager
def moto_backend() -> Iterator[str]:
    from moto import mock_aws

    with mock_aws():
        storage.reset()
        storage.ensure_table()
        signing_key()
        yield "moto (in process)"
    storage.reset()


@contextlib.contextmanager
def dynalite_backend() -> Iterator[str]:
    from moto import mock_aws

    from devtools import dynalite

    # moto's KMS for the accounts' keys; dynalite's requests go past moto to dynalite.
    with mock_aws(), dynalite.running() as url, dynalite.pointing_at(url, "herald-bench"):
        signing_key()
        yield f"dynalite {dynalite.VERSION} (127.0.0.1)"


def signing_key() -> None:
    """A key on moto's KMS for the accounts' AuthTokens: no account is made without one."""
    from chalicelib.storage import tokens
    from devtools import local_aws

    tokens.reset()
    os.environ["HERALD_KMS_KEY_ID"] = local_aws.signing_key(None)


# --- output -----------------------------------------------------------------------------


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(results: dict[str, dict], command: str, elapsed: float, notes: list[str]) -> str:
    import boto3
    import moto

    backends = list(results)
    out = [
        "### Benchmark figures",
        "",
        f"Command: `{command}` (or `make bench`). Measured "
        f"{datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, boto3 {boto3.__version__}, moto {moto.__version__}; "
        f"whole run {elapsed:.0f} s. Backends: {', '.join(backends)}.",
        "",
        "**DynamoDB calls per API request** (botocore calls, counted on the client's event "
        "hooks; floor 1). The auth column is what a miss of auth's credential cache adds "
        "(measured with the cache empty); the cache lasts "
        f"{credentials.CACHE_SECONDS:g} s per container, so a warm container's requests make "
        "only the calls in the first columns:",
        "",
    ]
    first = results[backends[0]]["trips"]
    header = ["request", *[f"calls: {b.split(' ')[0]}" for b in backends], "operations", "auth"]
    rows = []
    for i, row in enumerate(first):
        cells = []
        for backend in backends:
            other = results[backend]["trips"][i]
            cells.append(
                str(other["calls"]) if other["ok"] else f"{other['calls']} (HTTP {other['status']})"
            )
        rows.append([row["request"], *cells, row["operations"], f"{row['auth']} GetItem"])
    out += [table(header, rows), ""]

    out += [
        "**List cost versus account size** (one 50-message page, newest first: a Query on "
        "the list index, which holds keys and `sent_ms` only, then one BatchGetItem for the "
        "page's messages; ScannedCount summed over the page's Query calls; latency through "
        "the handler with a warm credential cache):",
        "",
    ]
    header = ["backend", "messages", "filter", "page", "items", "Query calls",
              "ScannedCount", "BatchGetItem calls", "median ms", "p90 ms", "runs"]  # fmt: skip
    rows = []
    for backend in backends:
        for row in results[backend]["cost"]:
            rows.append(
                [backend.split(" ")[0], f"{row['size']:,}", row["filter"], row["page"],
                 row["items"], row["queries"], row["scanned"], row["batches"], ms(row["median"]),
                 ms(row["p90"]), row["runs"]]
            )  # fmt: skip
    out += [
        table(header, rows),
        "",
        "ScannedCount is what the index Query reads and bills: it stays at one page plus "
        "one, whatever the account's size, and the BatchGetItem reads the page's 50 "
        "messages by key. moto 5.2.5 answers a Query on an index by testing "
        "every item of the table in Python (every account's: all the messages above), so "
        "its latency follows the table's size; dynalite reads the index range in key order, "
        "as DynamoDB does, and its latency stays flat.",
        "",
    ]

    out += [
        "**Requests per second, handler versus raw boto3** (`app(event, context)` with an "
        "API Gateway proxy event, against the same DynamoDB calls issued directly on the "
        "same client; one thread; warm credential cache, so no authentication call; req/s "
        "from the mean time, ratio = handler median / raw median):",
        "",
    ]
    header = ["backend", "operation", "DynamoDB calls", "handler req/s", "raw boto3 req/s",
              "handler median ms", "raw median ms", "overhead ratio"]  # fmt: skip
    rows = []
    for backend in backends:
        for row in results[backend]["rates"]:
            rows.append(
                [backend.split(" ")[0], row["operation"], row["raw_calls"],
                 f"{row['handler_rps']:.0f}", f"{row['raw_rps']:.0f}", ms(row["handler_ms"]),
                 ms(row["raw_ms"]), f"{row['ratio']:.2f}x"]
            )  # fmt: skip
    out += [table(header, rows), ""]
    out += notes
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-dynalite", action="store_true", help="moto only")
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in SIZES), help="messages per account"
    )
    parser.add_argument("--seconds", type=float, default=1.5, help="time budget per figure")
    parser.add_argument("--count", type=int, default=400, help="most requests per figure")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])

    started = time.perf_counter()
    backends = [moto_backend]
    notes = []
    if not args.no_dynalite:
        from devtools import dynalite

        reason = dynalite.unavailable_reason()
        if reason is None:
            backends.append(dynalite_backend)
        else:
            notes.append(f"dynalite was not measured: {reason}.")
            log(f"dynalite skipped: {reason}")
    results = {}
    for backend in backends:
        with backend() as label:
            results[label] = measure(label.split(" ")[0], sizes, args.seconds, args.count)
    if any(not row["ok"] for result in results.values() for row in result["trips"]):
        notes.append(
            "A call count shown with an HTTP status is a request that failed on that backend "
            "(dynalite has no TransactWriteItems, so an Idempotency-Key create answers 503)."
        )
    print(report(results, command, time.perf_counter() - started, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
