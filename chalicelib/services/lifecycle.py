"""Create, fetch, update, delete and list Messaging Services.

Another account's Sid answers 20404 exactly as a missing one does, after the same calls (the
AccountSid is in the key). The credentials in a service's URLs are sealed before they are
stored and masked in answers, as a number's are; an update that gives a URL back as an
answer showed it (`https://hook:****@…`) keeps the stored one.
"""

from chalicelib import storage
from chalicelib.runtime import clock, config, retry
from chalicelib.services import pool
from chalicelib.services.model import SERVICE_SID, Service, new_sid, service_path, services_url
from chalicelib.services.params import URL_PARAMS, changes_of, new_service
from chalicelib.storage import service_senders, url_credentials
from chalicelib.storage import services as stored
from chalicelib.twilio import errors, forms, paging
from chalicelib.twilio.forms import integer

SID_ATTEMPTS = 3
UPDATE_ATTEMPTS = 10
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
LIST_PARAMS = frozenset({"PageSize", "Page", "PageToken"})


def not_found(sid: str) -> errors.TwilioError:
    return errors.not_found(service_path(sid))


def read(account_sid: str, sid: str) -> dict | None:
    """The service's stored fields; None when missing, another account's or being deleted.
    A Sid Herald could not have issued is not looked up."""
    if not SERVICE_SID.match(sid):
        return None
    fields = stored.get_service(account_sid, sid)
    return None if fields is None or fields.get("deleting") else fields


def create(account_sid: str, params: forms.Params) -> Service:
    service = new_service(account_sid, params)
    _seal(account_sid, service)
    for attempt in range(SID_ATTEMPTS):
        try:
            stored.put_new_service(service.to_fields())
            return service
        except storage.Exists:
            if attempt == SID_ATTEMPTS - 1:
                raise storage.Unavailable("Sid collision") from None
            service.sid = new_sid("MG", service.created_ms)
    raise AssertionError("unreachable")


def fetch(account_sid: str, sid: str) -> Service:
    fields = read(account_sid, sid)
    if fields is None:
        raise not_found(sid)
    return Service.from_fields(fields)


def update(account_sid: str, sid: str, params: forms.Params) -> Service:
    given = changes_of(params)
    for _ in retry.attempts(UPDATE_ATTEMPTS):
        current = fetch(account_sid, sid)
        changes = {}
        for field, value in given.items():
            stored_value = getattr(current, field)
            is_url = field in URL_PARAMS.values() and value
            if is_url and stored_value and value == url_credentials.masked(stored_value):
                continue  # given back as shown: the stored one stays
            if is_url:
                value = url_credentials.sealed(account_sid, value)
            if value != stored_value:
                changes[field] = value
        if not changes:
            return current
        changes["updated_ms"] = clock.now_ms()
        try:
            stored.update_service(current.to_fields(), changes)
        except stored.Stale:
            continue
        pool.forget(account_sid, sid)
        for field, value in changes.items():
            setattr(current, field, value)
        current.revision += 1
        return current
    raise storage.Unavailable("update kept meeting other updates")


def delete(account_sid: str, sid: str) -> None:
    """Delete a service: marked first (it answers as missing from then on and takes no new
    sender), its senders unlinked (each number is free for another service), then gone. A
    delete that died halfway is finished by the next one."""
    if not SERVICE_SID.match(sid) or not stored.mark_deleting(account_sid, sid):
        raise not_found(sid)
    pool.forget(account_sid, sid)
    service_senders.unlink_all(account_sid, sid)
    stored.delete_service_item(account_sid, sid)


def list_page(account_sid: str, params: forms.Params, base: str) -> dict:
    """A page of the account's services, newest first, in messaging/v1's paging."""
    forms.reject_unknown(params, LIST_PARAMS)
    page_size = integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    secret = config.load().page_token_secret
    scope = f"{account_sid}|services"
    low, high, descending = paging.window(
        token, scope, secret, paging.LOWEST_KEY, paging.HIGHEST_KEY
    )
    # Services being deleted are left out by the read; `resume`: more to come past it.
    rows, resume = stored.list_page(account_sid, low, high, descending, page_size)
    if not descending:
        rows.reverse()
    next_token, previous_token = paging.neighbour_tokens(
        [lk for lk, _ in rows], resume, descending, page, (low, high), scope, secret
    )
    records = [Service.from_fields(fields).to_json(base) for _, fields in rows]
    return v1_page(
        "services", records, services_url(base), page_size, page, token, next_token,
        previous_token,
    )  # fmt: skip


def v1_page(key, records, url, page_size, page, token, next_token, previous_token) -> dict:
    """messaging/v1's page: the records under `key` and a `meta` of absolute URLs."""

    def page_url(number: int, page_token: str | None) -> str:
        query = f"PageSize={page_size}&Page={number}"
        return f"{url}?{query}&PageToken={page_token}" if page_token else f"{url}?{query}"

    return {
        key: records,
        "meta": {
            "page": page,
            "page_size": page_size,
            "first_page_url": page_url(0, None),
            "previous_page_url": page_url(max(page - 1, 0), previous_token)
            if previous_token
            else None,
            "url": page_url(page, token),
            "next_page_url": page_url(page + 1, next_token) if next_token else None,
            "key": key,
        },
    }


def _seal(account_sid: str, service: Service) -> None:
    for field in URL_PARAMS.values():
        if getattr(service, field):
            setattr(service, field, url_credentials.sealed(account_sid, getattr(service, field)))
