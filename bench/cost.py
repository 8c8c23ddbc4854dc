"""What a message costs on AWS: every call the real handlers make, counted and priced.

    .venv/bin/python -m bench.cost [--messages 200] [--smoke]
    make bench-cost

Printed figures, not a test. It serves the app's real handlers as Lambda would call them,
against the embedded AWS (moto's server on 127.0.0.1, devtools/services.py) and a stage on
End User Messaging (its SendTextMessage answered on 127.0.0.1: moto has no such service),
and records every AWS request each function makes on botocore's public event hooks
(`before-parameter-build` and `after-call`, registered on boto3's default session before any
client exists, so it sees every client however the embedded AWS is reached).

Workload, per rate: M messages created through `app.app(event, context)` with API Gateway
proxy events, each with a StatusCallback (a receiver on 127.0.0.1 answering 200), every other
one with an Idempotency-Key; one list page (PageSize 50) per 100 created and one fetch per
message; delivered through the stage's own pipeline: the table's stream to the dispatcher,
the send queue to the sender, which hands each message to End User Messaging, whose events
(the configuration set's matching event types, deploy/carrier_events.py) come back through
the SNS topic to the receipt queue, and the status callbacks. Two rates:

- high: every queue and the stream hand over full batches (10 jobs, up to 100 records);
- low: one message at a time, each job an invocation of its own.

Counted (per message): DynamoDB write and read units, costed per item and per index with
DynamoDB's documented accounting (bench/dynamodb_cost.py's Ledger, on the same hooks; a
refused conditional write costs its units too); SQS requests (the handlers' own, counted,
plus Lambda's pollers: one ReceiveMessage and one DeleteMessageBatch per batch, and one
SendMessage per carrier event SNS delivers); SNS publishes (End User Messaging's events);
KMS requests; Lambda invocations; API requests; log bytes (every line the handlers write,
counted, plus Lambda's START, END and REPORT lines).

Modelled: Lambda's duration. Each invocation is billed for its CPU time at the function's
memory (Lambda gives a whole vCPU at 1,769 MB, a share in proportion below: CPU_MS_PER_CALL
per AWS call and CPU_MS_PER_JOB per job or request, from bench/delivery.py's profile) plus
the time its calls wait (LATENCY_MS: typical in-region latencies, and a status callback's
POST to the customer), a batch's jobs waiting at once (up to 10, chalicelib.delivery.batch).
Warm containers: a cold start (about 200 ms of CPU, docs/figures.md) is once per container.

Prices: us-east-1, on demand, list prices (PRICES). Nothing here reaches AWS.
"""

import argparse
import contextlib
import contextvars
import io
import json
import os
import platform
import sys
import threading
import time
import types
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent

from bench.harness import callback_receiver, offline  # noqa: E402

# Before anything imports boto3.
offline("herald-cost")

from bench.dynamodb_cost import TABLE, Charge, Ledger  # noqa: E402

COMMAND = ".venv/bin/python -m bench.cost"
TO = "+14155550100"
FROM = "+15005550006"
BODY = "Your Herald verification code is 482913. It expires in 10 minutes."

# us-east-1 on-demand list prices (USD).
PRICES = {
    "wru": 0.625 / 1e6,  # DynamoDB on-demand write request unit
    "rru": 0.125 / 1e6,  # read request unit
    "rest_api": 3.50 / 1e6,  # API Gateway REST API request (first 333 M a month)
    "http_api": 1.00 / 1e6,  # API Gateway HTTP API request (first 300 M; per 512 KB)
    "function_url": 0.0,  # a Lambda function URL: the invocation only
    "lambda_request": 0.20 / 1e6,
    "gb_second": 0.0000133334,  # Lambda on arm64
    "log_gb": 0.50,  # CloudWatch Logs ingestion (standard class)
    "sqs": 0.40 / 1e6,  # SQS standard request (each 64 KB chunk)
    "sns": 0.50 / 1e6,  # SNS publish (deliveries to SQS are free)
    "kms": 0.03 / 1e4,  # KMS request
}
# Lambda's duration model (module docstring).
FULL_VCPU_MB = 1769
CPU_MS_PER_CALL = 0.56  # botocore: serialise, sign, parse (bench.delivery: 2.8 ms for 5 calls)
CPU_MS_PER_JOB = 0.6  # Herald's own code per job or API request (bench.delivery)
LATENCY_MS = {
    "dynamodb": 5.0,
    "sqs": 8.0,
    "kms": 8.0,
    "sns": 10.0,
    "pinpoint-sms-voice-v2": 60.0,
    "s3": 15.0,
    "callback": 100.0,  # the customer's StatusCallback URL answering
}
# Lambda's own lines per invocation, text format: START, END and REPORT.
PLATFORM_LOG_BYTES = 330
ACCOUNT_ITEM_READ_RRU = 1.0  # an authentication or settings read of the account item
FUNCTION = contextvars.ContextVar("bench_cost_function", default=None)


