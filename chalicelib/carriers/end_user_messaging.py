"""The End User Messaging SMS carrier: AWS's `pinpoint-sms-voice-v2` SendTextMessage (or
SendMediaMessage, for a message with one media file), once.

The worker calls `send` once per claim (chalicelib.delivery.worker). This module turns that
call into one request and its answer (or failure) into an Outcome:

    Accepted   AWS answered with a MessageId: the message is `sent`
    Throttled  AWS refused for rate or quota (ThrottlingException,
               ServiceQuotaExceededException), or the connection was never made: nothing
               was handed over, so the worker retries through the queue with backoff
    Refused    AWS refused this message for good (ValidationException, ConflictException,
               ResourceNotFoundException, AccessDeniedException): `failed`, with the
               closest Twilio code (REFUSALS and docs/carriers.md)
    TimedOut   the request may have reached AWS but no answer says what became of it
               (InternalServerException, a read timeout, a connection lost mid-request,
               anything unforeseen): `failed` 30410, never handed over again

Never sent twice. botocore retries by default: on a timeout, a dropped connection, a 500
or a throttle it sends the same request again, and SendTextMessage has no idempotency token,
so a retry after a request AWS did act on sends the text a second time. The client is made
with `total_max_attempts=1`: botocore sends each request exactly once and every retry goes
through Herald's claim (a throttle, or a connection that was never made, releases the claim
and the queue brings the job back; anything after which AWS may have sent the text fails
the message). Timeouts are short (connect 2 s, read 10 s): the worker's lease and the
function's timeout are far longer, so a hung request ends as TimedOut, not as a killed worker.

Who the text comes from (OriginationIdentity), in order: the account's sender for the
message's MessagingServiceSid, the account's default sender (`senders` on the account item,
set with `python -m chalicelib.admin set-sender`), the stage's default
(HERALD_EUM_ORIGINATION_IDENTITY), else the message's From. Other settings:
HERALD_EUM_MESSAGE_TYPE (TRANSACTIONAL, the default, or PROMOTIONAL) and
HERALD_EUM_CONFIGURATION_SET (the configuration set whose event destination brings the
receipts back: chalicelib.delivery.receipts reads them from the receipt queue).

Every request carries the message's AccountSid and Sid in `Context`, which AWS echoes in each
event, so a receipt finds its message with one read. AWS documents that an event can come up
to 72 hours after the hand-off, and that it emits TEXT_UNKNOWN when no final one came by
then: the message then ends `undelivered` 30008 (chalicelib.carriers.events).
"""

import functools
import logging
import math
import os
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from chalicelib import auth, clock, config
from chalicelib.carriers import events
from chalicelib.carriers.base import (
    Accepted,
    CreateRefusal,
    Outcome,
    Refused,
    Throttled,
    TimedOut,
)
from chalicelib.delivery import media_fetch

log = logging.getLogger("herald.delivery")

NAME = "end-user-messaging"
ORIGINATION_VARIABLE = "HERALD_EUM_ORIGINATION_IDENTITY"
MESSAGE_TYPE_VARIABLE = "HERALD_EUM_MESSAGE_TYPE"
CONFIGURATION_SET_VARIABLE = "HERALD_EUM_CONFIGURATION_SET"
MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")

# The account item's `senders` map: "default", or a MessagingServiceSid, to an identity.
DEFAULT_SENDER = "default"
# What SendTextMessage accepts as OriginationIdentity and ConfigurationSetName (botocore's
# service model: a phone number, its id or ARN, a sender ID, a pool id or ARN).
IDENTITY = re.compile(r"^[A-Za-z0-9_:/+-]{1,256}\Z")
CONFIGURATION_SET = re.compile(r"^[A-Za-z0-9_:/-]{1,256}\Z")

# SendTextMessage's bounds on TimeToLive (seconds) and MaxPrice (USD, `[0-9]{0,2}\.[0-9]{1,5}`).
TTL_MIN, TTL_MAX = 5, 259_200
MAX_PRICE_CEILING = Decimal("99.99999")
PRICE_STEP = Decimal("0.00001")

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Settings:
    origination_identity: str | None
    message_type: str
    configuration_set: str | None


