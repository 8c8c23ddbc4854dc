"""Bounded per-container caches: plain dicts, which keep insertion order, so the first
entry is the oldest."""


def remember(cache: dict, key, value, bound: int) -> None:
    """Put `key` last (newest); past `bound`, the oldest entry makes room."""
    cache.pop(key, None)
    if len(cache) >= bound:
        cache.pop(next(iter(cache)))
    cache[key] = value