def log(text: str) -> None:
    print(text, file=sys.__stderr__, flush=True)


# --- recording ---------------------------------------------------------------------------


@dataclass
class Invocation:
    function: str
    jobs: int
    calls: Counter = field(default_factory=Counter)  # service -> calls
    callbacks: int = 0
    log_bytes: int = 0


class Recorder:
    """Every AWS request, by the function whose invocation made it (the event sources'
    own polling, made outside any invocation, is left to the model)."""

    def __init__(self, session):
        self.lock = threading.Lock()
        self.invocations: list[Invocation] = []
        self.calls: Counter = Counter()  # (function, service, operation)
        self.current: contextvars.ContextVar = contextvars.ContextVar("invocation", default=None)
        session.events.register("after-call", self._after)

    def _after(self, model, **_):
        invocation = self.current.get()
        if invocation is None:
            return
        service = model.service_model.service_name
        with self.lock:
            invocation.calls[service] += 1
            self.calls[(invocation.function, service, model.name)] += 1

    @contextlib.contextmanager
    def invocation(self, function: str, jobs: int):
        record = Invocation(function, jobs)
        token = self.current.set(record)
        function_token = FUNCTION.set(function)
        try:
            yield record
        finally:
            self.current.reset(token)
            FUNCTION.reset(function_token)
            with self.lock:
                self.invocations.append(record)

    def reset(self) -> None:
        self.invocations.clear()
        self.calls.clear()


class PhasedLedger(Ledger):
    """DynamoDB units, each charged to the function whose invocation made the call."""

    def _charge(self, kind, target, key, units, transactional_index=False) -> None:
        phase = FUNCTION.get() or "outside"
        self.charges.append(Charge(0, phase, kind, target, key, units, transactional_index))

    def _GetItem(self, params, parsed, ok):
        from chalicelib.storage import schema

        key = self._key(params["Key"])
        if key[1] == schema.ACCOUNT_SK or key[1].startswith(schema.KEY_SK_PREFIX):
            # The account item, read on a miss of a container's cache (accounts.credentials):
            # counted here at this run's rate of misses, as any other read.
            self._charge("R", TABLE, key[0], ACCOUNT_ITEM_READ_RRU)
            return
        super()._GetItem(params, parsed, ok)


