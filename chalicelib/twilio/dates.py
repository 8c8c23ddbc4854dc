"""Twilio's date formats: RFC 2822 out, ISO 8601 (or a bare day) in."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY_MS = 86_400_000


def rfc2822(ms: int | None) -> str | None:
    if ms is None:
        return None
    return format_datetime(datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=0))


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 datetime; naive ones are taken as UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def parse_bound(text: str) -> tuple[int, int]:
    """The [first, last] millisecond a DateSent value names: a whole GMT day or one instant.

    Both SDKs turn a `date` into midnight (`2024-01-02T00:00:00Z`), so a value at exactly
    00:00:00 GMT names that whole day, as `YYYY-MM-DD` does. Raises ValueError.
    """
    text = text.strip()
    if DAY.match(text):
        first = to_ms(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC))
        return first, first + DAY_MS - 1
    instant = to_ms(parse_instant(text))
    if instant % DAY_MS == 0:
        return instant, instant + DAY_MS - 1
    return instant, instant


def day_of(text: str) -> tuple[int, int]:
    """The GMT day a DateSent= value falls on, whatever its time of day."""
    first, _ = parse_bound(text)
    start = first - first % DAY_MS
    return start, start + DAY_MS - 1


def seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


def dlr_done_date(ms: int | None) -> str:
    """A carrier's delivery-report time as Twilio passes it on: YYMMDDhhmm, GMT."""
    moment = datetime.fromtimestamp((ms or 0) / 1000, tz=UTC)
    return moment.strftime("%y%m%d%H%M")
