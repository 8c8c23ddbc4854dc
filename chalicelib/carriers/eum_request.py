"""The End User Messaging request for a message (chalicelib.carriers.end_user_messaging):
who it comes from, and the SendTextMessage (or SendMediaMessage) parameters, with the
message's ValidityPeriod and MaxPrice turned into what AWS takes.

Who the text comes from (OriginationIdentity), in order: the account's sender for the
message's MessagingServiceSid, the account's default sender (`senders` on the account item,
set with `python -m admin set-sender`), the stage's default
(HERALD_EUM_ORIGINATION_IDENTITY), else the message's From.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from chalicelib.accounts import credentials
from chalicelib.carriers import events
from chalicelib.carriers.eum_settings import Settings
from chalicelib.messages.model import entries
from chalicelib.outbound import media_fetch

# The account item's `senders` map: "default", or a MessagingServiceSid, to an identity.
DEFAULT_SENDER = "default"

# SendTextMessage's bounds on TimeToLive (seconds) and MaxPrice (USD, `[0-9]{0,2}\.[0-9]{1,5}`).
TTL_MIN, TTL_MAX = 5, 259_200
MAX_PRICE_CEILING = Decimal("99.99999")
PRICE_STEP = Decimal("0.00001")


def account_senders(account_sid: str) -> dict:
    """The account's `senders` map, read through the credential cache (accounts.credentials)."""
    account = credentials.account(account_sid)
    senders = account.record.get("senders") if account is not None else None
    return senders if isinstance(senders, dict) else {}


def origination_identity(message, senders: dict, stage: Settings) -> str | None:
    candidates = (
        senders.get(message.messaging_service_sid) if message.messaging_service_sid else None,
        senders.get(DEFAULT_SENDER),
        stage.origination_identity,
        message.from_,
    )
    return next((c for c in candidates if isinstance(c, str) and c), None)


def request_for(message, identity: str, stage: Settings, now_ms: int) -> dict:
    """The SendTextMessage parameters for `message`."""
    request = {
        "DestinationPhoneNumber": message.to,
        "OriginationIdentity": identity,
        "MessageBody": message.body,
        "MessageType": stage.message_type,
        "Context": {events.CONTEXT_ACCOUNT: message.account_sid, events.CONTEXT_SID: message.sid},
    }
    if stage.configuration_set:
        request["ConfigurationSetName"] = stage.configuration_set
    ttl = time_to_live(message, now_ms)
    if ttl is not None:
        request["TimeToLive"] = ttl
    price = max_price(message.options.get("MaxPrice"))
    if price is not None:
        request["MaxPrice"] = price
    if message.options.get("ProvideFeedback") == "true":
        request["MessageFeedbackEnabled"] = True
    return request


def with_media(message, request: dict) -> tuple[dict, tuple[str, ...]]:
    """The SendMediaMessage request for a message with one media file: the file fetched
    (chalicelib.outbound.media_fetch) and stored in the stage's media bucket."""
    from chalicelib.storage import media_objects

    (fetched,) = media_fetch.fetch_all(media_fetch.callable_urls(message))
    ((media_sid, _url, _type),) = entries(message)
    key = f"{message.account_sid}/{message.sid}/{media_sid}"
    uri = media_objects.put(key, fetched.data, fetched.content_type)
    request = {k: v for k, v in request.items() if k not in ("MessageType",)}
    request["MediaUrls"] = [uri]
    if not request.get("MessageBody"):
        request.pop("MessageBody", None)
    return request, (fetched.content_type,)


def time_to_live(message, now_ms: int) -> int | None:
    """What is left of the message's ValidityPeriod (counted from its creation, or from
    SendAt for a scheduled one, as the worker counts it), within EUM's 5..259200 s; None
    without a ValidityPeriod (EUM's default then applies: 72 hours)."""
    period = message.options.get("ValidityPeriod")
    if not period:
        return None
    start = message.send_at_ms or message.created_ms
    left = math.ceil((start + int(period) * 1000 - now_ms) / 1000)
    return clamp_ttl(left)


def clamp_ttl(seconds: int) -> int:
    return max(TTL_MIN, min(TTL_MAX, seconds))


def max_price(value) -> str | None:
    """MaxPrice (USD per message) as EUM takes it: at most 5 decimals (rounded down, so the
    cap is never raised) and below 100; None when absent or not a positive amount."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    amount = min(amount, MAX_PRICE_CEILING).quantize(PRICE_STEP, rounding=ROUND_DOWN)
    text = f"{amount:.5f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
