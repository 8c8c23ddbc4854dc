"""What a create or update may say, checked the way Twilio checks it, with Twilio's codes."""

from chalicelib.messages import carrier_port, checks
from chalicelib.messages.model import Message, describe
from chalicelib.messages.status import Status
from chalicelib.runtime import clock
from chalicelib.twilio import addresses, codes, dates, errors, forms, sids
from chalicelib.twilio.segments import count_segments

MAX_BODY_CHARS = checks.MAX_BODY_CHARS
MAX_MEDIA = checks.MAX_MEDIA
SCHEDULE_MIN_SECONDS = 300
SCHEDULE_MAX_SECONDS = 35 * 24 * 3600


BOOLEAN_PARAMS = {"ProvideFeedback", "ForceDelivery", "SmartEncoded", "ShortenUrls", "SendAsMms"}
ENUM_PARAMS = {
    "ContentRetention": {"retain", "discard"},
    "AddressRetention": {"retain", "obfuscate"},
    "TrafficType": {"free"},
    "RiskCheck": {"enable", "disable"},
}
INTEGER_PARAMS = {"Attempt": (0, 2**31 - 1), "ValidityPeriod": (1, 36000)}
CREATE_PARAMS = frozenset(
    {
        "To", "From", "MessagingServiceSid", "Body", "MediaUrl", "ContentSid",
        "StatusCallback", "ApplicationSid", "MaxPrice", "PersistentAction", "ScheduleType",
        "SendAt", "ContentVariables", "FallbackFrom",
        *BOOLEAN_PARAMS, *ENUM_PARAMS, *INTEGER_PARAMS,
    }
)  # fmt: skip


def new_message(account_sid: str, params: forms.Params) -> Message:
    """The message a create asks for, its parameters checked in Twilio's order (not stored
    yet; chalicelib.messages.creation applies checks.outbound, the rules every path shares
    and the ones that read DynamoDB, before it stores it)."""
    forms.reject_unknown(params, CREATE_PARAMS)
    now = clock.now_ms()
    to = _recipient(params)
    from_, service_sid = _sender(params)
    refusal = carrier_port.refuse_at_create(to, from_)
    if refusal is not None:
        raise errors.TwilioError(refusal.code, refusal.message)
    body, media_urls, content_sid = _content(params, service_sid)
    options = _options(params)
    send_at_ms = _schedule(params, now)
    if content_sid:
        options["ContentSid"] = content_sid

    if send_at_ms is not None:
        status = Status.SCHEDULED
    elif service_sid:
        status = Status.ACCEPTED
    else:
        status = Status.QUEUED
    sid = sids.message_sid(now, has_media=bool(media_urls))
    media_sids, media_types = describe(sid, media_urls)
    return Message(
        account_sid=account_sid,
        sid=sid,
        to=to,
        from_=from_,
        body=body,
        status=status.value,
        created_ms=now,
        updated_ms=now,
        # date_sent is when the carrier takes it (chalicelib.delivery.worker).
        sent_ms=None,
        messaging_service_sid=service_sid,
        num_segments=count_segments(body),
        media_urls=media_urls,
        media_sids=media_sids,
        media_types=media_types,
        send_at_ms=send_at_ms,
        options=options,
        history=[{"status": status.value, "at_ms": now}],
    )


def _recipient(params: forms.Params) -> str:
    to = forms.single(params, "To")
    if not to:
        raise errors.TwilioError(codes.TO_REQUIRED, "A 'To' phone number is required.")
    return checks.to_address(to)


def _sender(params: forms.Params) -> tuple[str | None, str | None]:
    from_ = forms.single(params, "From")
    service_sid = forms.single(params, "MessagingServiceSid")
    if not from_ and not service_sid:
        raise errors.TwilioError(codes.FROM_REQUIRED, "A 'From' phone number is required.")
    if service_sid and not sids.MESSAGING_SERVICE_SID.match(service_sid):
        raise errors.bad_parameter(f"Invalid MessagingServiceSid: {service_sid}")
    return (checks.from_address(from_) if from_ else None), service_sid or None


