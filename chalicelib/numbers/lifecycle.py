"""Register, fetch, update and delete an IncomingPhoneNumber.

A number belongs to one account at most: registering one that any account holds (this one
included) is 21422, and the answer never says whose it is. Another account's Sid answers
20404 exactly as a missing one does, after the same DynamoDB calls.

The credentials in its URLs (SmsUrl, SmsFallbackUrl, StatusCallback) are sealed before they
are stored and masked in answers (chalicelib.storage.url_credentials). An update that gives
back a URL exactly as an answer showed it (`https://hook:****@…`) keeps the stored one: a
client that reads a number and writes it back does not replace the password with `****`.
"""

from chalicelib import storage
from chalicelib.numbers.model import IncomingPhoneNumber, is_number_sid, number_path, number_sid
from chalicelib.numbers.params import URL_PARAMS, apply, changes_of, new_number
from chalicelib.runtime import clock, retry
from chalicelib.storage import numbers as stored_numbers
from chalicelib.storage import url_credentials
from chalicelib.twilio import codes, errors, forms

SID_ATTEMPTS = 3
# An update that keeps meeting other updates of the same number gives up (503) after this
# many reads, each one a GetItem and a write that was refused, with a growing random pause
# between them so that racing updates fall out of step.
UPDATE_ATTEMPTS = 10


def not_found(account_sid: str, sid: str) -> errors.TwilioError:
    return errors.not_found(number_path(account_sid, sid))


def create(account_sid: str, params: forms.Params) -> IncomingPhoneNumber:
    """Register a number the account already owns: one transaction of two puts."""
    number = new_number(account_sid, params)
    for field, url in _sealed_urls(account_sid, vars(number)).items():
        setattr(number, field, url)
    for attempt in range(SID_ATTEMPTS):
        try:
            stored_numbers.put_new_number(number.to_fields())
            return number
        except stored_numbers.Taken:
            raise errors.TwilioError(
                codes.NUMBER_NOT_AVAILABLE,
                f"PhoneNumber {number.phone_number} is not available: it is registered"
                " already. A number belongs to one account at most.",
            ) from None
        except storage.Exists:
            # 80 random bits per millisecond: all but impossible; a new Sid will do.
            if attempt == SID_ATTEMPTS - 1:
                raise storage.Unavailable("Sid collision") from None
            number.sid = number_sid(number.created_ms)
    raise AssertionError("unreachable")


def fetch(account_sid: str, sid: str) -> IncomingPhoneNumber:
    fields = _read(account_sid, sid)
    if fields is None:
        raise not_found(account_sid, sid)
    return IncomingPhoneNumber.from_fields(fields)


def update(account_sid: str, sid: str, params: forms.Params) -> IncomingPhoneNumber:
    """Change the given fields; the owner item's copy of the webhook fields changes with
    them, in the same transaction. An update that asks for no change writes nothing."""
    given = changes_of(account_sid, params)
    changes = {**given, **_sealed_urls(account_sid, given)}
    for _ in retry.attempts(UPDATE_ATTEMPTS):
        current = fetch(account_sid, sid)
        changed = apply(current, {**changes, **_shown_back(current, given)})
        if changed == current:
            return current
        changed.updated_ms = clock.now_ms()
        new, old = changed.to_fields(), current.to_fields()
        difference = {
            name: new.get(name)
            for name in new.keys() | old.keys()
            if new.get(name) != old.get(name) and name != "revision"
        }
        try:
            stored_numbers.update_number(old, difference)
        except stored_numbers.Stale:
            continue  # changed or deleted meanwhile: read it again
        changed.revision = current.revision + 1
        return changed
    raise storage.Unavailable("update kept meeting other updates")


def _sealed_urls(account_sid: str, fields: dict) -> dict:
    """The URL fields set in `fields`, sealed (a KMS call only for one with credentials)."""
    return {
        field: url_credentials.sealed(account_sid, fields[field])
        for field in URL_PARAMS.values()
        if fields.get(field)
    }


def _shown_back(current: IncomingPhoneNumber, given: dict) -> dict:
    """The URL fields an update gave back exactly as an answer shows them: kept as stored."""
    kept = {}
    for field in URL_PARAMS.values():
        stored = getattr(current, field)
        if given.get(field) and stored and given[field] == url_credentials.masked(stored):
            kept[field] = stored
    return kept


def delete(account_sid: str, sid: str) -> None:
    """Unregister a number: its resource and owner items go in one transaction, and the
    number is free for any account to register."""
    fields = _read(account_sid, sid)
    if fields is None:
        raise not_found(account_sid, sid)
    try:
        stored_numbers.delete_number(fields)
    except storage.Missing:
        raise not_found(account_sid, sid) from None


def _read(account_sid: str, sid: str) -> dict | None:
    # A Sid Herald could not have issued is not looked up: it is missing.
    return stored_numbers.get_number(account_sid, sid) if is_number_sid(sid) else None
