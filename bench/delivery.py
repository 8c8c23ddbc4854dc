"""The delivery pipeline, measured: create → delivered latency, and the send worker's
throughput on one core.

    .venv/bin/python -m bench.delivery [--messages 1000] [--rate 4] [--high-rate 7,10]
        [--throughput-messages 1000] [--wait-for-load 1.0] [--max-wait 1200]

Printed figures, not a test, as Markdown. Nothing reaches AWS: fake credentials, and every
AWS call goes to moto (the embedded server, or in process for the throughput figure).

1. **Latency.** Herald served as `make run` serves it (`devtools.server.serve_herald`: the
   app in a child process whose threads also poll the table's stream and the delivery
   queues, devtools/local_workers.py), on the embedded AWS (`devtools.server.embedded_aws`,
   moto's server with atomic requests, in this process) with `run.delivery_environment`'s
   queues and key, and HERALD_SANDBOX_DELAY_SECONDS=0 (the sandbox carrier queues both of
   its receipts at once). Served over HTTP rather than in-process so that the API, the
   stream reader and the three queue workers share one interpreter as they do under `make
   run`, and moto (this process) competes with them only for the machine's cores, not for
   their GIL. Messages are created over HTTP at a steady rate (each create is scheduled at
   t0 + i/rate, from a pool of 8 client threads, so a slow answer does not delay the next
   one); every 4th has a StatusCallback to a receiver on 127.0.0.1 this script runs. Then it
   waits until every message is final, and reads each one's `history` (status, at_ms: both
   written by Herald's own clock): create → delivered is delivered.at_ms - created_ms. The
   HTTP create latency is the client's (request sent → answer read).
   Where the time goes: moto runs in this process, so its SQS and DynamoDB Streams
   backends are wrapped to note (on the same wall clock as Herald's) when the stream reader
   first read each message change, when each job was queued and when it was first received.
   The local workers wait for work in long polls (devtools/long_polls.py), so no hop waits
   for a poll cycle.
2. **Throughput of the send worker on one core.** A fresh interpreter pinned to one CPU
   (os.sched_setaffinity, on the CPU that was idlest just before), moto in the same process
   (`mock_aws`: no HTTP, so everything the figure costs is on that one core, moto's share
   included). N messages are created through the API (chalice.test.Client) and their send
   jobs queued with no worker running; then the `sender` handler (app.sender, fed by
   devtools.event_sources.QueueSource in batches of 10, as Lambda's SQS source) drains
   them: read, claim (sending), sandbox hand-off (two receipt jobs queued), record sent.
   Every botocore API call and moto's handling of it are timed (CPU time, on botocore's
   hooks: a batch's jobs run at once on threads), so the handler's CPU time is split into
   Herald's own code, botocore's client side (serialising, signing, parsing: on Lambda it
   stays) and moto (on Lambda, the network and DynamoDB/SQS instead); a cProfile
   run of the same work adds the self time by package. Herald's log lines are written to
   /dev/null as JSON (the formatting cost is kept).

The machine's load average is printed at the start and the end: this is a shared 2-core
machine and the figures are only as quiet as it was. --wait-for-load L waits (up to
--max-wait seconds, checking every 30 s) for the 1-minute load average to fall below L
before measuring.
"""

import argparse
import contextlib
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent

from bench.harness import CallTimer, callback_receiver, offline  # noqa: E402

# Before anything imports boto3.
offline("herald-bench-delivery", HERALD_SANDBOX_DELAY_SECONDS="0")

COMMAND = ".venv/bin/python -m bench.delivery"
TO = "+14155550100"  # the sandbox delivers it: TEXT_SUCCESSFUL, then TEXT_DELIVERED
FROM = "+15005550006"
CALLBACK_EVERY = 4
CLIENT_THREADS = 8
CALLBACKS_PER_MESSAGE = 3  # sending, sent, delivered (queued is the create's own status)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- figures ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def own_cpu_seconds() -> float:
    """CPU seconds used by this process and its waited-for children (the Herald child)."""
    import resource

    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def wait_for_load(threshold: float, max_wait: float) -> str:
    """Wait until the 1-minute load average is below `threshold` (or `max_wait` passes);
    what happened, for the report."""
    started = time.monotonic()
    checks = []
    while True:
        one = os.getloadavg()[0]
        checks.append(f"{one:.2f}")
        if one < threshold:
            waited = time.monotonic() - started
            return f"load {one:.2f} < {threshold} after {waited:.0f} s (checks: {checks})"
        if time.monotonic() - started >= max_wait:
            return f"load still {one:.2f} ≥ {threshold} after {max_wait:.0f} s; measured anyway"
        log(f"load average {one:.2f} ≥ {threshold}: waiting 30 s")
        time.sleep(30)


