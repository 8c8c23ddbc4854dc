"""CloudWatch metrics in Embedded Metric Format: a log line that CloudWatch Logs also reads
as metric values, so publishing costs no API call and no extra latency.

Namespace `Herald`, one dimension set: [["Stage"]] (HERALD_STAGE, e.g. dev or prod; `local`
when unset). Not per account, nor per error code: each distinct combination of dimension
values is a separate custom metric, billed monthly and listed by every dashboard; an
AccountSid dimension would grow with the customers (unbounded cardinality). The account, the
Sid and the error code are in the same line as properties instead, where CloudWatch Logs
Insights finds them (docs/operations.md).

What a count means (the handlers are at-least-once: SQS and the stream hand a job over
again after a crash or a timeout, and two workers can hold the same job):
- A status count (MessagesSent, MessagesDelivered, MessagesUndelivered, MessagesFailed) is
  emitted only by the handler whose conditional write made the change (or, for
  MessagesSent, made the claim under which the carrier accepted the message: each message
  is handed over at most once). A handler that runs again finds the change made and its
  write refused, and counts nothing. So each is counted at most once per message: exact,
  except that a process that dies between its write and its log line loses that count (no
  double counting; a rare undercount).
- MessagesCreated: a create answered 201 that stored a new message (not an idempotent
  replay): exact in the same sense.
- SendThrottled: one per throttled hand-off, counted after the write that released the
  claim; exact in the same sense.
- CallbackFailures and CallbacksDelivered count callback jobs that ended (given up, or
  answered 2xx): exact per job, but SQS may (rarely) deliver a job twice, and both attempts
  really happen, so these are at-least-once per status change.
- CallbacksUnsigned: one per status callback or webhook job sent without X-Twilio-Signature
  because its account has no encrypted AuthToken (chalicelib.delivery.callbacks): per job
  run, so at-least-once.
- CarrierLatency and CallbackLatency are one sample per real hand-off or POST.

A delivery invocation writes its metrics in one line, its `invocation` line (the counts of
all its jobs summed, the latencies as EMF's list of samples): CloudWatch adds them up the same.
"""

import os

NAMESPACE = "Herald"
DIMENSIONS = [["Stage"]]
STAGE_VARIABLE = "HERALD_STAGE"

COUNT, MILLISECONDS = "Count", "Milliseconds"
# EMF takes up to 100 values of a metric in one document.
MAX_SAMPLES = 100
METRICS: dict[str, str] = {
    "MessagesCreated": COUNT,
    "MessagesSent": COUNT,
    "MessagesDelivered": COUNT,
    "MessagesUndelivered": COUNT,
    "MessagesFailed": COUNT,
    "SendThrottled": COUNT,
    "CallbacksDelivered": COUNT,
    "CallbackFailures": COUNT,
    "CallbacksUnsigned": COUNT,
    "CarrierLatency": MILLISECONDS,
    "CallbackLatency": MILLISECONDS,
}


def stage() -> str:
    return os.environ.get(STAGE_VARIABLE) or "local"


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _samples(value) -> bool:
    return isinstance(value, list) and bool(value) and all(_number(v) for v in value)


def document(values: dict[str, float], timestamp_ms: int) -> dict:
    """The EMF members to add to a log line for `values` (names from METRICS: a number, or a
    list of up to MAX_SAMPLES numbers); unknown names and non-numeric values are left out."""
    known = {
        name: value[:MAX_SAMPLES] if isinstance(value, list) else value
        for name, value in values.items()
        if name in METRICS and (_number(value) or _samples(value))
    }
    if not known:
        return {}
    return {
        "Stage": stage(),
        **known,
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": DIMENSIONS,
                    "Metrics": [{"Name": name, "Unit": METRICS[name]} for name in known],
                }
            ],
        },
    }
