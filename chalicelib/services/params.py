"""What a Service create or update may say, checked as Twilio types it, with its codes.

Every parameter of Twilio's description is accepted. Booleans are `true`/`false`, methods
GET/POST, URLs ones Herald can call (chalicelib.outbound.addresses, as a number's SmsUrl:
21502 otherwise), ValidityPeriod 1..36000 (20001 otherwise, as on a message), Usecase one of
Twilio's, ScanMessageContent one of inherit/enable/disable. An unknown parameter is 20001.
"""

from chalicelib.outbound.addresses import url_parameter
from chalicelib.runtime import clock
from chalicelib.services.model import VALIDITY_MAX, VALIDITY_MIN, Service, new_sid
from chalicelib.twilio import errors, forms

MAX_FRIENDLY_NAME = 64
METHODS = frozenset({"GET", "POST"})
URL_PARAMS = {
    "InboundRequestUrl": "inbound_request_url",
    "FallbackUrl": "fallback_url",
    "StatusCallback": "status_callback",
}
METHOD_PARAMS = {"InboundMethod": "inbound_method", "FallbackMethod": "fallback_method"}
BOOLEAN_PARAMS = {
    "StickySender": "sticky_sender",
    "MmsConverter": "mms_converter",
    "SmartEncoding": "smart_encoding",
    "FallbackToLongCode": "fallback_to_long_code",
    "AreaCodeGeomatch": "area_code_geomatch",
    "SynchronousValidation": "synchronous_validation",
    "UseInboundWebhookOnNumber": "use_inbound_webhook_on_number",
}
ENUM_PARAMS = {
    "ScanMessageContent": ("scan_message_content", frozenset({"inherit", "enable", "disable"})),
    "Usecase": (
        "usecase",
        frozenset(
            {"notifications", "marketing", "verification", "discussion", "poll", "undeclared"}
        ),
    ),
}
PARAMS = frozenset(
    {"FriendlyName", "ValidityPeriod", *URL_PARAMS, *METHOD_PARAMS, *BOOLEAN_PARAMS, *ENUM_PARAMS}
)


def new_service(account_sid: str, params: forms.Params) -> Service:
    changes = changes_of(params)
    if not changes.get("friendly_name"):
        raise errors.bad_parameter("Missing required parameter FriendlyName in the post body")
    now = clock.now_ms()
    service = Service(
        account_sid=account_sid,
        sid=new_sid("MG", now),
        friendly_name=changes.pop("friendly_name"),
        created_ms=now,
        updated_ms=now,
    )
    for name, value in changes.items():
        setattr(service, name, value)
    return service


def changes_of(params: forms.Params) -> dict:
    """The fields a create or update sets; an empty URL clears one (None)."""
    forms.reject_unknown(params, PARAMS)
    changes: dict = {}
    if "FriendlyName" in params:
        name = forms.single(params, "FriendlyName") or ""
        if len(name) > MAX_FRIENDLY_NAME:
            raise errors.bad_parameter(f"FriendlyName is at most {MAX_FRIENDLY_NAME} characters")
        if name:
            changes["friendly_name"] = name
    for param, field in URL_PARAMS.items():
        if param in params:
            changes[field] = url_parameter(params, param)
    for param, field in METHOD_PARAMS.items():
        value = forms.single(params, param)
        if value:
            if value.upper() not in METHODS:
                raise errors.bad_parameter(f"{param} must be GET or POST")
            changes[field] = value.upper()
    for param, field in BOOLEAN_PARAMS.items():
        value = forms.single(params, param)
        if value is not None:
            if value.lower() not in ("true", "false"):
                raise errors.bad_parameter(f"{param} must be true or false")
            changes[field] = value.lower() == "true"
    for param, (field, allowed) in ENUM_PARAMS.items():
        value = forms.single(params, param)
        if value is not None:
            if value not in allowed:
                raise errors.bad_parameter(f"{param} must be one of: {', '.join(sorted(allowed))}")
            changes[field] = value
    if "ValidityPeriod" in params:
        value = forms.single(params, "ValidityPeriod")
        if not forms.in_range(value, VALIDITY_MIN, VALIDITY_MAX):
            raise errors.bad_parameter(
                f"ValidityPeriod must be an integer from {VALIDITY_MIN} to {VALIDITY_MAX}"
            )
        changes["validity_period"] = int(value)
    return changes
