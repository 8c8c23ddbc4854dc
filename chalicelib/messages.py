"""The Message resource: create, fetch, list, update (redact/cancel) and delete.

Handlers hand in parsed parameters; this module validates them the way Twilio does, talks
to `storage` and returns Twilio's JSON. It never touches boto3.
"""

import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import urlparse

from chalicelib import addresses, config, dates, delivery, errors, forms, paging, sids, storage
from chalicelib.segments import count_segments

API_VERSION = "2010-04-01"
ACCOUNT_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}"
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
SCHEDULE_MIN_SECONDS = 300
SCHEDULE_MAX_SECONDS = 35 * 24 * 3600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

# Statuses a message can be deleted in. Twilio refuses every in-flight message; Herald
# refuses only `sending` (handed to a carrier, so it cannot be withdrawn) and lets a
# queued or scheduled message be withdrawn by deleting it (see the README).
UNDELETABLE_STATUS = "sending"

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
UPDATE_PARAMS = frozenset({"Body", "Status"})
LIST_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
LIST_PARAMS = frozenset({*LIST_FILTERS, "PageSize", "Page", "PageToken"})
NO_MATCH = "\x00no-such-address"


@dataclass
class Message:
    """A stored message: the fields of Twilio's Message JSON, plus what delivery needs."""

    account_sid: str
    sid: str
    to: str
    from_: str | None
    body: str
    status: str
    created_ms: int
    updated_ms: int
    sent_ms: int | None = None
    messaging_service_sid: str | None = None
    num_segments: int = 1
    media_urls: list[str] = field(default_factory=list)
    direction: str = "outbound-api"
    price: str | None = None
    price_unit: str = "USD"
    error_code: int | None = None
    error_message: str | None = None
    send_at_ms: int | None = None
    # Every other create parameter, kept for the delivery seam (StatusCallback, …).
    options: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.sid[2:]

    @property
    def list_key(self) -> str:
        order_ms = self.sent_ms if self.sent_ms is not None else self.created_ms
        return f"{order_ms:012x}{self.key}"

    def to_item(self) -> dict:
        item = {
            "pk": self.account_sid,
            "sk": self.key,
            storage.LIST_SORT_KEY: self.list_key,
            "to_key": f"{self.account_sid}|{self.to}",
            "from_key": f"{self.account_sid}|{self.from_}" if self.from_ else None,
            "to_from_key": (f"{self.account_sid}|{self.to}|{self.from_}" if self.from_ else None),
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
            "sent_ms": self.sent_ms,
            "messaging_service_sid": self.messaging_service_sid,
            "num_segments": self.num_segments,
            "media_urls": self.media_urls or None,
            "direction": self.direction,
            "price": self.price,
            "price_unit": self.price_unit,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "send_at_ms": self.send_at_ms,
            "options": self.options or None,
        }
        return {k: v for k, v in item.items() if v is not None}

    @classmethod
    def from_item(cls, item: dict) -> "Message":
        return cls(
            account_sid=item["pk"],
            sid=item["sid"],
            to=item["to"],
            from_=item.get("from"),
            body=item.get("body", ""),
            status=item["status"],
            created_ms=item["created_ms"],
            updated_ms=item["updated_ms"],
            sent_ms=item.get("sent_ms"),
            messaging_service_sid=item.get("messaging_service_sid"),
            num_segments=item.get("num_segments", 1),
            media_urls=item.get("media_urls") or [],
            direction=item.get("direction", "outbound-api"),
            price=item.get("price"),
            price_unit=item.get("price_unit", "USD"),
            error_code=item.get("error_code"),
            error_message=item.get("error_message"),
            send_at_ms=item.get("send_at_ms"),
            options=item.get("options") or {},
        )

    def uri(self) -> str:
        return f"{ACCOUNT_PATH.format(account_sid=self.account_sid)}/Messages/{self.sid}.json"

    def to_json(self) -> dict:
        base = self.uri()[: -len(".json")]
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": dates.rfc2822(self.created_ms),
            "date_sent": dates.rfc2822(self.sent_ms),
            "date_updated": dates.rfc2822(self.updated_ms),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            "num_segments": str(self.num_segments),
            "price": self.price,
            "price_unit": self.price_unit,
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": self.uri(),
        }


# --- create -----------------------------------------------------------------------------


IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255


@dataclass
class Created:
    message: Message
    replayed: bool = False


