"""What Herald tells its operators: one JSON line per event on stdout, some of them also
CloudWatch metrics (Embedded Metric Format). docs/operations.md describes the lines.

    event("send.handoff", sid=..., outcome="accepted", metrics={"MessagesSent": 1})

writes {"time", "level", "event", the invocation's ids, the fields given, and for metrics
the EMF members (observability.metrics)} as one line. Lambda sends stdout to CloudWatch
Logs, which extracts the metrics; nothing here calls AWS, reads DynamoDB or raises.

The fields are a fixed vocabulary (FIELDS), each with a kind that says how it is written:
addresses masked, URLs cut to scheme://host/path, free text scrubbed of phone numbers
(observability.masking). No field can hold a message body, a token, a secret or a header.
A field outside the vocabulary is not written: its name is listed in `unknown_fields`.

A delivery invocation writes its metrics once: inside `batch_metrics()` every line's metrics
are added up (counts summed, latencies kept as EMF's list of values) and written with the
invocation's own line, and a line that only said a job succeeded is a debug line, not
written at the default level. Per message, what CloudWatch Logs ingests is then the request
line and what went wrong, not a line per step (docs/figures.md, the cost of a message).

Python's `logging` under the "herald" logger (herald.delivery, herald.api, herald.local)
comes out as the same lines (event "log"), through configure_logging(); Lambda's own root
handler and its log format setting are left alone. Lines are JSON on Lambda and when stdout
is not a terminal; in a terminal (`make run`) they are one readable line each with the same
fields. HERALD_LOG_FORMAT=json|text decides instead.
"""

import contextlib
import contextvars
import json
import logging
import os
import sys
import threading
import time
import traceback

from chalicelib.observability import metrics as _metrics
from chalicelib.observability.masking import mask_address, mask_url, scrub

__all__ = [
    "FIELDS",
    "batch_metrics",
    "configure_logging",
    "elapsed_ms",
    "event",
    "invocation",
    "mask_address",
    "mask_url",
    "scrub",
]

# How a field is written: ID (a name from a fixed set, or an id: cut to MAX_ID), TEXT (free
# text: scrubbed of phone numbers, cut to MAX_TEXT), ADDRESS and URL (masked).
ID, TEXT, INT, NUMBER, BOOL, ADDRESS, URL = "id", "text", "int", "number", "bool", "address", "url"
FIELDS: dict[str, str] = {
    # Who and what: set by invocation() on every line of a Lambda invocation.
    "function": ID,
    "aws_request_id": ID,  # Lambda's, as in its START/END/REPORT lines
    "request_id": ID,  # API Gateway's (x-amzn-RequestId), API lines only
    "account_sid": ID,
    "sid": ID,
    "message_id": ID,  # the SQS job's
    # The API.
    "operation": ID,  # create | list | fetch | update | delete | openapi | other
    "method": ID,
    "http_status": INT,
    "replayed": BOOL,
    # Delivery.
    "status": ID,  # a message status
    "outcome": ID,
    "reason": TEXT,
    "error_code": INT,  # Twilio's
    "error": TEXT,
    "attempt": INT,
    "carrier": ID,
    "carrier_event": ID,
    "carrier_latency_ms": NUMBER,
    "latency_ms": NUMBER,
    "retry_in_s": INT,
    "recorded": BOOL,
    "signed": BOOL,
    "to": ADDRESS,
    "url": URL,
    "records": INT,
    "jobs": INT,
    "send_jobs": INT,
    "callback_jobs": INT,
    "failed_jobs": INT,
    "dispatched": INT,
    # Python logging records (event "log").
    "logger": ID,
    "message": TEXT,
    "traceback": TEXT,
}
LEVELS = ("debug", "info", "warning", "error", "critical")
MAX_ID, MAX_TEXT, MAX_TRACEBACK = 64, 1000, 8000
FORMAT_VARIABLE = "HERALD_LOG_FORMAT"
# Lines below this level are not written (HERALD_LOG_LEVEL; `debug` shows every line, such
# as the scheduler's sweeps that found nothing due). A line with metrics is always written:
# its counts are the metrics.
LEVEL_VARIABLE = "HERALD_LOG_LEVEL"


def _shown_level(level: str) -> bool:
    wanted = os.environ.get(LEVEL_VARIABLE, "info").lower()
    threshold = LEVELS.index(wanted) if wanted in LEVELS else 1
    return LEVELS.index(level) >= threshold


_invocation: contextvars.ContextVar[dict] = contextvars.ContextVar("herald_invocation")
_write_lock = threading.Lock()


class _Collected:
    """One invocation's metrics: counts summed, latencies as a list of samples."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, float | list] = {}

    def add(self, metrics: dict) -> None:
        with self.lock:
            for name, value in metrics.items():
                if _metrics.METRICS.get(name) == _metrics.MILLISECONDS:
                    samples = self.values.setdefault(name, [])
                    if len(samples) < _metrics.MAX_SAMPLES:
                        samples.append(value)
                else:
                    self.values[name] = self.values.get(name, 0) + value


_collected: contextvars.ContextVar["_Collected | None"] = contextvars.ContextVar(
    "herald_metrics", default=None
)


@contextlib.contextmanager
def batch_metrics():
    """Collect the metrics of every line written inside (the invocation's jobs' threads
    too: they run in copies of this context); yields a function that returns them, for the
    invocation's own line."""
    collected = _Collected()
    token = _collected.set(collected)
    try:
        yield lambda: dict(collected.values)
    finally:
        _collected.reset(token)


