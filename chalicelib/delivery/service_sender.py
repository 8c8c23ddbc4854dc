"""The From of a message sent through a Messaging Service without one, chosen when the
worker claims it (chalicelib.services.pool: alpha sender where the country takes one, else
the sticky, geomatched number), with the list keys the From brings: the claim writes them
with the claim itself, so the message is never `sending` without a From."""

from dataclasses import dataclass

from chalicelib.messages.creation import shard_for
from chalicelib.messages.model import Message
from chalicelib.services import pool
from chalicelib.storage import schema


@dataclass
class NoSender:
    error_code: int
    error_message: str

    def __bool__(self) -> bool:
        return False


def chosen(message: Message) -> dict | NoSender:
    """The fields the claim writes of the sender: none for a message with a From; the
    chosen From and its list keys for one sent through a service; NoSender (falsy) with
    Twilio's code when the service has no sender for it (21703, 21704; 21701 once it was
    deleted)."""
    if message.from_ is not None or not message.messaging_service_sid:
        return {}
    choice = pool.choose(message.account_sid, message.messaging_service_sid, message.to)
    if choice.sender is None:
        return NoSender(choice.error_code, choice.error_message)
    shard = shard_for(message.account_sid, message.sid)
    keys = schema.sender_attributes(message.account_sid, message.to, choice.sender, shard)
    return {"from": choice.sender, **keys}