def create(account_sid: str, params: forms.Params, idempotency_key: str | None = None) -> Created:
    """Validate and store a new message.

    With an idempotency key, a retry with the same parameters finds the first message
    instead of making a second one (`replayed`), and the same key with other parameters
    is refused; keys belong to the account and live IDEMPOTENCY_TTL_SECONDS.
    """
    message = _new_message(account_sid, params)
    record = _idempotency_record(idempotency_key, params, message.created_ms)
    earlier = _store(message, record)
    if earlier is not None:
        if earlier.get("request_digest") != record["request_digest"]:
            raise errors.TwilioError(
                20001,
                "This idempotency key was already used with different parameters.",
                422,
            )
        return Created(Message.from_item(earlier["message"]), replayed=True)
    delivery.submit(message)
    return Created(message)


SID_ATTEMPTS = 3


def _store(message: Message, record: dict | None) -> dict | None:
    """Store a new message (with its idempotency record); the earlier record, if any.

    80 random bits per millisecond make a Sid collision all but impossible; should one
    happen, the conditional put keeps the first message and this one takes a new Sid.
    """
    for attempt in range(SID_ATTEMPTS):
        try:
            if record is None:
                storage.put_new_message(message.to_item())
                return None
            return storage.put_new_message_once(
                message.to_item(), record, message.created_ms // 1000
            )
        except storage.Exists:
            if attempt == SID_ATTEMPTS - 1:
                raise storage.Unavailable("Sid collision") from None
            message.sid = sids.message_sid(message.created_ms, has_media=bool(message.media_urls))
    return None


