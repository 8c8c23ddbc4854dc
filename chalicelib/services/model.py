"""A Messaging Service and its senders as Herald stores them, and Twilio's messaging/v1 JSON.

Twilio serves the resource on its own host (messaging.twilio.com/v1/Services); Herald serves
it on its one host under the /messaging prefix (docs/messaging-services.md). Its JSON holds
absolute URLs (`url`, `links`, the page's `meta`), so each answer is built for the base URL
the request came to: `base` is that URL up to and with the prefix, as the SDKs' messaging
base_url is set (`http://127.0.0.1:8000/messaging`).
"""

import re
import secrets
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

from chalicelib.storage.url_credentials import masked

VERSION = "v1"
SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}\Z")
NUMBER_SID = re.compile(r"^PN[0-9a-f]{32}\Z")
ALPHA_SID = re.compile(r"^AI[0-9a-f]{32}\Z")
DEFAULT_METHOD = "POST"
# Twilio's 90007: 1 to 36,000 seconds, 36,000 by default.
VALIDITY_MIN, VALIDITY_MAX = 1, 36000
LINKS = (
    ("phone_numbers", "PhoneNumbers"),
    ("short_codes", "ShortCodes"),
    ("alpha_senders", "AlphaSenders"),
    ("messages", "Messages"),
    ("us_app_to_person", "Compliance/Usa2p"),
    ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"),
    ("channel_senders", "ChannelSenders"),
    ("destination_alpha_senders", "DestinationAlphaSenders"),
)


def new_sid(prefix: str, created_ms: int) -> str:
    """`prefix` + 12 hex digits of the creation millisecond + 20 random ones: Sids sort by
    creation, as Message and PhoneNumber Sids do."""
    return f"{prefix}{created_ms:012x}{secrets.token_hex(10)}"


def iso(ms: int) -> str:
    """messaging/v1's dates: ISO 8601 in UTC, to the second (`2015-07-30T20:12:31Z`)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def services_url(base: str) -> str:
    return f"{base}/{VERSION}/Services"


def service_url(base: str, sid: str) -> str:
    return f"{services_url(base)}/{sid}"


def service_path(sid: str) -> str:
    """What a 404 names: the path under the messaging prefix."""
    return f"/{VERSION}/Services/{sid}"


@dataclass
class Service:
    account_sid: str
    sid: str
    friendly_name: str
    created_ms: int
    updated_ms: int
    inbound_request_url: str | None = None
    inbound_method: str = DEFAULT_METHOD
    fallback_url: str | None = None
    fallback_method: str = DEFAULT_METHOD
    status_callback: str | None = None
    sticky_sender: bool = True
    mms_converter: bool = True
    smart_encoding: bool = True
    scan_message_content: str = "inherit"
    fallback_to_long_code: bool = True
    area_code_geomatch: bool = True
    synchronous_validation: bool = True
    validity_period: int = VALIDITY_MAX
    usecase: str = "undeclared"
    use_inbound_webhook_on_number: bool = False
    revision: int = 1

    def to_fields(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_fields(cls, stored: dict) -> "Service":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in names})

    def to_json(self, base: str) -> dict:
        url = service_url(base, self.sid)
        return {
            "account_sid": self.account_sid,
            "area_code_geomatch": self.area_code_geomatch,
            "date_created": iso(self.created_ms),
            "date_updated": iso(self.updated_ms),
            "fallback_method": self.fallback_method,
            "fallback_to_long_code": self.fallback_to_long_code,
            "fallback_url": masked(self.fallback_url),
            "friendly_name": self.friendly_name,
            "inbound_method": self.inbound_method,
            "inbound_request_url": masked(self.inbound_request_url),
            "links": {name: f"{url}/{path}" for name, path in LINKS},
            "mms_converter": self.mms_converter,
            "scan_message_content": self.scan_message_content,
            "sid": self.sid,
            "smart_encoding": self.smart_encoding,
            "status_callback": masked(self.status_callback),
            "sticky_sender": self.sticky_sender,
            "synchronous_validation": self.synchronous_validation,
            "url": url,
            "us_app_to_person_registered": False,
            "use_inbound_webhook_on_number": self.use_inbound_webhook_on_number,
            "usecase": self.usecase,
            "validity_period": self.validity_period,
        }


def phone_number_json(link: dict, base: str) -> dict:
    """A PhoneNumber of a service: the number's own PN Sid, its E.164 and country."""
    return {
        "account_sid": link["account_sid"],
        "capabilities": ["SMS", "MMS"],
        "country_code": link.get("country_code"),
        "date_created": iso(link["created_ms"]),
        "date_updated": iso(link["created_ms"]),
        "phone_number": link["phone_number"],
        "service_sid": link["service_sid"],
        "sid": link["sid"],
        "url": f"{service_url(base, link['service_sid'])}/PhoneNumbers/{link['sid']}",
    }


def alpha_sender_json(alpha: dict, base: str) -> dict:
    return {
        "account_sid": alpha["account_sid"],
        "alpha_sender": alpha["alpha_sender"],
        "capabilities": ["SMS"],
        "date_created": iso(alpha["created_ms"]),
        "date_updated": iso(alpha["created_ms"]),
        "service_sid": alpha["service_sid"],
        "sid": alpha["sid"],
        "url": f"{service_url(base, alpha['service_sid'])}/AlphaSenders/{alpha['sid']}",
    }