# --- the latency run: make run's Herald, over HTTP ----------------------------------------


# What Trace reads, by the X-Amz-Target of the request (SQS and DynamoDB Streams speak JSON).
TRACED = {
    "AmazonSQS.SendMessage",
    "AmazonSQS.SendMessageBatch",
    "AmazonSQS.ReceiveMessage",
    "DynamoDBStreams_20120810.GetRecords",
}


class Trace:
    """When moto (this process) saw each step of a message: the stream reader's first read
    of each status change, each job queued, each job first received. Times in ms on the
    wall clock Herald's history uses (time.time)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stream_read: dict[tuple[str, str], float] = {}
        self.queued: dict[tuple, float] = {}
        self.received: dict[tuple, float] = {}

    @staticmethod
    def job_key(queue: str, body: str) -> tuple | None:
        try:
            job = json.loads(body)
        except ValueError:
            return None
        if not isinstance(job, dict):
            return None
        if "context" in job:  # a receipt: an End User Messaging event
            from chalicelib.carriers import events

            sid = (job.get("context") or {}).get(events.CONTEXT_SID)
            return (queue, sid, job.get("eventType"))
        return (queue, job.get("sid"), job.get("status") or job.get("kind"))

    def note(self, where: dict, key, at: float) -> None:
        if key is None:
            return
        with self.lock:
            where.setdefault(key, at)

    current: "Trace | None" = None  # the phase's trace, while one is installed

    @contextlib.contextmanager
    def installed(self) -> Iterator["Trace"]:
        Trace.current = self
        try:
            yield self
        finally:
            Trace.current = None

    @staticmethod
    def wrap(app):
        """The embedded AWS's WSGI app with the requests the trace watches read on their way
        through: moto's HTTP interface, the one Herald's clients use, no moto internals."""

        def traced(environ, start_response):
            trace, target = Trace.current, environ.get("HTTP_X_AMZ_TARGET", "")
            if trace is None or target not in TRACED:
                return app(environ, start_response)
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            answer = b"".join(app(environ, start_response))
            trace.saw(target.split(".", 1)[1], json.loads(body or b"{}"), answer)
            return [answer]

        return traced

    def saw(self, operation: str, request: dict, answer: bytes) -> None:
        now = time.time() * 1000
        queue = str(request.get("QueueUrl", "")).rsplit("/", 1)[-1]
        if operation == "SendMessage":
            self.note(self.queued, self.job_key(queue, request.get("MessageBody", "")), now)
        elif operation == "SendMessageBatch":
            for entry in request.get("Entries", []):
                self.note(self.queued, self.job_key(queue, entry.get("MessageBody", "")), now)
        elif operation == "ReceiveMessage":
            for message in json.loads(answer or b"{}").get("Messages", []):
                self.note(self.received, self.job_key(queue, message.get("Body", "")), now)
        else:  # the stream's GetRecords
            for record in json.loads(answer or b"{}").get("Records", []):
                image = record.get("dynamodb", {}).get("NewImage") or {}
                sid, status = image.get("sid", {}).get("S"), image.get("status", {}).get("S")
                if sid and status and sid.startswith("SM"):
                    self.note(self.stream_read, (sid, status), now)


def create_at_rate(url: str, account: dict, receiver: dict, rate: float, count: int) -> dict:
    """Create `count` messages at `rate` a second; their Sids, HTTP latencies and lateness."""
    import base64

    sid_of, http_ms, late_ms, failures = [None] * count, [None] * count, [], Counter()
    credentials = f"{account['account_sid']}:{account['auth_token']}".encode()
    headers = {
        "Authorization": "Basic " + base64.b64encode(credentials).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    endpoint = f"{url}/2010-04-01/Accounts/{account['account_sid']}/Messages.json"

    def create(i: int) -> None:
        params = {"To": TO, "From": FROM, "Body": f"Herald bench message {i}"}
        if i % CALLBACK_EVERY == 0:
            params["StatusCallback"] = receiver.url
        request = urllib.request.Request(
            endpoint, data=urlencode(params).encode(), headers=headers, method="POST"
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            failures[error.code] += 1
            return
        except OSError as error:
            failures[type(error).__name__] += 1
            return
        http_ms[i] = (time.perf_counter() - started) * 1000
        sid_of[i] = answer["sid"]

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        started = time.perf_counter() + 0.05
        futures = []
        for i in range(count):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            late_ms.append(max(0.0, (time.perf_counter() - due) * 1000))
            futures.append(pool.submit(create, i))
        for future in futures:
            future.result()
        took = time.perf_counter() - started
    return {
        "sids": [sid for sid in sid_of if sid],
        "callback_sids": {sid for i, sid in enumerate(sid_of) if sid and i % CALLBACK_EVERY == 0},
        "http_ms": [value for value in http_ms if value is not None],
        "late_ms": late_ms,
        "failures": dict(failures),
        "seconds": took,
    }


def read_messages(account_sid: str, sids: list[str]) -> dict[str, dict]:
    """Each message's stored fields (BatchGetItem, 100 at a time)."""
    from chalicelib import storage
    from chalicelib.storage import marshal, schema

    found = {}
    for start in range(0, len(sids), 100):
        request = {
            storage.client.table(): {
                "Keys": [schema.message_key(account_sid, sid) for sid in sids[start : start + 100]]
            }
        }
        while request:
            answer = storage.client.call("batch_get_item", RequestItems=request)
            for item in answer.get("Responses", {}).get(storage.client.table(), []):
                fields = schema.fields_of(marshal.from_attrs(item))
                found[fields["sid"]] = fields
            request = answer.get("UnprocessedKeys") or {}
    return found


