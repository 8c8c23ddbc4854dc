"""What a create or update of an IncomingPhoneNumber may say, checked with Twilio's codes.

Every parameter Twilio documents for the resource is accepted (an unknown one is 20001, as
for Messages). The messaging ones are kept and acted on. The voice, emergency and regulatory
ones (VoiceUrl, TrunkSid, AddressSid, …) are checked as Twilio types them and then ignored:
Herald's numbers take no calls, and the JSON shows such a number's values (voice_url null).
Two would change where texts go, which Herald cannot do, and are refused rather than
ignored: SmsApplicationSid (Herald has no Applications) and, on update, an AccountSid other
than the caller's (moving a number to another account).
"""

from chalicelib.numbers.model import DEFAULT_METHOD, IncomingPhoneNumber, number_sid
from chalicelib.outbound.addresses import url_parameter
from chalicelib.runtime import clock
from chalicelib.twilio import addresses, codes, errors, forms
from chalicelib.twilio.paths import API_VERSION

MAX_FRIENDLY_NAME = 64
API_VERSIONS = frozenset({API_VERSION, "2008-08-01"})
METHODS = frozenset({"GET", "POST"})

# Parameter -> the stored field it sets.
URL_PARAMS = {
    "SmsUrl": "sms_url",
    "SmsFallbackUrl": "sms_fallback_url",
    "StatusCallback": "status_callback",
}
METHOD_PARAMS = {
    "SmsMethod": "sms_method",
    "SmsFallbackMethod": "sms_fallback_method",
    "StatusCallbackMethod": "status_callback_method",
}
# Checked, then ignored (see the module's docstring).
IGNORED_URLS = ("VoiceUrl", "VoiceFallbackUrl")
IGNORED_METHODS = ("VoiceMethod", "VoiceFallbackMethod")
IGNORED_SIDS = {
    "VoiceApplicationSid": "AP",
    "TrunkSid": "TK",
    "EmergencyAddressSid": "AD",
    "IdentitySid": "RI",
    "AddressSid": "AD",
    "BundleSid": "BU",
}
IGNORED_ENUMS = {
    "VoiceReceiveMode": frozenset({"voice", "fax"}),
    "EmergencyStatus": frozenset({"Active", "Inactive"}),
}
IGNORED_BOOLEANS = ("VoiceCallerIdLookup",)

_COMMON = frozenset(
    {
        "FriendlyName", "ApiVersion", "SmsApplicationSid",
        *URL_PARAMS, *METHOD_PARAMS,
        *IGNORED_URLS, *IGNORED_METHODS, *IGNORED_SIDS, *IGNORED_ENUMS, *IGNORED_BOOLEANS,
    }
)  # fmt: skip
CREATE_PARAMS = _COMMON | {"PhoneNumber", "AreaCode"}
UPDATE_PARAMS = _COMMON | {"AccountSid"}


def new_number(account_sid: str, params: forms.Params) -> IncomingPhoneNumber:
    """The number a create asks for (not stored yet)."""
    forms.reject_unknown(params, CREATE_PARAMS)
    phone_number = _phone_number(params)
    settings = _settings(params)
    _check_ignored(params)
    for field, value in list(settings.items()):
        if value is None:  # a blank value on create is the default
            del settings[field]
    now = clock.now_ms()
    number = IncomingPhoneNumber(
        account_sid=account_sid,
        sid=number_sid(now),
        phone_number=phone_number,
        friendly_name=settings.pop("friendly_name", None) or national_format(phone_number),
        number_type=number_type(phone_number),
        created_ms=now,
        updated_ms=now,
        **settings,
    )
    check_fallback(number)
    return number


def changes_of(account_sid: str, params: forms.Params) -> dict:
    """The fields an update asks to change: field -> new value, None where a blank value
    clears it (a URL) or sets it back to its default (a method, FriendlyName, ApiVersion)."""
    forms.reject_unknown(params, UPDATE_PARAMS)
    moved_to = forms.single(params, "AccountSid")
    if moved_to and moved_to != account_sid:
        raise errors.bad_parameter(
            "AccountSid: Herald does not move numbers between accounts; delete the number"
            " here and register it with the other account"
        )
    changes = _settings(params)
    _check_ignored(params)
    return changes


def apply(number: IncomingPhoneNumber, changes: dict) -> IncomingPhoneNumber:
    """`number` with `changes` (as changes_of gives them) applied, defaults filled in."""
    values = {**number.to_fields(), **changes}
    for name in METHOD_PARAMS.values():
        values[name] = values.get(name) or DEFAULT_METHOD
    values["api_version"] = values.get("api_version") or API_VERSION
    values["friendly_name"] = values.get("friendly_name") or national_format(number.phone_number)
    changed = IncomingPhoneNumber.from_fields({k: v for k, v in values.items() if v is not None})
    check_fallback(changed)
    return changed


