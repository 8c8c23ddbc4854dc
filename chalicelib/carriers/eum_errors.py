"""What a failed End User Messaging call means for the message
(chalicelib.carriers.end_user_messaging): AWS's exception, reason and fields mapped to an
Outcome, a refusal to the closest Twilio error code (REFUSALS, and docs/carriers.md).

Throttled only when nothing was handed over (a throttle, or a connection that was never
made); TimedOut whenever AWS may have acted, since a message is never sent twice (the
carrier's docstring says why).
"""

from chalicelib.carriers import events
from chalicelib.carriers.base import Outcome, Refused, Throttled, TimedOut

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