def wait_until_final(account_sid: str, sids: list[str], timeout: float) -> dict[str, dict]:
    from chalicelib.messages.status import FINAL

    final_values = {status.value for status in FINAL}
    deadline = time.monotonic() + timeout
    outstanding, done = list(sids), {}
    while outstanding and time.monotonic() < deadline:
        time.sleep(0.5)
        for sid, fields in read_messages(account_sid, outstanding).items():
            if fields.get("status") in final_values:
                done[sid] = fields
        outstanding = [sid for sid in outstanding if sid not in done]
    if outstanding:
        done.update(read_messages(account_sid, outstanding))
    return done


def history_at(fields: dict, status: str) -> float | None:
    for entry in fields.get("history") or []:
        if entry.get("status") == status:
            return float(entry["at_ms"])
    return None


def idle_poll_ms(endpoint: str, env: dict) -> dict:
    """What one poll of each kind that finds nothing costs against this moto server, without
    waiting: the median of 20."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    arn = dynamodb.describe_table(TableName=os.environ["HERALD_TABLE_NAME"])["Table"][
        "LatestStreamArn"
    ]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    # An empty queue of its own: a receive on the delivery queues would take their jobs.
    probe = sqs.create_queue(QueueName="herald-bench-probe")["QueueUrl"]
    stream_ms, queue_ms = [], []
    for _ in range(20):
        started = time.perf_counter()
        streams.describe_stream(StreamArn=arn)
        streams.get_records(ShardIterator=iterator, Limit=100)
        stream_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        sqs.receive_message(
            QueueUrl=probe, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        )
        queue_ms.append((time.perf_counter() - started) * 1000)
    sqs.delete_queue(QueueUrl=probe)
    return {"stream": statistics.median(stream_ms), "queue": statistics.median(queue_ms)}


def analyse(created: dict, stored: dict[str, dict], trace: Trace, receiver: dict) -> dict:
    from chalicelib.delivery import sources

    statuses = Counter(fields.get("status") for fields in stored.values())
    missing = len(created["sids"]) - len(stored)
    total, stages = [], defaultdict(list)
    callback_ms, claims = [], []
    for sid in created["sids"]:
        fields = stored.get(sid)
        if fields is None:
            continue
        created_ms = float(fields["created_ms"])
        sending, sent = history_at(fields, "sending"), history_at(fields, "sent")
        delivered = history_at(fields, "delivered")
        if delivered is None:
            continue
        total.append(delivered - created_ms)
        stream_read = trace.stream_read.get((sid, "queued"))
        send_queued = trace.queued.get((sources.SEND_QUEUE, sid, "send"))
        send_received = trace.received.get((sources.SEND_QUEUE, sid, "send"))
        receipt_queued = trace.queued.get((sources.RECEIPT_QUEUE, sid, "TEXT_DELIVERED"))
        receipt_received = trace.received.get((sources.RECEIPT_QUEUE, sid, "TEXT_DELIVERED"))
        steps = [
            ("created → stream reader read it", created_ms, stream_read),
            ("→ dispatcher queued the send job", stream_read, send_queued),
            ("→ sender received the job", send_queued, send_received),
            ("→ claimed (sending)", send_received, sending),
            ("→ carrier queued its receipts", sending, receipt_queued),
            ("→ receipts worker received TEXT_DELIVERED", receipt_queued, receipt_received),
            ("→ delivered recorded", receipt_received, delivered),
        ]
        for label, start, end in steps:
            if start is not None and end is not None:
                stages[label].append(end - start)
        if sending is not None and sent is not None:
            stages["(sending → sent recorded)"].append(sent - sending)
        if sending is not None:
            claims.append(sending)
        if sid in created["callback_sids"]:
            arrived = receiver.arrived.get((sid, "delivered"))
            if arrived is not None:
                callback_ms.append(arrived - created_ms)
    return {
        "statuses": dict(statuses),
        "missing": missing,
        "total": summary(total),
        "stages": {label: summary(values) for label, values in stages.items()},
        "http": summary(created["http_ms"]),
        "late": summary(created["late_ms"]),
        "callback": summary(callback_ms),
        "callbacks_expected": CALLBACKS_PER_MESSAGE * len(created["callback_sids"]),
        "failures": created["failures"],
        "seconds": created["seconds"],
        # From the first claim to the last: when the sender is behind, its capacity.
        "claim_rate": (len(claims) - 1) / ((max(claims) - min(claims)) / 1000)
        if len(claims) > 1 and max(claims) > min(claims)
        else None,
    }


def latency(phases: list[tuple[float, int]]) -> dict:
    import admin
    from chalicelib import storage
    from chalicelib.storage import tokens
    from devtools import run, server

    results = {}
    with contextlib.ExitStack() as stack:
        # The embedded AWS's settings last as long as it does: the throughput run that
        # follows (a child process) inherits none of them.
        saved = dict(os.environ)
        stack.callback(lambda: (os.environ.clear(), os.environ.update(saved)))
        endpoint = stack.enter_context(server.embedded_aws(wrap=Trace.wrap))
        env = server.server_environment(endpoint, embedded=True)
        env.update(run.delivery_environment(endpoint, stack))
        env["HERALD_SANDBOX_DELAY_SECONDS"] = "0"
        os.environ.update(env)
        storage.reset()
        tokens.reset()
        storage.ensure_table()
        receiver = stack.enter_context(callback_receiver())
        url = stack.enter_context(server.serve_herald(env, quiet=True))
        polls = idle_poll_ms(endpoint, env)
        for rate, count in phases:
            account = admin.create_account()  # one per phase: the phases' messages apart
            before = receiver.count
            trace = Trace()
            log(f"latency: {count} messages at {rate:g}/s")
            with trace.installed():
                created = create_at_rate(url, account, receiver, rate, count)
                stored = wait_until_final(account["account_sid"], created["sids"], 120 + count)
                expected = CALLBACKS_PER_MESSAGE * len(created["callback_sids"])
                deadline = time.monotonic() + 30
                while receiver.count - before < expected and time.monotonic() < deadline:
                    time.sleep(0.2)
            result = analyse(created, stored, trace, receiver)
            result["callbacks_received"] = receiver.count - before
            result["rate"], result["count"] = rate, count
            results[f"{rate:g}"] = result
            time.sleep(2)  # the workers go idle again before the next phase
    return {"phases": results, "idle_poll_ms": polls}


# --- the throughput run: the sender alone, one core, moto in process ----------------------


def idlest_cpu() -> int:
    """The allowed CPU that was idlest over the last half second (/proc/stat)."""
    allowed = sorted(os.sched_getaffinity(0))

    def sample() -> dict[int, tuple[int, int]]:
        out = {}
        with open("/proc/stat") as stat:
            for line in stat:
                name, *values = line.split()
                if name.startswith("cpu") and name != "cpu":
                    numbers = [int(v) for v in values]
                    out[int(name[3:])] = (numbers[3] + numbers[4], sum(numbers))
        return out

    try:
        before = sample()
        time.sleep(0.5)
        after = sample()
    except OSError:
        return allowed[0]

    def busy(cpu: int) -> float:
        idle = after[cpu][0] - before[cpu][0]
        total = after[cpu][1] - before[cpu][1]
        return 1 - idle / total if total else 1.0

    return min(allowed, key=busy)


class Meter(CallTimer):
    """CPU time of every botocore API call and of moto's handling of it, split by where the
    call was made (the handler, or the event source around it), on botocore's hooks
    (bench/harness.py); and the handler's own CPU time. CPU, not wall: a batch's jobs run at
    once on a thread pool (chalicelib/jobs/batch.py), so their calls' wall times overlap,
    while on one pinned core their CPU times add up to the handler's."""

    def __init__(self, session):
        super().__init__(session, clock=time.thread_time)
        self.handler_s = 0.0