class LogCounter(io.TextIOBase):
    """stdout: every line a handler writes, counted against its invocation."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.outside = 0

    def write(self, text: str) -> int:
        invocation = self.recorder.current.get()
        size = len(text.encode())
        if invocation is not None:
            invocation.log_bytes += size
        else:
            self.outside += size
        return len(text)

    def isatty(self) -> bool:
        return False


# --- the stage -----------------------------------------------------------------------------


class Carrier:
    """End User Messaging as the stage sees it: SendTextMessage answers with a MessageId
    (on botocore's `before-send` hook: the request is counted, nothing leaves 127.0.0.1),
    and its events reach the receipt queue through the SNS topic, as the configuration set
    publishes them (only its matching event types)."""

    def __init__(self, session, endpoint: str, queue_url: str):
        import botocore.session

        from deploy import carrier_events

        # End User Messaging's own publishes: a client no hook sees.
        own = botocore.session.get_session()
        make = dict(endpoint_url=endpoint, region_name="us-east-1")
        self.sns = own.create_client("sns", **make)
        sqs = own.create_client("sqs", **make)
        self.topic = self.sns.create_topic(Name="herald-cost-carrier-events")["TopicArn"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.sns.subscribe(
            TopicArn=self.topic,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        self.matching = set(carrier_events.EVENT_TYPES)
        self.published = 0
        # End User Messaging's client is made once per process (a container's), with the
        # session's hooks as they were then: one hook, answering for the current carrier.
        if not Carrier.hooked:
            session.events.register(self.HOOK, lambda **kw: Carrier.current._send(**kw))
            Carrier.hooked = True
        Carrier.current = self

    HOOK = "before-send.pinpoint-sms-voice-v2.SendTextMessage"
    hooked = False
    current: "Carrier | None" = None

    def close(self) -> None:
        Carrier.current = None

    def _send(self, request, **_):
        from chalicelib.carriers import events
        from chalicelib.runtime import clock
        from devtools import direct_aws

        sent = json.loads(request.body)
        context = sent.get("Context") or {}
        message_id = str(uuid.uuid4())
        for event_type, price in (("TEXT_SUCCESSFUL", None), ("TEXT_DELIVERED", 0.00581)):
            if event_type not in self.matching:
                continue
            event = events.event(
                event_type, context.get(events.CONTEXT_ACCOUNT), context.get(events.CONTEXT_SID),
                message_id, clock.now_ms(), sent["DestinationPhoneNumber"],
                sent.get("OriginationIdentity"), price=price,
            )  # fmt: skip
            self.sns.publish(TopicArn=self.topic, Message=json.dumps(event))
            self.published += 1
        body = json.dumps({"MessageId": message_id}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return direct_aws.botocore_answer(request.url, 200, headers, body)


def wrap_sources(sources, recorder: Recorder):
    """Each event source's handler, its invocations recorded."""
    for source in sources:
        handler = source.handler

        def recorded(event, context, handler=handler, name=source.name):
            with recorder.invocation(name, len(event.get("Records", []))):
                return handler(event, context)

        source.handler = recorded


# --- the workload -------------------------------------------------------------------------


class Api:
    """API Gateway proxy events for one account, handed to the API function."""

    def __init__(self, app, account: dict, recorder: Recorder):
        import base64

        from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

        self.app, self.recorder = app, recorder
        self.events = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
        self.context = LambdaContext(function_name="herald", memory_size=512, max_runtime_ms=25_000)
        token = f"{account['account_sid']}:{account['auth_token']}".encode()
        self.auth = "Basic " + base64.b64encode(token).decode()
        self.base = f"/2010-04-01/Accounts/{account['account_sid']}"
        self.requests = 0

    def call(self, method: str, path: str, params: dict | None = None, headers=None) -> dict:
        headers = {"Authorization": self.auth, **(headers or {})}
        body = None
        if params is not None:
            body = urlencode(params)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        event = self.events.create_lambda_event(method, path, headers, body)
        self.requests += 1
        with self.recorder.invocation("api_handler", 1):
            response = self.app(event, self.context)
        assert response["statusCode"] < 300, response
        return json.loads(response["body"])


@dataclass
class Run:
    rate: str
    messages: int
    api_requests: int
    invocations: list
    charges: list
    calls: Counter
    carrier_events: int
    statuses: Counter
    seconds: float
    outside_log_bytes: int


def workload(rate: str, count: int, session, recorder: Recorder, ledger: PhasedLedger) -> Run:
    import admin
    from app import app
    from chalicelib import storage
    from chalicelib.accounts import credentials
    from chalicelib.runtime import config
    from chalicelib.storage import queues, tokens
    from devtools import event_sources, local_aws

    started = time.perf_counter()
    # A table of its own: the stream's reader starts from its first record.
    os.environ["HERALD_TABLE_NAME"] = ledger.table = f"herald-cost-{rate}"
    storage.reset()
    queues.reset()
    tokens.reset()
    credentials.forget()
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    storage.ensure_table()
    os.environ.update(local_aws.provision(endpoint, visibility_seconds=30))
    carrier = Carrier(session, endpoint, os.environ["HERALD_RECEIPT_QUEUE_URL"])
    sources = local_aws.event_sources(app, dict(os.environ))
    wrap_sources(sources, recorder)
    account = admin.create_account()
    api = Api(app, account, recorder)
    if rate == "low":
        for source in sources:
            source.batch_size = 1
    with callback_receiver() as receiver, contextlib.closing(carrier):
        event_sources.drain(sources)  # nothing yet: the stream's first read
        recorder.reset()
        ledger.charges.clear()
        made = []
        for i in range(count):
            headers = {"Idempotency-Key": f"order-{rate}-{i}"} if i % 2 else None
            params = {"To": TO, "From": FROM, "Body": BODY, "StatusCallback": receiver.url}
            made.append(api.call("POST", f"{api.base}/Messages.json", params, headers)["sid"])
            if (i + 1) % 100 == 0:
                api.call("GET", f"{api.base}/Messages.json?PageSize=50")
            if rate == "low":
                event_sources.drain(sources)
        event_sources.drain(sources)
        statuses = Counter()
        for sid in made:
            statuses[api.call("GET", f"{api.base}/Messages/{sid}.json")["status"]] += 1
    assert config.delivery().carrier == "end-user-messaging"
    return Run(
        rate,
        count,
        api.requests,
        list(recorder.invocations),
        list(ledger.charges),
        Counter(recorder.calls),
        carrier.published,
        statuses,
        time.perf_counter() - started,
        0,
    )


# --- the figures ---------------------------------------------------------------------------


def memory_of(function: str, stage: str = "prod") -> int:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    settings = config["stages"][stage]
    specific = settings.get("lambda_functions", {}).get(function, {})
    return specific.get("lambda_memory_size", settings.get("lambda_memory_size", 128))


def duration_ms(invocation: Invocation, memory_mb: int) -> float:
    calls = sum(invocation.calls.values())
    cpu = CPU_MS_PER_CALL * calls + CPU_MS_PER_JOB * max(invocation.jobs, 1)
    cpu *= max(1.0, FULL_VCPU_MB / memory_mb)
    waiting = sum(LATENCY_MS.get(s, 10.0) * n for s, n in invocation.calls.items())
    if invocation.function == "callbacks":
        waiting += LATENCY_MS["callback"] * invocation.jobs
    if invocation.function in ("sender", "receipts", "callbacks"):
        waiting /= min(max(invocation.jobs, 1), 10)  # a batch's jobs wait at once
    return cpu + waiting


def costs(run: Run, front_door: str) -> list[tuple[str, str, float]]:
    """(item, per message, $ per million messages)."""
    n = run.messages
    per = lambda value: value / n  # noqa: E731
    wru = sum(c.units for c in run.charges if c.kind == "W")
    table_wru = sum(c.units for c in run.charges if c.kind == "W" and c.target == TABLE)
    rru = sum(c.units for c in run.charges if c.kind == "R")
    by_function = defaultdict(list)
    for invocation in run.invocations:
        by_function[invocation.function].append(invocation)
    gb_s = sum(
        duration_ms(i, memory_of(i.function)) / 1000 * memory_of(i.function) / 1024
        for i in run.invocations
    )
    lambda_requests = len(run.invocations)
    log_bytes = sum(i.log_bytes for i in run.invocations) + PLATFORM_LOG_BYTES * lambda_requests
    handler_sqs = sum(i.calls.get("sqs", 0) for i in run.invocations)
    queue_batches = sum(
        1 for i in run.invocations if i.function in ("sender", "receipts", "callbacks")
    )
    sqs = handler_sqs + 2 * queue_batches + run.carrier_events
    kms = sum(i.calls.get("kms", 0) for i in run.invocations)
    door = {"rest_api": "API Gateway REST", "http_api": "API Gateway HTTP API",
            "function_url": "Lambda function URL"}[front_door]  # fmt: skip
    index_wru = wru - table_wru
    rows = [
        ("DynamoDB writes", f"{per(wru):.2f} WRU (table {per(table_wru):.2f}, indexes "
         f"{per(index_wru):.2f})", per(wru) * PRICES["wru"] * 1e6),
        (door, f"{per(run.api_requests):.2f} requests",
         per(run.api_requests) * PRICES[front_door] * 1e6),
        ("Lambda duration (arm64, modelled)", f"{per(gb_s):.4f} GB-s",
         per(gb_s) * PRICES["gb_second"] * 1e6),
        ("CloudWatch Logs", f"{per(log_bytes) / 1024:.2f} KB",
         per(log_bytes) / 1024**3 * PRICES["log_gb"] * 1e6),
        ("SQS", f"{per(sqs):.2f} requests", per(sqs) * PRICES["sqs"] * 1e6),
        ("SNS carrier events", f"{per(run.carrier_events):.2f}",
         per(run.carrier_events) * PRICES["sns"] * 1e6),
        ("DynamoDB reads", f"{per(rru):.2f} RRU", per(rru) * PRICES["rru"] * 1e6),
        ("Lambda requests", f"{per(lambda_requests):.2f}",
         per(lambda_requests) * PRICES["lambda_request"] * 1e6),
        ("KMS", f"{per(kms):.4f} requests", per(kms) * PRICES["kms"] * 1e6),
    ]  # fmt: skip
    return sorted(rows, key=lambda row: -row[2])


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(runs: list[Run], command: str, elapsed: float) -> str:
    import boto3
    import moto

    out = [
        "### What a message costs",
        "",
        f"Command: `{command}`. Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} "
        f"cores, Python {platform.python_version()}, boto3 {boto3.__version__}, moto "
        f"{moto.__version__}; {elapsed:.0f} s. Stage on End User Messaging; "
        f"{runs[0].messages} messages per rate, each with a StatusCallback, every other one "
        "with an Idempotency-Key, one list page per 100 and one fetch per message. "
        "us-east-1 on-demand list prices.",
        "",
    ]
    for run in runs:
        for door in ("rest_api", "http_api", "function_url"):
            rows = costs(run, door)
            total = sum(cost for _, _, cost in rows)
            label = {"rest_api": "API Gateway REST API", "http_api": "API Gateway HTTP API",
                     "function_url": "Lambda function URL"}[door]  # fmt: skip
            out += [
                f"**{run.rate} rate, front door {label}** (per message; $ per million "
                f"messages): total **${total:.2f}**",
                "",
                table(
                    ["item", "per message", "$ per million messages"],
                    [[item, amount, f"{cost:.2f}"] for item, amount, cost in rows]
                    + [["**total**", "", f"**{total:.2f}**"]],
                ),
                "",
            ]
        invocations = Counter(i.function for i in run.invocations)
        jobs = Counter()
        for i in run.invocations:
            jobs[i.function] += i.jobs
        out += [
            f"{run.rate} rate: final statuses {dict(run.statuses)}; invocations per message "
            + ", ".join(
                f"{f} {invocations[f] / run.messages:.2f} ({jobs[f] / max(invocations[f], 1):.1f} "
                "jobs each)"
                for f in sorted(invocations)
            )
            + f"; memory {', '.join(f'{f} {memory_of(f)} MB' for f in sorted(invocations))}.",
            "",
            "Lambda GB-s per message by function, at its memory (and at 1,024 / 512 / 256 / "
            "128 MB): "
            + ", ".join(
                f"{f} {gb_seconds(run, f, memory_of(f)):.4f} ("
                + " / ".join(f"{gb_seconds(run, f, mb):.4f}" for mb in (1024, 512, 256, 128))
                + ")"
                for f in sorted(invocations)
            ),
            "",
            "Calls per message by function: "
            + ", ".join(
                f"{f} {s}:{op} {n / run.messages:.2f}"
                for (f, s, op), n in sorted(run.calls.items())
            ),
            "",
            "Write units per message by function: "
            + ", ".join(
                f"{f} {u / run.messages:.2f}" for f, u in sorted(units_by(run, "W").items())
            )
            + "; read units: "
            + ", ".join(
                f"{f} {u / run.messages:.2f}" for f, u in sorted(units_by(run, "R").items())
            ),
            "",
        ]
    return "\n".join(out)


def gb_seconds(run: Run, function: str, memory_mb: int) -> float:
    total = sum(
        duration_ms(i, memory_mb) / 1000 * memory_mb / 1024
        for i in run.invocations
        if i.function == function
    )
    return total / run.messages


def units_by(run: Run, kind: str) -> dict:
    totals = defaultdict(float)
    for charge in run.charges:
        if charge.kind == kind:
            totals[f"{charge.phase} {charge.target}"] += charge.units
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cost", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rates", default="high,low")
    parser.add_argument("--smoke", action="store_true", help="a few messages, to check it runs")
    args = parser.parse_args(argv)
    count = 4 if args.smoke else args.messages
    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    os.environ.update(
        HERALD_CARRIER="end-user-messaging",
        HERALD_EUM_ORIGINATION_IDENTITY="+15005550006",
        HERALD_EUM_CONFIGURATION_SET="herald-cost",
        HERALD_ALLOW_PRIVATE_URLS="1",
        HERALD_STAGE="cost",
        HERALD_LOG_FORMAT="json",
    )
    import boto3
    import botocore.session

    # The hooks go on the default session before any client exists: every client boto3
    # makes from it (Herald's, the event sources') copies them.
    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    recorder = Recorder(session)
    raw = botocore.session.get_session()
    started = time.perf_counter()
    from devtools import services

    runs = []
    real_stdout = sys.stdout
    with services.embedded_aws() as endpoint:
        os.environ.update(DYNAMODB_ENDPOINT_URL=endpoint, AWS_ENDPOINT_URL=endpoint)
        unhooked = raw.create_client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        ledger = PhasedLedger(
            types.SimpleNamespace(meta=types.SimpleNamespace(events=session.events)),
            unhooked,
            os.environ["HERALD_TABLE_NAME"],
            types.SimpleNamespace(ms=0),
        )
        for rate in args.rates.split(","):
            log(f"{rate} rate: {count} messages")
            counter = LogCounter(recorder)
            sys.stdout = counter
            try:
                run = workload(rate, count, session, recorder, ledger)
            finally:
                sys.stdout = real_stdout
            run.outside_log_bytes = counter.outside
            runs.append(run)
            log(f"{rate} rate: {run.seconds:.0f} s, {dict(run.statuses)}")
    print(report(runs, command, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