def _idempotency_record(key: str | None, params: forms.Params, now_ms: int) -> dict | None:
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise errors.bad_parameter(
            f"An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        )
    canonical = json.dumps(sorted(params.items()), ensure_ascii=False).encode()
    return {
        "sk": storage.IDEMPOTENCY_SK_PREFIX + hashlib.sha256(key.encode()).hexdigest(),
        "request_digest": hashlib.sha256(canonical).hexdigest(),
        storage.TTL_ATTRIBUTE: now_ms // 1000 + IDEMPOTENCY_TTL_SECONDS,
    }


def _new_message(account_sid: str, params: forms.Params) -> Message:
    forms.reject_unknown(params, CREATE_PARAMS)
    now = sids.now_ms()
    to = _recipient(params)
    from_, service_sid = _sender(params)
    body, media_urls, content_sid = _content(params, service_sid)
    options = _options(params)
    send_at_ms = _schedule(params, now)
    if content_sid:
        options["ContentSid"] = content_sid

    if send_at_ms is not None:
        status = "scheduled"
    elif service_sid:
        status = "accepted"
    else:
        status = "queued"
    return Message(
        account_sid=account_sid,
        sid=sids.message_sid(now, has_media=bool(media_urls)),
        to=to,
        from_=from_,
        body=body,
        status=status,
        created_ms=now,
        updated_ms=now,
        # Accepted for sending now, unless it waits for its SendAt.
        sent_ms=None if send_at_ms is not None else now,
        messaging_service_sid=service_sid,
        num_segments=count_segments(body),
        media_urls=media_urls,
        send_at_ms=send_at_ms,
        options=options,
    )


def _recipient(params: forms.Params) -> str:
    to = forms.single(params, "To")
    if not to:
        raise errors.TwilioError(21604, "A 'To' phone number is required.")
    normalized = addresses.normalize_address(to)
    if normalized is None:
        raise errors.TwilioError(21211, f"The 'To' number {to} is not a valid phone number.")
    return normalized


def _sender(params: forms.Params) -> tuple[str | None, str | None]:
    from_ = forms.single(params, "From")
    service_sid = forms.single(params, "MessagingServiceSid")
    if not from_ and not service_sid:
        raise errors.TwilioError(21603, "A 'From' phone number is required.")
    if service_sid and not sids.MESSAGING_SERVICE_SID.match(service_sid):
        raise errors.bad_parameter(f"Invalid MessagingServiceSid: {service_sid}")
    normalized = None
    if from_:
        normalized = addresses.normalize_address(from_, allow_alphanumeric=True)
        if normalized is None:
            raise errors.TwilioError(
                21212, f"The 'From' number {from_} is not a valid phone number or shortcode."
            )
    return normalized, service_sid or None


def _content(params: forms.Params, service_sid: str | None) -> tuple[str, list[str], str | None]:
    body = forms.single(params, "Body") or ""
    media_urls = [url for url in params.get("MediaUrl", []) if url]
    content_sid = forms.single(params, "ContentSid")
    if content_sid and not sids.CONTENT_SID.match(content_sid):
        raise errors.bad_parameter(f"Invalid ContentSid: {content_sid}")
    if not body and not media_urls and not content_sid:
        if service_sid:
            raise errors.TwilioError(
                21619, "A text message body, media URL or content SID is required."
            )
        raise errors.TwilioError(21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        raise errors.TwilioError(
            21617, f"The concatenated message body exceeds the {MAX_BODY_CHARS} character limit."
        )
    if len(media_urls) > MAX_MEDIA:
        raise errors.TwilioError(21623, f"Too many media URLs: at most {MAX_MEDIA} are allowed.")
    for url in media_urls:
        if not _is_http_url(url):
            raise errors.TwilioError(21620, f"Invalid media URL: {url}")
    return body, media_urls, content_sid


def _is_http_url(text: str) -> bool:
    try:
        parsed = urlparse(text)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


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
        if value is None or not _is_decimal(value) or not low <= int(value) <= high:
            raise errors.bad_parameter(f"{name} must be an integer from {low} to {high}")
        options[name] = value
    if "StatusCallback" in params:
        value = forms.single(params, "StatusCallback")
        if value and not _is_http_url(value):
            raise errors.TwilioError(21609, f"Invalid StatusCallback: {value}")
        options["StatusCallback"] = value
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
            raise errors.TwilioError(21212, f"The 'FallbackFrom' number {value} is not valid.")
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
            raise errors.TwilioError(35115, "SendAt requires ScheduleType=fixed.")
        return None
    if schedule_type != "fixed":
        raise errors.bad_parameter("ScheduleType must be fixed")
    if not send_at:
        raise errors.TwilioError(35111, "SendAt is required to schedule a message.")
    try:
        send_at_ms = dates.to_ms(dates.parse_instant(send_at))
    except (ValueError, OverflowError):
        raise errors.TwilioError(35111, f"SendAt is not an ISO 8601 datetime: {send_at}") from None
    ahead_s = (send_at_ms - now_ms) / 1000
    if not SCHEDULE_MIN_SECONDS < ahead_s <= SCHEDULE_MAX_SECONDS:
        raise errors.TwilioError(
            35114,
            "SendAt must be more than 300 seconds and at most 35 days in the future.",
        )
    return send_at_ms


# --- fetch, update, delete --------------------------------------------------------------


def _message_key(account_sid: str, sid: str) -> str:
    key = sids.message_key(sid)
    if key is None:
        raise _not_found(account_sid, sid)
    return key


def _not_found(account_sid: str, sid: str) -> errors.TwilioError:
    return errors.not_found(f"{ACCOUNT_PATH.format(account_sid=account_sid)}/Messages/{sid}.json")


def fetch(account_sid: str, sid: str) -> Message:
    item = storage.get_message(account_sid, _message_key(account_sid, sid))
    if item is None or item.get("sid") != sid:
        raise _not_found(account_sid, sid)
    return Message.from_item(item)


def update(account_sid: str, sid: str, params: forms.Params) -> Message:
    forms.reject_unknown(params, UPDATE_PARAMS)
    key = _message_key(account_sid, sid)
    body = forms.single(params, "Body")
    status = forms.single(params, "Status")
    if body:
        raise errors.bad_parameter("Body can only be set to an empty string, which redacts it")
    if status is not None and status != "canceled":
        raise errors.bad_parameter("Status can only be set to canceled")
    if body is None and status is None:
        return fetch(account_sid, sid)
    changes: dict = {"updated_ms": sids.now_ms()}
    if body is not None:
        changes["body"] = ""
    if status == "canceled":
        changes["status"] = "canceled"
    try:
        item = storage.update_message(
            account_sid, key, sid, changes, require_status="scheduled" if status else None
        )
    except storage.Missing:
        raise _not_found(account_sid, sid) from None
    except storage.WrongState as state:
        raise errors.TwilioError(
            30409,
            f"Message {sid} is {state.item.get('status')}: only a scheduled message can be"
            " canceled.",
        ) from None
    return Message.from_item(item)


def delete(account_sid: str, sid: str) -> None:
    try:
        storage.delete_message(account_sid, _message_key(account_sid, sid), sid, UNDELETABLE_STATUS)
    except storage.Missing:
        raise _not_found(account_sid, sid) from None
    except storage.WrongState:
        raise errors.TwilioError(
            20009,
            "Cannot delete message because delivery has not been completed.",
            409,
        ) from None


# --- list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    index: str
    hash_value: str
    low: str
    high: str
    sent_only: bool
    filters: list[tuple[str, str]]

    @property
    def scope(self) -> str:
        return "|".join([self.index, self.hash_value, self.low, self.high])


def list_page(account_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, LIST_PARAMS)
    query = _list_query(account_sid, params)
    page_size = _integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    secret = config.load().page_token_secret

    low, high, descending = query.low, query.high, True
    if token:
        cursor = paging.decode(token, query.scope, secret)
        if cursor.direction == paging.NEXT:
            high = paging.key_before(cursor.key)
        else:
            low, descending = paging.key_after(cursor.key), False
    items = (
        storage.query_messages(
            query.index, query.hash_value, low, high, descending, page_size + 1, query.sent_only
        )
        if low <= high and NO_MATCH not in query.hash_value
        else []
    )
    more = len(items) > page_size
    items = items[:page_size]
    if not descending:
        items.reverse()
    messages = [Message.from_item(item) for item in items]

    def token_for(direction: str, message: Message) -> str:
        return paging.encode(paging.Cursor(direction, message.list_key), query.scope, secret)

    # Walking back (PB) always leaves older messages behind it; walking forward (PA) left
    # newer ones behind it unless this is the first page.
    has_next = more if descending else bool(messages)
    has_previous = page > 0 if descending else more
    next_token = token_for(paging.NEXT, messages[-1]) if has_next and messages else None
    previous_token = (
        token_for(paging.PREVIOUS, messages[0]) if has_previous and messages and page else None
    )
    return paging.page_json(
        "messages",
        [message.to_json() for message in messages],
        f"{ACCOUNT_PATH.format(account_sid=account_sid)}/Messages.json",
        query.filters,
        page_size,
        page,
        token,
        next_token,
        previous_token,
    )


def _is_decimal(text: str) -> bool:
    # str.isdigit() alone admits '²' and other digits int() refuses.
    return text.isascii() and text.isdigit()


def _integer(params: forms.Params, name: str, default: int, low: int, high: int) -> int:
    value = forms.single(params, name)
    if value is None or value == "":
        return default
    if not _is_decimal(value) or not low <= int(value) <= high:
        raise errors.bad_parameter(f"{name} must be an integer from {low} to {high}")
    return int(value)


def _list_query(account_sid: str, params: forms.Params) -> ListQuery:
    filters = [(name, value) for name in LIST_FILTERS if (value := forms.single(params, name))]
    given = dict(filters)
    to = _address_filter(given.get("To"))
    from_ = _address_filter(given.get("From"))
    if to and from_:
        index, hash_value = storage.INDEX_BY_TO_FROM, f"{account_sid}|{to}|{from_}"
    elif to:
        index, hash_value = storage.INDEX_BY_TO, f"{account_sid}|{to}"
    elif from_:
        index, hash_value = storage.INDEX_BY_FROM, f"{account_sid}|{from_}"
    else:
        index, hash_value = storage.INDEX_BY_ACCOUNT, account_sid

    first_ms, last_ms = _date_range(given)
    dated = first_ms is not None or last_ms is not None
    low = f"{first_ms:012x}" + "0" * 32 if first_ms is not None else paging.LOWEST_KEY
    high = f"{last_ms:012x}" + "f" * 32 if last_ms is not None else paging.HIGHEST_KEY
    return ListQuery(index, hash_value, low, high, dated, filters)


def _address_filter(text: str | None) -> str | None:
    """What a To/From filter matches. Herald stores only valid, normalised addresses, so a
    value that is not one matches nothing (NO_MATCH) and is never sent to DynamoDB."""
    if text is None:
        return None
    return addresses.normalize_address(text, allow_alphanumeric=True) or NO_MATCH


def _date_range(given: dict[str, str]) -> tuple[int | None, int | None]:
    first_ms = last_ms = None
    try:
        if "DateSent" in given:
            first_ms, last_ms = dates.day_of(given["DateSent"])
        if "DateSent>" in given:
            start, _ = dates.parse_bound(given["DateSent>"])
            first_ms = start if first_ms is None else max(first_ms, start)
        if "DateSent<" in given:
            _, end = dates.parse_bound(given["DateSent<"])
            last_ms = end if last_ms is None else min(last_ms, end)
    except (ValueError, OverflowError):
        raise errors.bad_parameter(
            "DateSent filters take YYYY-MM-DD or an ISO 8601 datetime"
        ) from None
    # Keys hold 12 hex digits of milliseconds: clamp to what they can express.
    limit = 16**12 - 1
    if first_ms is not None:
        first_ms = min(max(first_ms, 0), limit)
    if last_ms is not None:
        last_ms = min(max(last_ms, 0), limit)
    return first_ms, last_ms