def event(name: str, *, level: str = "info", metrics: dict | None = None, **fields) -> None:
    """Write one line for `name` with `fields` (FIELDS) and `metrics` (metrics.METRICS).
    Never raises: a line that cannot be written is lost, and the caller goes on."""
    try:
        level = level if level in LEVELS else "info"
        collected = _collected.get()
        if metrics and collected is not None:
            collected.add(metrics)  # written once, with the invocation's line
            metrics = None
        if not metrics and not _shown_level(level):
            return
        now = time.time()
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
            + f".{int(now * 1000) % 1000:03d}Z",
            "level": level,
            "event": name,
        }
        unknown = []
        for key, value in {**_invocation.get({}), **fields}.items():
            kind = FIELDS.get(key)
            if kind is None:
                unknown.append(key)
            elif value is not None:
                with contextlib.suppress(Exception):  # a value of the wrong kind is left out
                    line[key] = _written(kind, value, key)
        if unknown:
            line["unknown_fields"] = sorted(unknown)
        if metrics:
            line.update(_metrics.document(metrics, int(now * 1000)))
        _write(line)
    except Exception:
        pass  # a log line must never change what the caller does


@contextlib.contextmanager
def invocation(function: str, lambda_context=None, request_id: str | None = None):
    """Every line written inside names this Lambda invocation (function, aws_request_id
    from the context object, API Gateway's request id)."""
    ids = {
        "function": function,
        "aws_request_id": getattr(lambda_context, "aws_request_id", None),
        "request_id": request_id,
    }
    token = _invocation.set({k: v for k, v in ids.items() if v is not None})
    try:
        yield
    finally:
        _invocation.reset(token)


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a time.perf_counter() value), to 0.1 ms."""
    return round((time.perf_counter() - started) * 1000, 1)


def _written(kind: str, value, key: str):
    if kind == ADDRESS:
        return mask_address(str(value))
    if kind == URL:
        return mask_url(str(value))
    if kind == BOOL:
        return bool(value)
    if kind == INT:
        return int(value)
    if kind == NUMBER:
        return round(float(value), 1)
    if kind == ID:
        return str(value)[:MAX_ID]
    text = scrub(str(value))
    if key == "traceback":
        return text[-MAX_TRACEBACK:]  # the end says what was raised
    return text[:MAX_TEXT]


def _write(line: dict) -> None:
    stream = sys.stdout
    text = _text(line) if _format(stream) == "text" else json.dumps(line, separators=(",", ":"))
    with _write_lock:
        stream.write(text + "\n")
        stream.flush()


def _format(stream) -> str:
    chosen = os.environ.get(FORMAT_VARIABLE, "").lower()
    if chosen in ("json", "text"):
        return chosen
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return "json"
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def _text(line: dict) -> str:
    """The same line for a person: `12:00:00.123 info    send.handoff sid=SM… | MessagesSent=1`."""
    emf = line.get("_aws", {}).get("CloudWatchMetrics", [{}])[0]
    names = [metric["Name"] for metric in emf.get("Metrics", [])]
    hidden = {"time", "level", "event", "_aws", "Stage", "traceback", *names}
    fields = " ".join(f"{k}={_shown(v)}" for k, v in line.items() if k not in hidden)
    text = f"{line['time'][11:23]} {line['level']:<7} {line['event']} {fields}".rstrip()
    if names:
        text += " | " + " ".join(f"{name}={line[name]}" for name in names)
    if line.get("traceback"):
        text += "\n" + line["traceback"].rstrip()
    return text


def _shown(value) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return json.dumps(text) if (" " in text or not text or "\n" in text) else text


class JsonLines(logging.Handler):
    """A logging handler that writes each record as an `event("log", …)` line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {"logger": record.name, "message": record.getMessage()}
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                fields["error"] = f"{type(error).__name__}: {error}"
                fields["traceback"] = "".join(traceback.format_exception(*record.exc_info))
            event("log", level=record.levelname.lower(), **fields)
        except Exception:
            self.handleError(record)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the "herald" loggers' records out as lines, at `level` and above (idempotent).

    "herald" is also Chalice's own logger (its app_name), to which Chalice adds a text
    handler on stdout ("herald - ERROR - Caught exception…", with a traceback nobody
    scrubbed): that handler is replaced. The records no longer reach the root logger either,
    where Lambda's runtime has its own handler: each would be written twice.
    """
    logger = logging.getLogger("herald")
    for handler in list(logger.handlers):
        if not isinstance(handler, JsonLines):
            logger.removeHandler(handler)
    if not logger.handlers:
        logger.addHandler(JsonLines())
    logger.setLevel(level)
    logger.propagate = False