STDLIB = "stdlib, other"


def _owners(stats: dict, function: tuple, depth: int = 0, memo: dict | None = None) -> dict:
    """Whose work a function's self time is: its own package's, or (for the standard
    library and builtins) its callers', shared by the self time each caller caused."""
    memo = {} if memo is None else memo
    category = _category(function[0])
    if category != STDLIB or depth > 30:
        return {category: 1.0}
    if function in memo:
        return memo[function]
    memo[function] = {STDLIB: 1.0}  # a cycle comes back to this: leave it as it is
    callers = stats[function][4] if function in stats else {}
    caused = sum(entry[2] for entry in callers.values())
    if caused <= 0:
        return memo[function]
    shares: Counter = Counter()
    for caller, entry in callers.items():
        for owner, share in _owners(stats, caller, depth + 1, memo).items():
            shares[owner] += share * entry[2] / caused
    memo[function] = dict(shares)
    return memo[function]


def _category(filename: str) -> str:
    path = Path(filename)
    if path == ROOT / "app.py" or ROOT / "chalicelib" in path.parents:
        return "Herald (chalicelib, app.py)"
    if ROOT / "devtools" in path.parents:
        return "event source (devtools)"
    if ROOT / "bench" in path.parents:
        return "bench (its timers)"
    parts = set(path.parts)
    if parts & {"moto", "responses", "werkzeug"}:
        return "moto (and responses, werkzeug)"
    if parts & {"botocore", "boto3", "s3transfer", "urllib3"}:
        return "botocore, boto3"
    if "chalice" in parts:
        return "chalice"
    return STDLIB


