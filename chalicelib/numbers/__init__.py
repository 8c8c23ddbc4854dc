"""The IncomingPhoneNumber resource, the messaging part of it: register, fetch, list, update
and delete the numbers an account texts from and is texted on.

    model.py      the stored number and Twilio's IncomingPhoneNumber JSON
    params.py     what a create or update may say, with Twilio's codes
    lifecycle.py  register (create), fetch, update and delete
    listing.py    the list, its filters and PageTokens

Herald registers numbers an account already owns (an End User Messaging phone number on
AWS, any number in the sandbox); it does not buy them. A number belongs to one account at
most (chalicelib.storage.numbers keeps that with a conditional write). Like chalicelib.messages,
this package validates parameters the way Twilio does, talks to `storage` and returns
Twilio's JSON; it never touches boto3.
"""

from chalicelib.numbers.lifecycle import create, delete, fetch, update
from chalicelib.numbers.listing import list_page
from chalicelib.numbers.model import IncomingPhoneNumber

__all__ = ["IncomingPhoneNumber", "create", "delete", "fetch", "list_page", "update"]
