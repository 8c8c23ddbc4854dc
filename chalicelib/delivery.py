"""The seam where a carrier integration plugs in.

`create` calls `submit` once a new message is stored. Until a carrier is wired in, Herald
keeps the message `queued` (or `scheduled` until its SendAt) and does nothing more; a
sender replaces this function, moves the message through `sending` → `sent`/`failed` with
conditional updates, and posts status callbacks.
"""


def submit(message) -> None:
    """Hand a stored message to the carrier. Herald has none yet: the message stays queued."""
    return None