def throughput_child(count: int, rounds: int, cpu: int, profile_count: int) -> dict:
    """Runs in its own interpreter, pinned to `cpu`: see the module's docstring."""
    import cProfile
    import pstats

    os.sched_setaffinity(0, {cpu})
    from moto import mock_aws

    with mock_aws():
        import boto3
        from chalice.test import Client

        import admin
        from chalicelib import carriers, storage
        from chalicelib.accounts import credentials
        from chalicelib.storage import queues, tokens
        from devtools import local_aws
        from devtools.event_sources import QueueSource

        # The timer's hooks go on the default session before any client exists: every
        # client boto3 makes from it (Herald's, the event source's) copies them.
        boto3.setup_default_session()
        meter = Meter(boto3.DEFAULT_SESSION)
        storage.reset(), queues.reset(), tokens.reset(), credentials.forget()
        env = local_aws.provision(None)
        os.environ.update(env)
        storage.ensure_table()
        account = admin.create_account()
        import app as app_module

        sqs = local_aws._clients(None, "us-east-1")[0]
        send_queue = env["HERALD_SEND_QUEUE_URL"]
        handler = app_module.app.handler_map["sender"]

        def timed_handler(event, context):
            meter.where = "handler"
            started = time.process_time()
            try:
                return handler(event, context)
            finally:
                meter.handler_s += time.process_time() - started
                meter.where = "event source"

        source = QueueSource(sqs, send_queue, timed_handler, "sender")
        import base64

        credentials = f"{account['account_sid']}:{account['auth_token']}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        path = f"/2010-04-01/Accounts/{account['account_sid']}/Messages.json"

        def prepare(client, n: int) -> list[str]:
            sids = []
            for i in range(n):
                body = urlencode({"To": TO, "From": FROM, "Body": f"Herald bench message {i}"})
                answer = client.http.post(path, headers=headers, body=body)
                assert answer.status_code == 201, answer.body
                sids.append(json.loads(answer.body)["sid"])
            jobs = [{"kind": "send", "account_sid": account["account_sid"], "sid": s} for s in sids]
            queues.send_many(send_queue, jobs)
            return sids

        receipts = env["HERALD_RECEIPT_QUEUE_URL"]

        def empty_receipts() -> tuple[float, float]:
            """No receipts worker runs here: its queue is emptied after each batch, as that
            worker would, since moto's SendMessage costs time in proportion to the messages
            already in the queue (it counts them for the queue's attributes). Through the
            API, as any client; its wall and CPU time are left out of the drain's."""
            meter.where = "setup"
            wall, cpu_time = time.perf_counter(), time.process_time()
            while jobs := sqs.receive_message(
                QueueUrl=receipts, MaxNumberOfMessages=10, VisibilityTimeout=60
            ).get("Messages"):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(jobs)
                ]
                sqs.delete_message_batch(QueueUrl=receipts, Entries=entries)
            return time.perf_counter() - wall, time.process_time() - cpu_time

        def drain() -> tuple[int, float, float]:
            done = 0
            aside_wall = aside_cpu = 0.0
            wall, cpu_time = time.perf_counter(), time.process_time()
            while True:
                meter.where = "event source"
                found = source.poll()
                spent_wall, spent_cpu = empty_receipts()
                aside_wall, aside_cpu = aside_wall + spent_wall, aside_cpu + spent_cpu
                if not found:
                    break
                done += found
            meter.where = "setup"
            wall, cpu_time = time.perf_counter() - wall, time.process_time() - cpu_time
            return done, wall - aside_wall, cpu_time - aside_cpu

        def sent_count(sids: list[str]) -> Counter:
            from chalicelib.storage import messages as stored

            return Counter(stored.get_message(account["account_sid"], s)["status"] for s in sids)

        rows = []
        devnull = open(os.devnull, "w")  # noqa: SIM115 - Herald's log lines, for the whole run
        real_stdout = sys.stdout
        with Client(app_module.app) as client:
            carriers.current()
            sys.stdout = devnull
            try:
                prepare(client, 20), drain()  # warm: clients made, modules imported
                for _ in range(rounds):
                    sids = prepare(client, count)
                    meter.api.clear(), meter.moto.clear(), meter.calls.clear()
                    meter.handler_s = 0.0
                    done, wall, cpu_s = drain()
                    statuses = sent_count(sids)
                    rows.append(
                        {
                            "jobs": done,
                            "wall_s": wall,
                            "cpu_s": cpu_s,
                            "handler_s": meter.handler_s,
                            "handler_api_s": meter.api["handler"],
                            "handler_moto_s": meter.moto["handler"],
                            "source_api_s": meter.api["event source"],
                            "source_moto_s": meter.moto["event source"],
                            "calls": {
                                f"{where}: {service} {operation}": n / max(done, 1)
                                for (where, service, operation), n in sorted(meter.calls.items())
                            },
                            "statuses": dict(statuses),
                        }
                    )
                # The profile: the same work under cProfile, self time by package.
                prepare(client, profile_count)
                meter.handler_s = 0.0
                profiler = cProfile.Profile()
                profiler.enable()
                drain()
                profiler.disable()
            finally:
                sys.stdout = real_stdout
        stats = pstats.Stats(profiler).stats
        by_category: Counter = Counter()
        attributed: Counter = Counter()
        herald_functions: Counter = Counter()
        for function, (_cc, _nc, tottime, _ct, _) in stats.items():
            filename, line, name = function
            category = _category(filename)
            by_category[category] += tottime
            for owner, share in _owners(stats, function).items():
                attributed[owner] += tottime * share
            if category.startswith("Herald"):
                short = Path(filename).relative_to(ROOT)
                herald_functions[f"{short}:{line}({name})"] = tottime
        total = sum(by_category.values())
    return {
        "cpu": cpu,
        "rounds": rows,
        "profile": {k: v / total for k, v in by_category.most_common()},
        "profile_attributed": {k: v / total for k, v in attributed.most_common()},
        "profile_total_s": total,
        "profile_jobs": profile_count,
        "herald_top": herald_functions.most_common(12),
    }


