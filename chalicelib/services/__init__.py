"""Messaging Services (messaging/v1): a service, its senders and how a message sent through
it is given a sender.

    model.py           the stored service and Twilio's messaging/v1 JSON
    params.py          what a create or update may say, with Twilio's codes
    lifecycle.py       create, fetch, update, delete, list (v1 paging: `meta`)
    senders.py         PhoneNumbers, AlphaSenders, ShortCodes (refused)
    pool.py            the pool cached per container, and the choice of a sender
    smart_encoding.py  Twilio's Smart Encoding table

Like chalicelib.numbers, it checks parameters the way Twilio does, talks to `storage` and
returns Twilio's JSON; it never touches boto3. chalicelib.messages asks it about a message's
service (checks.py), the delivery worker for the sender (pool.choose).
"""

from chalicelib.services.lifecycle import create, delete, fetch, list_page, update
from chalicelib.services.model import Service

__all__ = ["Service", "create", "delete", "fetch", "list_page", "update"]
