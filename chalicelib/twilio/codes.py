"""Every Twilio error code Herald answers or records, with what it means: the one registry.

A request's error JSON, a message's `error_code`, a carrier's refusal, a webhook's TwiML
error and the inbox's explanations all take their codes from here, by name: no other module
writes a code as a number (tests/twilio/test_codes.py checks, and that docs/errors.md
lists every code with the same meaning).

MESSAGES holds what each code means, in Twilio's words where it has them. It is what a
message's `error_message` says when nothing more particular is known (a carrier's receipt,
a failed hand-off) and what the inbox shows beside a code; an answer to a request may say
more about that request (the 'To' number it refused, the limit it passed).
"""

MESSAGES: dict[int, str] = {}


def _code(code: int, message: str) -> int:
    MESSAGES[code] = message
    return code


# --- a URL Herald fetched or called: webhooks, their TwiML, media ---------------------------
HTTP_RETRIEVAL_FAILURE = _code(
    11200, "HTTP retrieval failure: the URL (a webhook, a media file) did not answer 2xx"
)
TWIML_TOO_LARGE = _code(11750, "TwiML response body too large: the webhook's answer is over 64 KiB")
DOCUMENT_PARSE_FAILURE = _code(
    12100, "Document parse failure: the webhook's TwiML is not well-formed XML"
)
SCHEMA_VALIDATION_WARNING = _code(
    12200, "Schema validation warning: the webhook's answer is not messaging TwiML"
)
INVALID_CONTENT_TYPE = _code(
    12300,
    "Invalid Content-Type: a webhook's answer that is not XML or plain text, or media a "
    "phone cannot show",
)

# --- any request ----------------------------------------------------------------------------
INVALID_PARAMETER = _code(20001, "Invalid parameter")
PERMISSION_DENIED = _code(20003, "Permission Denied")
METHOD_NOT_ALLOWED = _code(20004, "Method not allowed")
FORBIDDEN = _code(20403, "Forbidden")
NOT_DELETABLE = _code(20009, "Cannot delete message because delivery has not been completed")
NOT_FOUND = _code(20404, "Not Found")
TOO_MANY_REQUESTS = _code(20429, "Too Many Requests")
INTERNAL_ERROR = _code(20500, "Internal Server Error")
SERVICE_UNAVAILABLE = _code(20503, "Service Unavailable")

# --- a message's create (and every path that makes one) -------------------------------------
INVALID_TO = _code(21211, "Invalid 'To' phone number")
INVALID_FROM = _code(21212, "Invalid 'From' phone number")
REGION_NOT_ENABLED = _code(
    21408,
    "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
)
INVALID_PAGE_TOKEN = _code(21481, "Invalid PageToken")
BODY_REQUIRED = _code(21602, "Message body is required")
FROM_REQUIRED = _code(21603, "A 'From' phone number is required")
TO_REQUIRED = _code(21604, "A 'To' phone number is required")
FROM_NOT_ALLOWED = _code(
    21606,
    "The 'From' phone number is not a valid, message-capable number of this account for "
    "this destination",
)
TO_NOT_VERIFIED = _code(21608, "The 'To' phone number is not yet verified for this account")
INVALID_STATUS_CALLBACK = _code(21609, "Invalid StatusCallback URL")
UNSUBSCRIBED_RECIPIENT = _code(21610, "Attempt to send to unsubscribed recipient")
TO_NOT_REACHABLE = _code(21612, "The 'To' phone number is not currently reachable")
TO_NOT_MOBILE = _code(21614, "'To' number is not a valid mobile number")
BODY_TOO_LONG = _code(21617, "The message body exceeds the 1600 character limit")
CONTENT_REQUIRED = _code(21619, "A text message body, media URL or content SID is required")
INVALID_MEDIA_URL = _code(21620, "Invalid media URL")
TOO_MANY_MEDIA = _code(21623, "Too many media URLs")
SERVICE_WITHOUT_NUMBERS = _code(21704, "The Messaging Service contains no phone numbers")
INVALID_SEND_AT = _code(35111, "SendAt is missing or not an ISO 8601 datetime")
SEND_AT_OUT_OF_RANGE = _code(
    35114, "SendAt must be more than 300 seconds and at most 35 days in the future"
)
SCHEDULE_TYPE_REQUIRED = _code(35115, "SendAt requires ScheduleType=fixed")
NOT_CANCELABLE = _code(30409, "Message cannot be canceled: it is not scheduled")

# --- an IncomingPhoneNumber's register and update -------------------------------------------
FALLBACK_URL_WITHOUT_URL = _code(21406, "Cannot set SmsFallbackUrl without setting SmsUrl")
INVALID_PHONE_NUMBER = _code(21421, "PhoneNumber is invalid")
NUMBER_NOT_AVAILABLE = _code(21422, "PhoneNumber is not available")
NO_NUMBERS_FOUND = _code(21452, "No phone numbers found in this area code")
INVALID_CALLBACK_URL = _code(21502, "Invalid callback url")

# --- a message's delivery: the carrier's answer and its receipts -----------------------------
QUEUE_OVERFLOW = _code(30001, "Queue overflow or validity period expired")
ACCOUNT_SUSPENDED = _code(30002, "Account suspended")
UNREACHABLE_HANDSET = _code(30003, "Unreachable destination handset")
MESSAGE_BLOCKED = _code(30004, "Message blocked")
UNKNOWN_HANDSET = _code(30005, "Unknown destination handset")
LANDLINE_OR_UNREACHABLE_CARRIER = _code(30006, "Landline or unreachable carrier")
MESSAGE_FILTERED = _code(30007, "Message filtered")
UNKNOWN_ERROR = _code(30008, "Unknown error")
PRICE_OVER_MAX = _code(30010, "Message price exceeds max price")
MEDIA_TOO_LARGE = _code(30019, "Content size exceeds carrier limit")
PROVIDER_TIMEOUT = _code(30410, "Provider timeout error")
PUMPING_PROTECTION = _code(30450, "Message delivery blocked by SMS pumping protection")
