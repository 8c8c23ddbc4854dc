"""The Message resource: create, fetch, list, update (redact, cancel) and delete.

    status.py        statuses, directions and the one transitions table
    model.py         the stored Message, Twilio's Message JSON, and its media's Sids and types
    params.py        what a create may say, with Twilio's codes
    checks.py        the rules every message that goes out passes, whichever path makes it
    carrier_port.py  what a create asks the stage's carrier (wired in by chalicelib.carriers)
    creation.py      create, with Idempotency-Key replays
    lifecycle.py     fetch, update, delete and status transitions
    listing.py       the list, its filters and PageTokens
    media.py         a message's Media and Feedback

Handlers hand in parsed parameters; this package validates them the way Twilio does, talks to
`storage` and returns Twilio's JSON. It never touches boto3.

The names below are loaded on first use, not when the package is imported: a delivery
function that only moves statuses (lifecycle) never pays, at its cold start, for creating
and listing messages.
"""

import importlib

_EXPORTS = {
    "IDEMPOTENCY_TTL_SECONDS": "creation",
    "Created": "creation",
    "create": "creation",
    "delete": "lifecycle",
    "events_of": "lifecycle",
    "fetch": "lifecycle",
    "transition": "lifecycle",
    "update": "lifecycle",
    "list_page": "listing",
    "Message": "model",
    "new_message": "params",
    "Direction": "status",
    "Status": "status",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
