"""The From of a message sent through a Messaging Service without one, chosen when the
worker claims it (chalicelib.services.pool: alpha sender where the country takes one, else
the sticky, geomatched number), with the list keys the From brings: the claim writes them
with the claim itself, so the message is never `sending` without a From.

And the opt-outs, asked again at the hand-off for a message whose create could not settle
them: one sent through a service (its From may be chosen only now, and a STOP to any number
of the service stops it) or one that was scheduled (a STOP may have come since). Such a
message fails with 21610, as Twilio fails it; one GetItem (or BatchGetItem) more for those
messages only."""

from dataclasses import dataclass

from chalicelib.messages import checks
from chalicelib.messages.creation import shard_for
from chalicelib.messages.model import Message
from chalicelib.services import pool
from chalicelib.storage import schema
from chalicelib.twilio import errors


@dataclass
class NoSender:
    error_code: int
    error_message: str
    reason: str = "no sender in its Messaging Service"

    def __bool__(self) -> bool:
        return False


def chosen(message: Message) -> dict | NoSender:
    """The fields the claim writes of the sender: none for a message with a From; the
    chosen From and its list keys for one sent through a service; NoSender (falsy) with
    Twilio's code when the service has no sender for it (21703, 21704; 21701 once it was
    deleted) or the recipient opted out of its From or its service (21610)."""
    fields: dict = {}
    sender = message.from_
    if sender is None and message.messaging_service_sid:
        choice = pool.choose(message.account_sid, message.messaging_service_sid, message.to)
        if choice.sender is None:
            return NoSender(choice.error_code, choice.error_message)
        sender = choice.sender
        shard = shard_for(message.account_sid, message.sid)
        keys = schema.sender_attributes(message.account_sid, message.to, sender, shard)
        fields = {"from": sender, **keys}
    if message.messaging_service_sid or message.send_at_ms is not None:
        try:
            checks.not_opted_out(sender, message.to, message.messaging_service_sid)
        except errors.TwilioError as refused:
            return NoSender(refused.code, refused.message, "the recipient opted out")
    return fields
