"""A service's senders: PhoneNumbers (the account's IncomingPhoneNumbers, by PN Sid),
AlphaSenders (alphanumeric sender IDs) and ShortCodes (refused: Herald has none).

A number is in one service at most: adding one that is in another is 21712, in this one
21710; a PN Sid that is not one of the account's numbers is 21421 (Twilio's code for "add
a Phone Number to a Messaging Service with an invalid Phone Number SID"). A service holds
400 senders at most (21714). The link and the number's owner item are written together
(chalicelib.storage.service_senders), so adding, removing, deleting the number and deleting
the service keep both sides consistent whichever runs first.

Lists are in Sid order (the creation order of the numbers and alpha senders), paged in
messaging/v1's style with a PageToken naming the last Sid shown.
"""

from chalicelib.runtime import clock, config
from chalicelib.services import lifecycle, pool
from chalicelib.services.model import (
    ALPHA_SID,
    NUMBER_SID,
    alpha_sender_json,
    new_sid,
    phone_number_json,
    service_path,
    service_url,
)
from chalicelib.storage import numbers as stored_numbers
from chalicelib.storage import service_senders as links
from chalicelib.storage import services as stored
from chalicelib.twilio import addresses, codes, errors, forms, paging
from chalicelib.twilio.forms import integer

MAX_SENDERS = 400
PAGE_PARAMS = frozenset({"PageSize", "Page", "PageToken"})
KINDS = {
    "PhoneNumbers": (stored.NUMBER_SK_PREFIX, "phone_numbers", phone_number_json),
    "AlphaSenders": (stored.ALPHA_SK_PREFIX, "alpha_senders", alpha_sender_json),
}


def _sub_not_found(service_sid: str, kind: str, sid: str) -> errors.TwilioError:
    return errors.not_found(f"{service_path(service_sid)}/{kind}/{sid}")


def _service(account_sid: str, service_sid: str) -> dict:
    fields = lifecycle.read(account_sid, service_sid)
    if fields is None:
        raise lifecycle.not_found(service_sid)
    return fields


def _room(account_sid: str, service_sid: str) -> None:
    pool = stored.pool(account_sid, service_sid)
    if pool is None:
        raise lifecycle.not_found(service_sid)
    if len(pool["numbers"]) + len(pool["alphas"]) >= MAX_SENDERS:
        raise errors.TwilioError(
            codes.SERVICE_POOL_FULL,
            f"A Messaging Service holds at most {MAX_SENDERS} senders.",
        )


def add_phone_number(account_sid: str, service_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, frozenset({"PhoneNumberSid"}))
    number_sid = forms.single(params, "PhoneNumberSid")
    if not number_sid:
        raise errors.bad_parameter("Missing required parameter PhoneNumberSid in the post body")
    _room(account_sid, service_sid)
    number = (
        stored_numbers.get_number(account_sid, number_sid) if NUMBER_SID.match(number_sid) else None
    )
    if number is None:
        raise errors.TwilioError(
            codes.INVALID_PHONE_NUMBER,
            f"PhoneNumberSid {number_sid} is not a valid Phone Number SID.",
        )
    link = {
        "account_sid": account_sid,
        "service_sid": service_sid,
        "sid": number_sid,
        "phone_number": number["phone_number"],
        "country_code": addresses.region_of(number["phone_number"]),
        "created_ms": clock.now_ms(),
    }
    for _ in range(3):
        try:
            links.add_number(link)
            pool.forget(account_sid, service_sid)
            return link
        except links.ServiceGone:
            raise lifecycle.not_found(service_sid) from None
        except links.AlreadyLinked:
            raise errors.TwilioError(
                codes.SENDER_ALREADY_IN_SERVICE,
                f"Phone Number {number_sid} is already in this Messaging Service.",
                409,
            ) from None
        except links.NumberGone:
            raise errors.TwilioError(
                codes.INVALID_PHONE_NUMBER,
                f"PhoneNumberSid {number_sid} is not a valid Phone Number SID.",
            ) from None
        except links.InAnotherService as other:
            if other.service_sid and lifecycle.read(account_sid, other.service_sid) is None:
                # That service is being deleted (or died deleting): finish its share.
                stale = links.get_link(account_sid, other.service_sid, number_sid)
                if stale is not None:
                    links.remove_number(stale)
                continue
            raise errors.TwilioError(
                codes.NUMBER_IN_ANOTHER_SERVICE,
                f"Phone Number {number_sid} is associated with another Messaging Service.",
                409,
            ) from None
    raise errors.service_unavailable()


