"""The Message: what Herald stores of one, and Twilio's Message JSON."""

from dataclasses import asdict, dataclass, field, fields
from urllib.parse import urlsplit

from chalicelib.messages.status import Direction, Status
from chalicelib.twilio import dates, sids
from chalicelib.twilio.paths import API_VERSION, account_path


def message_path(account_sid: str, sid: str) -> str:
    return f"{account_path(account_sid)}/Messages/{sid}.json"


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
    # Aligned with media_urls: each media's Sid and content type (chalicelib.messages.media).
    media_sids: list[str] = field(default_factory=list)
    media_types: list[str] = field(default_factory=list)
    direction: str = Direction.OUTBOUND_API.value
    price: str | None = None
    price_unit: str = "USD"
    error_code: int | None = None
    error_message: str | None = None
    send_at_ms: int | None = None
    # Every other create parameter, kept for delivery (StatusCallback, ValidityPeriod, …).
    options: dict = field(default_factory=dict)
    # Each status it has had: {"status", "at_ms", and "error_code" where one was set}.
    history: list[dict] = field(default_factory=list)
    # Delivery's own bookkeeping: the worker's claim and the carrier's id for the message.
    # Message Feedback ({"outcome", "created_ms", "updated_ms"}), once given.
    feedback: dict | None = None
    claim: str | None = None
    lease_until_ms: int | None = None
    attempts: int = 0
    carrier_id: str | None = None

    def to_fields(self) -> dict:
        """The stored fields (storage adds keys and index attributes); None is absent."""
        stored = asdict(self)
        stored["from"] = stored.pop("from_")
        stored["media_urls"] = self.media_urls or None
        stored["media_sids"] = self.media_sids or None
        stored["media_types"] = self.media_types or None
        stored["options"] = self.options or None
        stored["history"] = self.history or None
        stored["attempts"] = self.attempts or None
        return {k: v for k, v in stored.items() if v is not None}

    @classmethod
    def from_fields(cls, stored: dict) -> "Message":
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in stored.items() if k in names}
        values["from_"] = stored.get("from")
        values.setdefault("body", "")
        values["media_urls"] = stored.get("media_urls") or []
        values["media_sids"] = stored.get("media_sids") or []
        values["media_types"] = stored.get("media_types") or []
        values["options"] = stored.get("options") or {}
        values["history"] = stored.get("history") or []
        values["attempts"] = stored.get("attempts") or 0
        return cls(**values)

    @property
    def is_final(self) -> bool:
        from chalicelib.messages.status import FINAL

        return Status(self.status) in FINAL

    def uri(self) -> str:
        return message_path(self.account_sid, self.sid)

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


# --- a message's media: Sids and content types, aligned with its media URLs ---


def guess_type(url: str) -> str:
    import mimetypes  # reads the system's type tables: only messages with media pay

    return mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"


def describe(message_sid: str, urls: list[str]) -> tuple[list[str], list[str]]:
    """(Sids, content types) for a new message's media URLs."""
    return [sids.media_sid(message_sid, n) for n in range(len(urls))], [
        guess_type(url) for url in urls
    ]


def entries(message: Message) -> list[tuple[str, str, str]]:
    """(Sid, URL, content type) of each of the message's media, in order."""
    media_sids = message.media_sids or [
        sids.media_sid(message.sid, n) for n in range(len(message.media_urls))
    ]
    types = message.media_types or [guess_type(url) for url in message.media_urls]
    return list(zip(media_sids, message.media_urls, types, strict=False))