def check_fallback(number: IncomingPhoneNumber) -> None:
    if number.sms_fallback_url and not number.sms_url:
        raise errors.TwilioError(
            codes.FALLBACK_URL_WITHOUT_URL, "Cannot set SmsFallbackUrl without setting SmsUrl."
        )


def national_format(phone_number: str) -> str:
    """Twilio's default FriendlyName: the number as written in its country, such as
    "(415) 555-0100"."""
    import phonenumbers

    parsed = phonenumbers.parse(phone_number, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def number_type(phone_number: str) -> str:
    """Twilio's `type`: tollFree or mobile where libphonenumber says so, local otherwise
    (fixed lines, numbers that may be either, and every other kind)."""
    import phonenumbers

    kind = phonenumbers.number_type(phonenumbers.parse(phone_number, None))
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return "tollFree"
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return "mobile"
    return "local"


def _phone_number(params: forms.Params) -> str:
    given = forms.single(params, "PhoneNumber")
    if not given:
        if forms.single(params, "AreaCode"):
            raise errors.TwilioError(
                codes.NO_NUMBERS_FOUND,
                "No phone numbers found in this area code: Herald does not buy numbers. It"
                " registers a number the account already owns: give it as PhoneNumber (E.164).",
            )
        raise errors.TwilioError(
            codes.INVALID_PHONE_NUMBER,
            "A PhoneNumber is required: the number the account already owns, in E.164 form"
            " (such as +14155550100). Herald registers numbers; it does not buy them.",
        )
    normalized = addresses.normalize_number(given)
    if normalized is None:
        raise errors.TwilioError(
            codes.INVALID_PHONE_NUMBER,
            f"PhoneNumber {given} is invalid: give a valid number in E.164 form.",
        )
    return normalized


def _settings(params: forms.Params) -> dict:
    """The stored fields the messaging parameters set (None: blank, see changes_of)."""
    settings: dict = {}
    for name, field in URL_PARAMS.items():
        if name in params:
            settings[field] = url_parameter(params, name)
    for name, field in METHOD_PARAMS.items():
        if name in params:
            settings[field] = _method(params, name)
    if "FriendlyName" in params:
        friendly_name = forms.single(params, "FriendlyName") or None
        if friendly_name is not None and len(friendly_name) > MAX_FRIENDLY_NAME:
            raise errors.bad_parameter(
                f"FriendlyName is at most {MAX_FRIENDLY_NAME} characters long"
            )
        settings["friendly_name"] = friendly_name
    if "ApiVersion" in params:
        version = forms.single(params, "ApiVersion") or None
        if version is not None and version not in API_VERSIONS:
            raise errors.bad_parameter(
                f"ApiVersion must be one of: {', '.join(sorted(API_VERSIONS))}"
            )
        settings["api_version"] = version
    if forms.single(params, "SmsApplicationSid"):
        raise errors.bad_parameter(
            "SmsApplicationSid: Herald has no Applications; set SmsUrl on the number instead"
        )
    return settings


def _check_ignored(params: forms.Params) -> None:
    """Check the parameters Herald accepts and ignores as Twilio types them."""
    for name in IGNORED_URLS:
        if name in params:
            url_parameter(params, name)
    for name in IGNORED_METHODS:
        if name in params:
            _method(params, name)
    for name, prefix in IGNORED_SIDS.items():
        value = forms.single(params, name)
        if value and not _is_sid(value, prefix):
            raise errors.bad_parameter(f"{name} must be a {prefix} Sid")
    for name, allowed in IGNORED_ENUMS.items():
        value = forms.single(params, name)
        if value and value not in allowed:
            raise errors.bad_parameter(f"{name} must be one of: {', '.join(sorted(allowed))}")
    for name in IGNORED_BOOLEANS:
        value = forms.single(params, name)
        if value and value.lower() not in ("true", "false"):
            raise errors.bad_parameter(f"{name} must be true or false")


def _method(params: forms.Params, name: str) -> str | None:
    value = forms.single(params, name)
    if not value:
        return None
    if value.upper() not in METHODS:
        raise errors.bad_parameter(f"{name} must be GET or POST")
    return value.upper()


def _is_sid(value: str, prefix: str) -> bool:
    hex_part = value[2:]
    return (
        value.startswith(prefix)
        and len(hex_part) == 32
        and all(c in "0123456789abcdefABCDEF" for c in hex_part)
    )