def throughput(count: int, rounds: int, profile_count: int) -> dict:
    cpu = idlest_cpu()
    log(f"throughput: {rounds} rounds of {count} send jobs on CPU {cpu}")
    answer = subprocess.run(
        [sys.executable, "-m", "bench.delivery", "--throughput-child",
         f"{count},{rounds},{cpu},{profile_count}"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if answer.returncode != 0:
        raise RuntimeError(f"the throughput run failed:\n{answer.stderr[-4000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


# --- output -------------------------------------------------------------------------------


def latency_report(result: dict, phases: list[tuple[float, int]]) -> list[str]:
    from devtools import local_workers

    out = [
        "**create → delivered latency** (delivered.at_ms - created_ms from each message's "
        "history, Herald's clock; through `serve_herald` as `make run` serves it, embedded "
        "moto, sandbox carrier with HERALD_SANDBOX_DELAY_SECONDS=0; every "
        f"{CALLBACK_EVERY}th message has a StatusCallback to a 127.0.0.1 receiver), ms:",
        "",
    ]
    header = ["rate (msg/s)", "messages", "delivered", "p50", "p90", "p99", "max", "mean",
              "HTTP create p50", "HTTP create p99", "callbacks"]  # fmt: skip
    rows = []
    for key, phase in result["phases"].items():
        total, http = phase["total"], phase["http"]
        rows.append(
            [key, phase["count"], phase["statuses"].get("delivered", 0), ms(total.get("p50")),
             ms(total.get("p90")), ms(total.get("p99")), ms(total.get("max")),
             ms(total.get("mean")), ms(http.get("p50")), ms(http.get("p99")),
             f"{phase['callbacks_received']}/{phase['callbacks_expected']}"]
        )  # fmt: skip
    out += [table(header, rows), ""]
    for key, phase in result["phases"].items():
        other = {s: n for s, n in phase["statuses"].items() if s != "delivered"}
        late = phase["late"]
        notes = [
            f"at {key}/s the {phase['count']} creates took {phase['seconds']:.1f} s "
            f"(scheduled {phase['count'] / phase['rate']:.1f} s; a create started late by "
            f"p99 {ms(late.get('p99'))} ms, max {ms(late.get('max'))} ms)"
        ]
        if other or phase["missing"] or phase["failures"]:
            notes.append(
                f"not delivered: {other or 'none'}, missing {phase['missing']}, "
                f"create failures {phase['failures'] or 'none'}"
            )
        waits = phase["stages"].get("→ sender received the job", {})
        if waits.get("p99", 0) > 1000:
            notes.append(
                f"**a backlog**: send jobs waited up to {ms(waits['max'])} ms (p99 "
                f"{ms(waits['p99'])}) for the one local sender thread, so this is queueing, "
                "not latency; the sender claimed messages at "
                f"{phase['claim_rate']:.1f}/s from its first claim to its last (its capacity "
                "here, with everything else running)"
            )
        callback = phase["callback"]
        if callback.get("n"):
            notes.append(
                f"create → the `delivered` status callback received: p50 "
                f"{ms(callback['p50'])}, p99 {ms(callback['p99'])} ms (n={callback['n']})"
            )
        out.append("- " + "; ".join(notes) + ".")
    out.append("")
    polls = result["idle_poll_ms"]
    first = next(iter(result["phases"]))
    out += [
        f"**Where the time goes at {first}/s** (ms per message; each step from the moment "
        "moto, in the bench process, saw the step before: the stream reader's first read of "
        "the new message, a job queued, a job first received; the others from the message's "
        "history):",
        "",
    ]
    header = ["step", "p50", "p90", "p99", "mean"]
    rows = []
    for label, stage in result["phases"][first]["stages"].items():
        rows.append(
            [label, ms(stage.get("p50")), ms(stage.get("p90")), ms(stage.get("p99")),
             ms(stage.get("mean"))]
        )  # fmt: skip
    out += [
        table(header, rows),
        "",
        f"An idle worker waits in a long poll (up to WAIT_SECONDS, {local_workers.WAIT_SECONDS} "
        "s; devtools/local_workers.py and devtools/long_polls.py) that answers as soon as a "
        "job is queued or a record written, so no step waits for a poll cycle. For reference, "
        f"a poll that finds nothing and does not wait costs {polls['stream']:.1f} ms on the "
        f"stream (DescribeStream + GetRecords) and {polls['queue']:.1f} ms on a queue "
        "(ReceiveMessage). The rest is Herald's work and moto's answers.",
        "",
    ]
    return out


THROUGHPUT_HEADER = ["round", "jobs", "wall s", "msg/s (wall)", "msg/s (CPU)", "msg/s (handler)",
                     "handler ms/msg", "Herald ms/msg", "botocore ms/msg", "moto ms/msg",
                     "msg/s without moto", "statuses"]  # fmt: skip


def throughput_report(result: dict, count: int) -> list[str]:
    rows = []
    for n, row in enumerate(result["rounds"], 1):
        jobs = row["jobs"]
        own = row["handler_s"] - row["handler_api_s"]
        botocore = row["handler_api_s"] - row["handler_moto_s"]
        rows.append(
            [n, jobs, f"{row['wall_s']:.2f}", f"{jobs / row['wall_s']:.0f}",
             f"{jobs / row['cpu_s']:.0f}", f"{jobs / row['handler_s']:.0f}",
             f"{row['handler_s'] / jobs * 1000:.2f}", f"{own / jobs * 1000:.2f}",
             f"{botocore / jobs * 1000:.2f}", f"{row['handler_moto_s'] / jobs * 1000:.2f}",
             f"{jobs / (own + botocore):.0f}", ", ".join(f"{k} {v}" for k, v in
                                                         row["statuses"].items())]
        )  # fmt: skip
    out = [
        f"**Send worker throughput on one core** (CPU {result['cpu']}, the process pinned "
        "with os.sched_setaffinity; moto in the same process via mock_aws, so moto's work is "
        f"on that core too; {count} send jobs per round, queued with no worker running, then "
        "drained by `app.sender` through QueueSource, 10 jobs a batch):",
        "",
        table(THROUGHPUT_HEADER, rows),
        "",
        "msg/s (wall) is the whole drain, ReceiveMessage and DeleteMessageBatch included; "
        "(CPU) the same per CPU second of the process (steadier on a shared machine); "
        "(handler) the CPU time inside `app.sender` only (its jobs run at once on threads, "
        "so CPU, not wall, adds up). The handler's time splits into "
        "Herald's own code (everything but the API calls), botocore's client side "
        "(serialising, signing, parsing, retries: stays on Lambda) and moto's handling of "
        "the calls (on Lambda: the network and the services instead). *msg/s without moto* "
        "= 1 / (Herald + botocore): the CPU-bound ceiling of one worker core when the "
        "services answer instantly, which real network latency will lower.",
        "",
    ]
    last = result["rounds"][-1]
    calls = {k: v for k, v in last["calls"].items() if not k.startswith("setup")}
    source_ms = (last["source_api_s"]) / last["jobs"] * 1000
    source_moto_ms = last["source_moto_s"] / last["jobs"] * 1000
    out += [
        "API calls per message (last round): "
        + ", ".join(f"{name} {value:.2f}" for name, value in calls.items())
        + f". The event source's calls took {source_ms:.1f} ms per message, "
        f"{source_moto_ms:.1f} of them in moto, whose ReceiveMessage checks every message "
        "left in the queue (all the jobs queued ahead, here) against the queue's attributes, "
        "which it recounts each time: that is the gap between msg/s (wall) and (handler).",
        "",
        f"**cProfile** of one more drain ({result['profile_jobs']} jobs; the profiler slows "
        "Python code, so these are shares, not times): self time by package, "
        f"{result['profile_total_s']:.2f} s in all:",
        "",
        table(
            ["package", "share of self time", "with the stdlib's time given to its callers"],
            [
                [name, f"{share:.1%}", f"{result['profile_attributed'].get(name, 0):.1%}"]
                for name, share in result["profile"].items()
            ],
        ),
        "",
        "The last column gives each standard-library (or builtin) function's self time to "
        "the packages that called it, in proportion to the time each call caused (moto's "
        "datetime and deepcopy work becomes moto's, botocore's json and hashing botocore's).",
        "",
        "Herald's functions with the most self time (ms under the profiler, for all "
        f"{result['profile_jobs']} jobs): "
        + ", ".join(f"`{name}` {seconds * 1000:.1f}" for name, seconds in result["herald_top"][:8]),
        "",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="latency: messages")
    parser.add_argument("--rate", type=float, default=4.0, help="latency: creates a second")
    parser.add_argument(
        "--high-rate", default="7,10", help="higher rates after the first, comma-separated; 0: none"
    )
    parser.add_argument("--high-messages", type=int, default=300, help="at each --high-rate")
    parser.add_argument("--throughput-messages", type=int, default=1000)
    parser.add_argument("--throughput-rounds", type=int, default=3)
    parser.add_argument("--profile-messages", type=int, default=300)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--wait-for-load", type=float, help="wait for a lower load average")
    parser.add_argument("--max-wait", type=float, default=1200.0, help="seconds, at most")
    parser.add_argument("--throughput-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.throughput_child:
        count, rounds, cpu, profile_count = (int(v) for v in args.throughput_child.split(","))
        print(json.dumps(throughput_child(count, rounds, cpu, profile_count)))
        return 0

    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    waited = None
    if args.wait_for_load is not None:
        waited = wait_for_load(args.wait_for_load, args.max_wait)
        log(waited)
    load_start, started = loadavg(), time.perf_counter()
    stamp = datetime.now(UTC)
    phases = [(args.rate, args.messages)]
    phases += [(float(r), args.high_messages) for r in args.high_rate.split(",") if float(r)]
    usage = own_cpu_seconds()
    latency_started = time.perf_counter()
    latency_result = None if args.skip_latency else latency(phases)
    latency_cpu = own_cpu_seconds() - usage
    latency_wall = time.perf_counter() - latency_started
    load_middle = loadavg()
    throughput_result = (
        None
        if args.skip_throughput
        else throughput(args.throughput_messages, args.throughput_rounds, args.profile_messages)
    )
    elapsed, load_end = time.perf_counter() - started, loadavg()

    import boto3
    import moto

    out = [
        "### Delivery pipeline figures",
        "",
        f"Command: `{command}`. Measured {stamp:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} "
        f"cores ({cpu_model()}), Python "
        f"{platform.python_version()}, boto3 {boto3.__version__}, moto {moto.__version__}; "
        f"whole run {elapsed:.0f} s. Load average (1, 5, 15 min): {load_start} at the start, "
        f"{load_middle} after the latency run, {load_end} at the end (a shared machine: "
        "other engineers' tests were running).",
        "",
    ]
    if latency_result is not None:
        out += [
            f"The latency run itself used {latency_cpu:.0f} CPU s in {latency_wall:.0f} s "
            f"(this process, with moto, and the Herald child): {latency_cpu / latency_wall:.2f} "
            "of the load average is its own.",
            "",
        ]
    if waited:
        out += [f"Before measuring: {waited}.", ""]
    if latency_result is not None:
        out += latency_report(latency_result, phases)
    if throughput_result is not None:
        out += throughput_report(throughput_result, args.throughput_messages)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
