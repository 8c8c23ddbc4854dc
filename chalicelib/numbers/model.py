"""The IncomingPhoneNumber: what Herald stores of one, and Twilio's IncomingPhoneNumber JSON."""

import re
import secrets
from dataclasses import asdict, dataclass, fields

from chalicelib.storage.url_credentials import masked
from chalicelib.twilio import dates
from chalicelib.twilio.paths import API_VERSION, account_path

# `PN` + 12 hex digits of the creation millisecond + 20 random ones, as Message Sids are.
# \Z, not $: `$` also matches before a trailing newline.
NUMBER_SID = re.compile(r"^PN[0-9a-f]{32}\Z")
DEFAULT_METHOD = "POST"
# Herald's numbers take texts, not calls or faxes.
CAPABILITIES = {"voice": False, "sms": True, "mms": True, "fax": False}
# Herald registers numbers the account already holds elsewhere: Twilio's word for those.
ORIGIN = "hosted"
STATUS = "in-use"


def number_sid(created_ms: int) -> str:
    return f"PN{created_ms:012x}{secrets.token_hex(10)}"


def is_number_sid(sid: str) -> bool:
    return NUMBER_SID.match(sid) is not None


def numbers_path(account_sid: str) -> str:
    return f"{account_path(account_sid)}/IncomingPhoneNumbers.json"


def number_path(account_sid: str, sid: str) -> str:
    return f"{account_path(account_sid)}/IncomingPhoneNumbers/{sid}.json"


@dataclass
class IncomingPhoneNumber:
    """A registered number: the fields of Twilio's JSON that Herald keeps."""

    account_sid: str
    sid: str
    phone_number: str
    friendly_name: str
    number_type: str
    created_ms: int
    updated_ms: int
    api_version: str = API_VERSION
    sms_url: str | None = None
    sms_method: str = DEFAULT_METHOD
    sms_fallback_url: str | None = None
    sms_fallback_method: str = DEFAULT_METHOD
    status_callback: str | None = None
    status_callback_method: str = DEFAULT_METHOD
    # Goes up by one with each update: updates write only the revision they read.
    revision: int = 1

    def to_fields(self) -> dict:
        """The stored fields (storage adds keys and index attributes); None is absent."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_fields(cls, stored: dict) -> "IncomingPhoneNumber":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in names})

    def uri(self) -> str:
        return number_path(self.account_sid, self.sid)

    def to_json(self) -> dict:
        """Every property of Twilio's schema: the messaging ones as set (a URL's credentials
        masked: `user:****@`), the others (voice, regulatory, emergency) at the value of a
        number that has none of them."""
        return {
            "account_sid": self.account_sid,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": self.api_version,
            "beta": False,
            "capabilities": dict(CAPABILITIES),
            "date_created": dates.rfc2822(self.created_ms),
            "date_updated": dates.rfc2822(self.updated_ms),
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "friendly_name": self.friendly_name,
            "identity_sid": None,
            "origin": ORIGIN,
            "phone_number": self.phone_number,
            "sid": self.sid,
            "sms_application_sid": None,
            "sms_fallback_method": self.sms_fallback_method,
            "sms_fallback_url": masked(self.sms_fallback_url),
            "sms_method": self.sms_method,
            "sms_url": masked(self.sms_url),
            "status_callback": masked(self.status_callback),
            "status_callback_method": self.status_callback_method,
            "trunk_sid": None,
            "uri": self.uri(),
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": DEFAULT_METHOD,
            "voice_fallback_url": None,
            "voice_method": DEFAULT_METHOD,
            "voice_url": None,
            "bundle_sid": None,
            "voice_receive_mode": "voice",
            "status": STATUS,
            "type": self.number_type,
        }
