"""The Message resource: create, fetch, list, update (redact, cancel) and delete.

    status.py     statuses, directions and the one transitions table
    model.py      the stored Message and Twilio's Message JSON
    params.py     what a create or update may say, with Twilio's codes
    create.py     create, with Idempotency-Key replays
    lifecycle.py  fetch, update, delete and status transitions
    listing.py    the list, its filters and PageTokens

Handlers hand in parsed parameters; this package validates them the way Twilio does, talks to
`storage` and returns Twilio's JSON. It never touches boto3.
"""

from chalicelib.messages.create import IDEMPOTENCY_TTL_SECONDS, Created, create
from chalicelib.messages.lifecycle import delete, fetch, transition, update
from chalicelib.messages.listing import list_page
from chalicelib.messages.model import Message
from chalicelib.messages.params import new_message
from chalicelib.messages.status import Direction, Status

__all__ = [
    "IDEMPOTENCY_TTL_SECONDS",
    "Created",
    "Direction",
    "Message",
    "Status",
    "create",
    "delete",
    "fetch",
    "list_page",
    "new_message",
    "transition",
    "update",
]