def _content(params: forms.Params, service_sid: str | None) -> tuple[str, list[str], str | None]:
    body = forms.single(params, "Body") or ""
    media_urls = [url for url in params.get("MediaUrl", []) if url]
    content_sid = forms.single(params, "ContentSid")
    if content_sid and not sids.CONTENT_SID.match(content_sid):
        raise errors.bad_parameter(f"Invalid ContentSid: {content_sid}")
    if not body and not media_urls and not content_sid:
        if service_sid:
            raise errors.TwilioError(
                codes.CONTENT_REQUIRED, "A text message body, media URL or content SID is required."
            )
        raise errors.TwilioError(codes.BODY_REQUIRED, "Message body is required.")
    checks.body(body)
    checks.media_urls(media_urls)
    return body, media_urls, content_sid


def _options(params: forms.Params) -> dict:
    """Validate the parameters Herald accepts but does not act on yet; keep them."""
    options: dict = {}
    for name in BOOLEAN_PARAMS & params.keys():
        value = forms.single(params, name)
        if value is None or value.lower() not in ("true", "false"):
            raise errors.bad_parameter(f"{name} must be true or false")
        options[name] = value.lower()
    for name in ENUM_PARAMS.keys() & params.keys():
        value = forms.single(params, name)
        if value not in ENUM_PARAMS[name]:
            allowed = ", ".join(sorted(ENUM_PARAMS[name]))
            raise errors.bad_parameter(f"{name} must be one of: {allowed}")
        options[name] = value
    for name in INTEGER_PARAMS.keys() & params.keys():
        low, high = INTEGER_PARAMS[name]
        value = forms.single(params, name)
        if not forms.in_range(value, low, high):
            raise errors.bad_parameter(f"{name} must be an integer from {low} to {high}")
        options[name] = value
    if "StatusCallback" in params:
        value = forms.single(params, "StatusCallback")
        options["StatusCallback"] = checks.callback_url(value) if value else value
    if "MaxPrice" in params:
        value = forms.single(params, "MaxPrice")
        try:
            float(value or "")
        except ValueError:
            raise errors.bad_parameter("MaxPrice must be a number") from None
        options["MaxPrice"] = value
    if "FallbackFrom" in params:
        value = forms.single(params, "FallbackFrom")
        if value and addresses.normalize_address(value, allow_alphanumeric=True) is None:
            raise errors.TwilioError(
                codes.INVALID_FROM, f"The 'FallbackFrom' number {value} is not valid."
            )
        options["FallbackFrom"] = value
    for name in ("ApplicationSid", "ContentVariables"):
        if name in params:
            options[name] = forms.single(params, name)
    if "PersistentAction" in params:
        options["PersistentAction"] = params["PersistentAction"]
    return options


def _schedule(params: forms.Params, now_ms: int) -> int | None:
    """SendAt in milliseconds for a fixed-schedule message, or None to send now."""
    schedule_type = forms.single(params, "ScheduleType")
    send_at = forms.single(params, "SendAt")
    if schedule_type is None:
        if send_at:
            raise errors.TwilioError(
                codes.SCHEDULE_TYPE_REQUIRED, "SendAt requires ScheduleType=fixed."
            )
        return None
    if schedule_type != "fixed":
        raise errors.bad_parameter("ScheduleType must be fixed")
    if not send_at:
        raise errors.TwilioError(codes.INVALID_SEND_AT, "SendAt is required to schedule a message.")
    try:
        send_at_ms = dates.to_ms(dates.parse_instant(send_at))
    except (ValueError, OverflowError):
        raise errors.TwilioError(
            codes.INVALID_SEND_AT, f"SendAt is not an ISO 8601 datetime: {send_at}"
        ) from None
    ahead_s = (send_at_ms - now_ms) / 1000
    if not SCHEDULE_MIN_SECONDS < ahead_s <= SCHEDULE_MAX_SECONDS:
        raise errors.TwilioError(
            codes.SEND_AT_OUT_OF_RANGE,
            "SendAt must be more than 300 seconds and at most 35 days in the future.",
        )
    return send_at_ms
