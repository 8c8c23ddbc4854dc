"""Reading what Herald wrote to stdout: its JSON lines, their EMF documents, metric totals."""

import json

from chalicelib import observability
from chalicelib.observability import metrics

AUTOMATIC = {"time", "level", "event", "unknown_fields", "Stage", "_aws"}


def parse(text: str) -> list[dict]:
    """Every line Herald wrote (a JSON object with an `event`); other output is skipped."""
    found = []
    for raw in text.splitlines():
        if not raw.startswith("{"):
            continue
        line = json.loads(raw)
        if isinstance(line, dict) and "event" in line:
            found.append(line)
    return found


def check_line(line: dict) -> None:
    """A line as docs/operations.md describes it: known fields only, valid EMF if any."""
    assert "unknown_fields" not in line, line
    names = set(line) - AUTOMATIC - set(metrics.METRICS)
    assert names <= set(observability.FIELDS), names - set(observability.FIELDS)
    assert line["level"] in observability.LEVELS
    if "_aws" in line:
        check_emf(line)
    else:
        assert not set(line) & set(metrics.METRICS), line


def check_emf(document: dict) -> None:
    """A valid CloudWatch Embedded Metric Format document: each dimension and each metric
    it declares is a top-level member (a string, a number)."""
    aws = document["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000
    (directive,) = aws["CloudWatchMetrics"]
    assert directive["Namespace"] == metrics.NAMESPACE
    for dimension_set in directive["Dimensions"]:
        for dimension in dimension_set:
            assert isinstance(document[dimension], str) and document[dimension]
    assert directive["Metrics"]
    for metric in directive["Metrics"]:
        value = document[metric["Name"]]
        # A number, or a list of up to 100 (an invocation's samples of a latency).
        values = value if isinstance(value, list) else [value]
        assert values and len(values) <= metrics.MAX_SAMPLES, metric
        assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values), metric
        assert metric["Unit"] == metrics.METRICS[metric["Name"]]


def total(lines: list[dict], metric: str) -> float:
    """What CloudWatch would sum for `metric` over these lines."""
    return sum(sum(samples(line[metric])) for line in lines if "_aws" in line and metric in line)


def samples(value) -> list:
    return value if isinstance(value, list) else [value]


def of(lines: list[dict], event: str, **fields) -> list[dict]:
    return [
        line
        for line in lines
        if line["event"] == event and all(line.get(k) == v for k, v in fields.items())
    ]
