"""The one clock: every timestamp Herald writes comes from `now_ms()`, so tests move time
by replacing this one function."""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def now_s() -> float:
    return now_ms() / 1000
