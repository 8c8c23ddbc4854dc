"""The CloudWatch alarms both templates create (docs/operations.md, "Alarms"): what each
watches, when it fires, and what its description tells whoever it wakes."""

from dataclasses import dataclass

from chalicelib.observability import metrics
from deploy.queues import STREAM_FAILURES, dead_letter
from deploy.shared import STREAM_CONSUMER, Value

# Each alarm's description ends with where to read what to do.
RUNBOOK = "docs/operations.md#"
# A metric math alarm's one returned expression (the inputs' ids are the alarm's own).
EXPRESSION_ID = "rate"
# A rate alarm stays quiet below this many messages in a period: 1 failure in 3 is no trend.
MINIMUM_MESSAGES = 20
((STAGE_DIMENSION,),) = metrics.DIMENSIONS  # Herald's metrics have one dimension: Stage


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with its one dimension, as an alarm aggregates it. `value` is
    the dimension's value: a literal (the metrics' Stage) or a Value by reference
    (queue_name, function_name)."""

    namespace: str
    name: str
    dimension: str
    value: "str | Value"
    statistic: str
    period: int


def queue_name(name: str) -> Value:
    """The name the template gives the queue (SQS's QueueName dimension)."""
    return Value("queue_name", name)


def function_name(name: str) -> Value:
    """The deployed function's name (Lambda's FunctionName dimension)."""
    return Value("function_name", name)


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm on `metric`, or on the metric math `expression` over `inputs`
    (id -> metric). It alarms when `datapoints` of the last `periods` values are above
    `threshold`; a period without data is within it. `name` makes its name (`<stack>-` or
    `herald-<stage>-` and the name, dashed), its logical id and its Terraform address."""

    name: str
    description: str
    threshold: float
    periods: int
    metric: Metric | None = None
    expression: str = ""
    label: str = ""
    inputs: tuple[tuple[str, Metric], ...] = ()
    comparison: str = "GreaterThanThreshold"
    treat_missing_data: str = "notBreaching"

    @property
    def datapoints(self) -> int:
        return self.periods  # N of N: every period of the window breaches

    @property
    def dashed(self) -> str:
        return self.name.replace("_", "-")


def _herald(name: str, stage: str, statistic: str = "Sum", period: int = 300) -> Metric:
    if name not in metrics.METRICS:
        raise ValueError(f"Herald emits no metric {name!r}")
    return Metric(metrics.NAMESPACE, name, STAGE_DIMENSION, stage, statistic, period)


def _share(bad: str, good: str) -> str:
    """bad / (bad + good), 0 below MINIMUM_MESSAGES. A count is published only in a period
    where it happened, and metric math adds two series only where both have a data point:
    FILL makes a missing count 0, so a period of failures alone (no MessagesSent at all) is
    a rate of 1, not a period without data."""
    bad, good = f"FILL({bad}, 0)", f"FILL({good}, 0)"
    return f"IF({bad} + {good} >= {MINIMUM_MESSAGES}, {bad} / ({bad} + {good}), 0)"


def _rate_alarm(
    name: str,
    description: str,
    threshold: float,
    bad: tuple[str, str],
    good: tuple[str, str],
    stage: str,
    label: str,
) -> Alarm:
    """`bad`'s share of `bad` + `good` (each an id and a Herald metric) above `threshold`
    for 3 periods of 5 minutes running."""
    (bad_id, bad_metric), (good_id, good_metric) = bad, good
    return Alarm(
        name,
        description,
        threshold,
        periods=3,
        expression=_share(bad_id, good_id),
        label=label,
        inputs=((bad_id, _herald(bad_metric, stage)), (good_id, _herald(good_metric, stage))),
    )


_REDRIVE = (
    "Once fixed, move the jobs back (safe to run again): aws sqs start-message-move-task "
    "--source-arn <this queue's ARN>."
)
# Every dead-letter queue -> what a job in it means, and what to do.
_DEAD_LETTERS = {
    dead_letter("send"): (
        "Page: a send job was received 20 times without finishing, so its message is stuck "
        "in queued or sending and no text goes out. Find the sender's errors in its log "
        f"group (level error, events send.*). {_REDRIVE}"
    ),
    dead_letter("receipts"): (
        "Ticket: a carrier receipt or inbound text failed 10 times; its message keeps its "
        "last status (or the inbound text is not stored). Find the receipts function's "
        f"errors in its log group (level error, event receipt). {_REDRIVE}"
    ),
    dead_letter("callbacks"): (
        "Ticket: a status callback or webhook job failed 10 times inside Herald (a "
        "customer's URL answering errors ends as CallbackFailures, not here). Find the "
        f"callbacks function's errors in its log group (level error, event callback). {_REDRIVE}"
    ),
    STREAM_FAILURES: (
        "Page: the table's stream could not hand a batch to the dispatcher for 24 hours: "
        "the messages in it are queued and no worker will hear of them. Each entry names "
        "a shard and sequence numbers, not the records. Find the dispatcher's errors in "
        "its log group, then queue each message's send job by hand (docs/deploy.md, "
        "Dead-letter queues)."
    ),
}


def _not_empty(queue: str) -> Metric:
    """Jobs in the queue (a queue idle for 6 hours publishes nothing until one arrives)."""
    visible = "ApproximateNumberOfMessagesVisible"
    return Metric("AWS/SQS", visible, "QueueName", queue_name(queue), "Maximum", 300)


def alarms(stage: str) -> tuple[Alarm, ...]:
    """Every alarm the templates create; `stage` is the Stage the functions' metrics carry
    (their HERALD_STAGE)."""
    found = [
        Alarm(
            f"{queue}_not_empty",
            f"{description} {RUNBOOK}a-dead-letter-queue-is-not-empty",
            0,
            periods=1,
            metric=_not_empty(queue),
        )
        for queue, description in _DEAD_LETTERS.items()
    ]
    found.append(
        _rate_alarm(
            "messages_failing",
            "Page: more than 5% of the messages leaving the worker failed (MessagesFailed / "
            "(MessagesFailed + MessagesSent), 20 messages at least) for 15 minutes. Count the "
            "failures by error code (Logs Insights query in docs/operations.md): the carrier "
            "refusing (its configuration, origination identities, quotas), timing out, or "
            f"attempts exhausted. {RUNBOOK}messages-failing-at-the-worker",
            0.05,
            ("f", "MessagesFailed"),
            ("s", "MessagesSent"),
            stage,
            "share of messages failed",
        )
    )
    found.append(
        _rate_alarm(
            "messages_undelivered",
            "Ticket: more than 20% of the messages the carrier decided on were undelivered "
            "(MessagesUndelivered / (MessagesUndelivered + MessagesDelivered), 20 messages at "
            "least) for 15 minutes. Count them by error code and account (Logs Insights, event "
            "receipt): usually one customer's list of dead numbers, or a carrier filtering a "
            "sender. "
            f"{RUNBOOK}messages-undelivered-by-the-carrier",
            0.20,
            ("u", "MessagesUndelivered"),
            ("d", "MessagesDelivered"),
            stage,
            "share of messages undelivered",
        )
    )
    found.append(
        _rate_alarm(
            "callbacks_failing",
            "Ticket: more than 10% of status callbacks were given up (CallbackFailures / "
            "(CallbackFailures + CallbacksDelivered), 20 callbacks at least) for 15 minutes. "
            "Usually a customer's receiver is down: the Logs Insights query 'Callback "
            "receivers that fail' names the host. "
            f"{RUNBOOK}status-callbacks-failing",
            0.10,
            ("c", "CallbackFailures"),
            ("k", "CallbacksDelivered"),
            stage,
            "share of callbacks given up",
        )
    )
    found.append(
        Alarm(
            "callback_failures",
            "Ticket: more than 100 status callbacks were given up in 5 minutes. Usually a "
            "customer's receiver is down: the Logs Insights query 'Callback receivers that "
            f"fail' names the host. {RUNBOOK}status-callbacks-failing",
            100,
            periods=1,
            metric=_herald("CallbackFailures", stage),
        )
    )
    found.append(
        Alarm(
            "dispatcher_behind",
            "Page: for 5 minutes running, the dispatcher's oldest unprocessed stream record was "
            "over 5 minutes old (IteratorAge): new messages are not being queued. Look for "
            "its errors (a record that keeps failing holds its shard for up to 24 hours) and "
            "throttles. "
            f"{RUNBOOK}the-dispatcher-falling-behind",
            300_000,
            periods=5,
            metric=Metric(
                "AWS/Lambda",
                "IteratorAge",
                "FunctionName",
                function_name(STREAM_CONSUMER),
                "Maximum",
                60,
            ),
        )
    )
    found.append(
        Alarm(
            "carrier_throttling",
            "Ticket: the carrier throttled more than 100 hand-offs every 5 minutes for 15 "
            "minutes (SendThrottled). Each is retried, up to 6 attempts in all; raise the "
            "carrier's sending quota (End User Messaging: the messages-per-second of the "
            f"origination identities). {RUNBOOK}the-carrier-throttling",
            100,
            periods=3,
            metric=_herald("SendThrottled", stage),
        )
    )
    return tuple(found)


def metrics_stage(variables: dict[str, dict]) -> str:
    """The Stage the functions' metrics carry: their HERALD_STAGE (function -> the variables
    the template gives it). One for all, or an alarm would watch some of them only; and
    set, or every stage's metrics would be `local`'s."""
    named = {(told or {}).get(metrics.STAGE_VARIABLE) for told in variables.values()}
    if len(named) != 1 or not all(isinstance(value, str) and value for value in named):
        raise RuntimeError(
            f"the functions' {metrics.STAGE_VARIABLE} is {sorted(map(str, named))}: the stage "
            "must give every function the same one (.chalice/config.json), the metrics' "
            "Stage the alarms watch"
        )
    (stage,) = named
    return stage