def settings() -> Settings:
    """The stage's End User Messaging settings; ValueError names a wrong one."""
    env = os.environ
    message_type = (env.get(MESSAGE_TYPE_VARIABLE) or "TRANSACTIONAL").strip().upper()
    if message_type not in MESSAGE_TYPES:
        raise ValueError(
            f"{MESSAGE_TYPE_VARIABLE} is one of {', '.join(MESSAGE_TYPES)}, "
            f"not {env.get(MESSAGE_TYPE_VARIABLE)!r}"
        )
    identity = env.get(ORIGINATION_VARIABLE) or None
    if identity is not None and not IDENTITY.match(identity):
        raise ValueError(
            f"{ORIGINATION_VARIABLE} is not an origination identity (a phone number, its id "
            f"or ARN, a sender ID or a pool): {identity!r}"
        )
    configuration_set = env.get(CONFIGURATION_SET_VARIABLE) or None
    if configuration_set is not None and not CONFIGURATION_SET.match(configuration_set):
        raise ValueError(
            f"{CONFIGURATION_SET_VARIABLE} is not a configuration set name or ARN: "
            f"{configuration_set!r}"
        )
    return Settings(identity, message_type, configuration_set)


@functools.cache
def client():
    """The container's one pinpoint-sms-voice-v2 client, made on first use; it never
    retries (see the module's docstring)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "pinpoint-sms-voice-v2",
        region_name=config.load().region,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
        ),
    )


def reset() -> None:
    client.cache_clear()


class EndUserMessaging:
    name = NAME

    def refuse_at_create(self, to: str, from_: str | None) -> CreateRefusal | None:
        return None  # AWS has no test numbers that answer the create

    def send(self, message) -> Outcome:
        stage = settings()
        if len(message.media_urls) > 1:
            return Refused(
                21623, "End User Messaging carries one media file per message: send one each"
            )
        try:
            senders = account_senders(message.account_sid)
        except Exception as error:  # nothing was handed over: try again later
            log.warning("could not read the senders of %s: %r", message.account_sid, error)
            return Throttled(f"the account's senders could not be read: {error}")
        identity = origination_identity(message, senders, stage)
        if identity is None:
            if message.messaging_service_sid:
                return Refused(21704, "The Messaging Service contains no phone numbers")
            return Refused(21606, "No origination identity is configured for this message")
        request = request_for(message, identity, stage, clock.now_ms())
        media_types = None
        if message.media_urls:
            try:
                request, media_types = _with_media(message, request)
            except media_fetch.MediaRefused as refused:
                return Refused(refused.code, refused.message)
            except Exception as error:  # S3 failed: nothing was handed over yet
                log.warning("could not store the media of %s: %r", message.sid, error)
                return Throttled(f"the media could not be stored: {error}")
        try:
            if media_types is None:
                answer = client().send_text_message(**request)
            else:
                answer = client().send_media_message(**request)
        except Exception as error:
            outcome = outcome_of(error, message, identity)
            log.warning("End User Messaging: %s for %s: %r", outcome, message.sid, error)
            return outcome
        return Accepted(answer["MessageId"], media_types)

    def feedback(self, message) -> None:
        """PutMessageFeedback for a message sent with MessageFeedbackEnabled: confirmed is
        RECEIVED, unconfirmed FAILED."""
        outcome = (message.feedback or {}).get("outcome")
        if not message.carrier_id or outcome not in ("confirmed", "unconfirmed"):
            return
        client().put_message_feedback(
            MessageId=message.carrier_id,
            MessageFeedbackStatus="RECEIVED" if outcome == "confirmed" else "FAILED",
        )


def _with_media(message, request: dict) -> tuple[dict, tuple[str, ...]]:
    """The SendMediaMessage request for a message with one media file: the file fetched
    (chalicelib.delivery.media_fetch) and stored in the stage's media bucket."""
    from chalicelib.messages import media
    from chalicelib.storage import media_objects

    (fetched,) = media_fetch.fetch_all(message.media_urls)
    ((media_sid, _url, _type),) = media.entries(message)
    key = f"{message.account_sid}/{message.sid}/{media_sid}"
    uri = media_objects.put(key, fetched.data, fetched.content_type)
    request = {k: v for k, v in request.items() if k not in ("MessageType",)}
    request["MediaUrls"] = [uri]
    if not request.get("MessageBody"):
        request.pop("MessageBody", None)
    return request, (fetched.content_type,)


def account_senders(account_sid: str) -> dict:
    """The account's `senders` map, read through auth's per-container cache."""
    account = auth.account(account_sid)
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


# --- what an answer means ---------------------------------------------------------------

TWILIO_MESSAGES = {
    20003: "Permission Denied",
    21211: "The 'To' number {to} is not a valid phone number",
    21212: "The 'From' number {identity} is not a valid phone number or shortcode",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number: {to}",
    21606: "The 'From' phone number provided ({identity}) is not a valid message-capable "
    "phone number for this destination",
    21608: "The 'To' number {to} is not verified (an account in End User Messaging's "
    "sandbox sends only to verified destination numbers)",
    21610: "Attempt to send to unsubscribed recipient",
    30002: "Account suspended",
    30004: "Message blocked",
    30008: "Unknown error",
    30010: "Message price exceeds max price",
}

