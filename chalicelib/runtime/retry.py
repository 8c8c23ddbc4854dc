"""Retrying an optimistic write: another writer landed first, so read again and try again,
after a pause that doubles each time, jittered so that racing writers spread out."""

import random
import time
from collections.abc import Iterator


def attempts(count: int, first_pause: float = 0.005, longest_pause: float = 0.1) -> Iterator[int]:
    """0, 1, … count - 1, sleeping before each attempt but the first."""
    pause = first_pause
    for attempt in range(count):
        if attempt:
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, longest_pause)
        yield attempt
