"""What a failed End User Messaging call means for the message
(chalicelib.carriers.end_user_messaging): AWS's exception, reason and fields mapped to an
Outcome, a refusal to the closest Twilio error code (REFUSALS, and docs/carriers.md).

Throttled only when nothing was handed over (a throttle, or a connection that was never
made); TimedOut whenever AWS may have acted, since a message is never sent twice (the
carrier's docstring says why).
"""

from chalicelib.carriers.base import Outcome, Refused, Throttled, TimedOut
from chalicelib.twilio import codes

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
    ("ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT"): codes.UNSUBSCRIBED_RECIPIENT,
    ("ConflictException", "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"): codes.TO_NOT_VERIFIED,
    ("ConflictException", "NO_ORIGINATION_IDENTITIES_FOUND"): codes.FROM_NOT_ALLOWED,
    ("ConflictException", "RESOURCE_NOT_ACTIVE"): codes.FROM_NOT_ALLOWED,
    ("ConflictException", "NUMBER_CAPABILITIES_MISMATCH"): codes.FROM_NOT_ALLOWED,
    ("ConflictException", "MESSAGE_TYPE_MISMATCH"): codes.FROM_NOT_ALLOWED,
    ("ConflictException", "KEYWORD_MISMATCH"): codes.FROM_NOT_ALLOWED,
    (
        "ConflictException",
        "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
    ): codes.REGION_NOT_ENABLED,
    (
        "ConflictException",
        "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE",
    ): codes.MESSAGE_BLOCKED,
    ("ConflictException", None): codes.UNKNOWN_ERROR,
    ("ValidationException", "DESTINATION_COUNTRY_BLOCKED"): codes.REGION_NOT_ENABLED,
    ("ValidationException", "COUNTRY_NOT_ENABLED"): codes.REGION_NOT_ENABLED,
    ("ValidationException", "INTERNATIONAL_SENDING_NOT_SUPPORTED"): codes.REGION_NOT_ENABLED,
    ("ValidationException", "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"): codes.FROM_NOT_ALLOWED,
    ("ValidationException", "COUNTRY_CODE_MISMATCH"): codes.FROM_NOT_ALLOWED,
    ("ValidationException", "SENDER_ID_NOT_REGISTERED"): codes.FROM_NOT_ALLOWED,
    ("ValidationException", "SENDER_ID_NOT_SUPPORTED"): codes.FROM_NOT_ALLOWED,
    ("ValidationException", "SENDER_ID_REQUIRES_REGISTRATION"): codes.FROM_NOT_ALLOWED,
    ("ValidationException", "CHANNEL_NOT_ENABLED"): codes.FROM_NOT_ALLOWED,
    ("ValidationException", "PRICE_OVER_THRESHOLD"): codes.PRICE_OVER_MAX,
    ("ValidationException", None): codes.UNKNOWN_ERROR,  # unless a field names the culprit (below)
    ("ResourceNotFoundException", "phone-number"): codes.FROM_NOT_ALLOWED,
    ("ResourceNotFoundException", "sender-id"): codes.FROM_NOT_ALLOWED,
    ("ResourceNotFoundException", "pool"): codes.FROM_NOT_ALLOWED,
    # The configuration set: the stage's setup.
    ("ResourceNotFoundException", None): codes.UNKNOWN_ERROR,
    ("AccessDeniedException", "ACCOUNT_DISABLED"): codes.ACCOUNT_SUSPENDED,
    ("AccessDeniedException", "INSUFFICIENT_ACCOUNT_REPUTATION"): codes.ACCOUNT_SUSPENDED,
    # IAM: the sender's role may not use it.
    ("AccessDeniedException", None): codes.PERMISSION_DENIED,
}
# A ValidationException without a reason of its own, by the field it names.
FIELD_CODES = {
    "DestinationPhoneNumber": codes.INVALID_TO,
    "OriginationIdentity": codes.INVALID_FROM,
}


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
        return _refused(
            _field_code(str(error)) or codes.UNKNOWN_ERROR, message, identity, str(error)
        )
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
        twilio = codes.PERMISSION_DENIED if status in (401, 403) else codes.UNKNOWN_ERROR
    return _refused(twilio, message, identity, detail)


def _field_code(text: str) -> int | None:
    return next((code for field, code in FIELD_CODES.items() if field in text), None)


def _refused(code: int, message, identity: str, detail: str) -> Refused:
    """The code's meaning (chalicelib.twilio.codes), AWS's reason, and the identity the
    text was to come from (not always the message's From: eum_request)."""
    text = codes.MESSAGES.get(code, codes.MESSAGES[codes.UNKNOWN_ERROR])
    return Refused(code, f"{text} (End User Messaging: {detail}; OriginationIdentity {identity})")