THROTTLES = {
    "ThrottlingException",
    "ServiceQuotaExceededException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "Throttling",
    # The function's credentials expired between signing and AWS checking them: refused
    # before anything was done, and the next attempt signs with fresh ones.
    "ExpiredTokenException",
}

# (exception, reason) -> Twilio code. A reason not listed falls back to REFUSALS[(code, None)].
REFUSALS: dict[tuple[str, str | None], int] = {
    ("ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT"): 21610,
    ("ConflictException", "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"): 21608,
    ("ConflictException", "NO_ORIGINATION_IDENTITIES_FOUND"): 21606,
    ("ConflictException", "RESOURCE_NOT_ACTIVE"): 21606,
    ("ConflictException", "NUMBER_CAPABILITIES_MISMATCH"): 21606,
    ("ConflictException", "MESSAGE_TYPE_MISMATCH"): 21606,
    ("ConflictException", "KEYWORD_MISMATCH"): 21606,
    ("ConflictException", "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION"): 21408,
    ("ConflictException", "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE"): 30004,
    ("ConflictException", None): 30008,
    ("ValidationException", "DESTINATION_COUNTRY_BLOCKED"): 21408,
    ("ValidationException", "COUNTRY_NOT_ENABLED"): 21408,
    ("ValidationException", "INTERNATIONAL_SENDING_NOT_SUPPORTED"): 21408,
    ("ValidationException", "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"): 21606,
    ("ValidationException", "COUNTRY_CODE_MISMATCH"): 21606,
    ("ValidationException", "SENDER_ID_NOT_REGISTERED"): 21606,
    ("ValidationException", "SENDER_ID_NOT_SUPPORTED"): 21606,
    ("ValidationException", "SENDER_ID_REQUIRES_REGISTRATION"): 21606,
    ("ValidationException", "CHANNEL_NOT_ENABLED"): 21606,
    ("ValidationException", "PRICE_OVER_THRESHOLD"): 30010,
    ("ValidationException", None): 30008,  # unless a field names the culprit (below)
    ("ResourceNotFoundException", "phone-number"): 21606,
    ("ResourceNotFoundException", "sender-id"): 21606,
    ("ResourceNotFoundException", "pool"): 21606,
    ("ResourceNotFoundException", None): 30008,  # the configuration set: the stage's setup
    ("AccessDeniedException", "ACCOUNT_DISABLED"): 30002,
    ("AccessDeniedException", "INSUFFICIENT_ACCOUNT_REPUTATION"): 30002,
    ("AccessDeniedException", None): 20003,  # IAM: the sender's role may not use it
}
# A ValidationException without a reason of its own, by the field it names.
FIELD_CODES = {"DestinationPhoneNumber": 21211, "OriginationIdentity": 21212}


def outcome_of(error: Exception, message, identity: str) -> Outcome:
    """What a failed SendTextMessage means for the message."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ParamValidationError,
    )

    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
        # No connection was made (refused, unresolvable, or the connect timed out): the
        # request never left. Any other connection error may come after it did.
        return Throttled(f"End User Messaging unreachable: {error}")
    if isinstance(error, ParamValidationError):
        # botocore refused the request itself: nothing was sent.
        return _refused(_field_code(str(error)) or 30008, message, identity, str(error))
    if isinstance(error, ClientError):
        return _answer(error.response, message, identity)
    return TimedOut(f"{type(error).__name__}: {error}")


def _answer(response: dict, message, identity: str) -> Outcome:
    code = response.get("Error", {}).get("Code", "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    reason = response.get("Reason") or response.get("ResourceType")
    detail = f"{code} {reason}" if reason else code
    if code in THROTTLES or status == 429:
        return Throttled(f"End User Messaging: {detail}")
    if code == "InternalServerException" or status >= 500 or status == 0:
        return TimedOut(f"End User Messaging: {detail}")
    twilio = REFUSALS.get((code, reason))
    if twilio is None and code == "ValidationException":
        twilio = _field_code(" ".join(f.get("Name", "") for f in response.get("Fields") or []))
        twilio = twilio or _field_code(response.get("Error", {}).get("Message", ""))
    if twilio is None:
        twilio = REFUSALS.get((code, None))
    if twilio is None:
        # Any other refusal before AWS acted: authentication (401, 403), or a request AWS
        # could not read.
        twilio = 20003 if status in (401, 403) else 30008
    return _refused(twilio, message, identity, detail)


def _field_code(text: str) -> int | None:
    return next((code for field, code in FIELD_CODES.items() if field in text), None)


def _refused(code: int, message, identity: str, detail: str) -> Refused:
    text = TWILIO_MESSAGES.get(code, events.ERROR_MESSAGES.get(code, "Unknown error"))
    text = text.format(to=message.to, identity=identity)
    return Refused(code, f"{text} (End User Messaging: {detail})")