def fetch_sender(account_sid: str, service_sid: str, kind: str, sid: str) -> dict:
    _service(account_sid, service_sid)
    found = None
    if kind == "PhoneNumbers" and NUMBER_SID.match(sid):
        found = links.get_link(account_sid, service_sid, sid)
    elif kind == "AlphaSenders" and ALPHA_SID.match(sid):
        found = links.get_alpha(account_sid, service_sid, sid)
    if found is None:
        raise _sub_not_found(service_sid, kind, sid)
    return found  # (a ShortCode: never, Herald has none)


def remove_sender(account_sid: str, service_sid: str, kind: str, sid: str) -> None:
    found = fetch_sender(account_sid, service_sid, kind, sid)
    remove = links.remove_number if kind == "PhoneNumbers" else links.delete_alpha
    removed = remove(found)
    pool.forget(account_sid, service_sid)
    if not removed:
        raise _sub_not_found(service_sid, kind, sid)


def add_alpha_sender(account_sid: str, service_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, frozenset({"AlphaSender"}))
    text = forms.single(params, "AlphaSender")
    if not text:
        raise errors.bad_parameter("Missing required parameter AlphaSender in the post body")
    if not addresses.ALPHANUMERIC_SENDER.match(text):
        raise errors.bad_parameter(
            "AlphaSender is 1 to 11 letters, digits and spaces, with at least one letter"
        )
    _room(account_sid, service_sid)
    now = clock.now_ms()
    alpha = {
        "account_sid": account_sid,
        "service_sid": service_sid,
        "sid": new_sid("AI", now),
        "alpha_sender": text,
        "created_ms": now,
    }
    existing, _ = links.page(account_sid, service_sid, stored.ALPHA_SK_PREFIX, None, 1)
    if existing:
        # Twilio: one alphanumeric sender per service.
        raise errors.TwilioError(
            codes.SENDER_ALREADY_IN_SERVICE,
            "This Messaging Service has an AlphaSender already: remove it first.",
            409,
        )
    try:
        links.put_alpha(alpha)
        pool.forget(account_sid, service_sid)
    except links.ServiceGone:
        raise lifecycle.not_found(service_sid) from None
    return alpha


def render(kind: str, found: dict, base: str) -> dict:
    return KINDS[kind][2](found, base)


def list_senders(account_sid: str, service_sid: str, kind: str, params, base: str) -> dict:
    """A page of the service's senders of one kind, in Sid order (ShortCodes: always none)."""
    forms.reject_unknown(params, PAGE_PARAMS)
    page_size = integer(params, "PageSize", 50, 1, 1000)
    page = integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    _service(account_sid, service_sid)
    url = f"{service_url(base, service_sid)}/{kind}"
    if kind == "ShortCodes":
        return lifecycle.v1_page("short_codes", [], url, page_size, page, None, None, None)
    prefix, key, render_one = KINDS[kind]
    scope = f"{account_sid}|{service_sid}|{kind}"
    secret = config.load().page_token_secret
    after = None
    if token:
        cursor = paging.decode(token, scope, secret)
        after = prefix + ("PN" if kind == "PhoneNumbers" else "AI") + cursor.key[12:]
    items, more = links.page(account_sid, service_sid, prefix, after, page_size)
    next_token = None
    if more and items:
        next_token = paging.encode(
            paging.Cursor(paging.NEXT, "0" * 12 + items[-1]["sid"][2:]), scope, secret
        )
    records = [render_one(item, base) for item in items]
    return lifecycle.v1_page(key, records, url, page_size, page, token, next_token, None)


def refuse_short_code(account_sid: str, service_sid: str, params) -> errors.TwilioError:
    """ShortCodes: Herald has no short codes (End User Messaging leases them apart and they
    are not registered with Herald: docs/differences.md), so no ShortCodeSid names one:
    21421, Twilio's code for adding an invalid Short Code SID to a service."""
    forms.reject_unknown(params, frozenset({"ShortCodeSid"}))
    _service(account_sid, service_sid)
    sid = forms.single(params, "ShortCodeSid") or ""
    return errors.TwilioError(
        codes.INVALID_PHONE_NUMBER,
        f"ShortCodeSid {sid} is not a valid Short Code SID: Herald has no short codes.",
    )
