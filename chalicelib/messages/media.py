"""A message's Media and its Feedback: subresources kept on the message item itself.

A message has at most 10 media, so their Sids and content types live in lists aligned with
its media URLs: listing or fetching them is the message's one GetItem, and deleting the
message deletes its media with it. A media's Sid is derived from the message's Sid and its
place when the message was made (sids.media_sid), and stored, so deleting one does not
change the others'. Content types are what the URL's name says until the media is fetched
for sending (the End User Messaging carrier records what the server said).

Feedback (Outcome confirmed|unconfirmed) is stored on the message too, for messages made with
ProvideFeedback=true; the table's stream passes it on to the carrier where it takes it.
"""

from chalicelib import storage
from chalicelib.messages.lifecycle import fetch, not_found
from chalicelib.messages.model import Message, entries
from chalicelib.runtime import clock, config
from chalicelib.storage import messages as stored_messages
from chalicelib.twilio import dates, errors, forms, paging
from chalicelib.twilio.forms import integer
from chalicelib.twilio.paths import account_path

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
LIST_FILTERS = ("DateCreated", "DateCreated<", "DateCreated>")
LIST_PARAMS = frozenset({*LIST_FILTERS, "PageSize", "Page", "PageToken"})
FEEDBACK_OUTCOMES = ("confirmed", "unconfirmed")


def media_path(message: Message, media_sid: str | None = None) -> str:
    base = f"{account_path(message.account_sid)}/Messages/{message.sid}/Media"
    return f"{base}/{media_sid}.json" if media_sid else f"{base}.json"


def to_json(message: Message, media_sid: str, content_type: str) -> dict:
    return {
        "account_sid": message.account_sid,
        "content_type": content_type,
        "date_created": dates.rfc2822(message.created_ms),
        # A media item never changes once stored: the message's own updates (its status
        # moving on) are not the media's, so a fetch and a list agree whenever they ran.
        "date_updated": dates.rfc2822(message.created_ms),
        "parent_sid": message.sid,
        "sid": media_sid,
        "uri": media_path(message, media_sid),
    }


def _media_not_found(account_sid: str, message_sid: str, media_sid: str) -> errors.TwilioError:
    path = f"{account_path(account_sid)}/Messages/{message_sid}/Media/{media_sid}.json"
    return errors.not_found(path)


def fetch_media(account_sid: str, message_sid: str, media_sid: str) -> dict:
    message = fetch(account_sid, message_sid)
    for sid, _url, content_type in entries(message):
        if sid == media_sid:
            return to_json(message, sid, content_type)
    raise _media_not_found(account_sid, message_sid, media_sid)


def delete_media(account_sid: str, message_sid: str, media_sid: str) -> None:
    message = fetch(account_sid, message_sid)
    place = next((n for n, e in enumerate(entries(message)) if e[0] == media_sid), None)
    if place is None:
        raise _media_not_found(account_sid, message_sid, media_sid)
    try:
        stored_messages.remove_media(account_sid, message_sid, place, media_sid)
    except (storage.Missing, storage.WrongState):
        # Deleted meanwhile (the message, or this media by another request).
        raise _media_not_found(account_sid, message_sid, media_sid) from None


def list_media(account_sid: str, message_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, LIST_PARAMS)
    page_size = integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    filters = [(name, value) for name in LIST_FILTERS if (value := forms.single(params, name))]
    first_ms, last_ms = _date_range(dict(filters))
    message = fetch(account_sid, message_sid)
    scope = f"{account_sid}|media|{message_sid}|{first_ms}|{last_ms}"
    secret = config.load().page_token_secret
    # Keyset order: by Sid. A cursor is the last Sid of the page, padded to a list key.
    after = ""
    if token:
        cursor = paging.decode(token, scope, secret)
        if cursor.direction != paging.NEXT:
            raise paging.invalid_token()
        after = "ME" + cursor.key[-32:]
    in_range = first_ms <= message.created_ms <= last_ms
    chosen = sorted(e for e in entries(message) if in_range and e[0] > after)
    shown, more = chosen[:page_size], len(chosen) > page_size
    next_token = (
        paging.encode(paging.Cursor(paging.NEXT, "0" * 12 + shown[-1][0][2:]), scope, secret)
        if more
        else None
    )
    return paging.page_json(
        "media_list",
        [to_json(message, sid, content_type) for sid, _url, content_type in shown],
        media_path(message),
        filters,
        page_size,
        page,
        token,
        next_token,
        None,
    )


def _date_range(given: dict[str, str]) -> tuple[int, int]:
    first_ms, last_ms = 0, 16**12 - 1
    try:
        if "DateCreated" in given:
            first_ms, last_ms = dates.day_of(given["DateCreated"])
        if "DateCreated>" in given:
            first_ms = max(first_ms, dates.parse_bound(given["DateCreated>"])[0])
        if "DateCreated<" in given:
            last_ms = min(last_ms, dates.parse_bound(given["DateCreated<"])[1])
    except (ValueError, OverflowError):
        raise errors.bad_parameter(
            "DateCreated filters take YYYY-MM-DD or an ISO 8601 datetime"
        ) from None
    return first_ms, last_ms


# --- feedback -------------------------------------------------------------------------------


def give_feedback(account_sid: str, message_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, frozenset({"Outcome"}))
    outcome = forms.single(params, "Outcome") or "confirmed"
    if outcome not in FEEDBACK_OUTCOMES:
        raise errors.bad_parameter("Outcome must be confirmed or unconfirmed")
    message = fetch(account_sid, message_sid)
    if message.options.get("ProvideFeedback") != "true":
        raise errors.bad_parameter("Feedback is for messages created with ProvideFeedback=true")
    now = clock.now_ms()
    created = (message.feedback or {}).get("created_ms", now)
    feedback = {"outcome": outcome, "created_ms": created, "updated_ms": now}
    try:
        stored = stored_messages.update_message(account_sid, message_sid, {"feedback": feedback})
    except storage.Missing:
        raise not_found(account_sid, message_sid) from None
    return feedback_json(Message.from_fields(stored))


def feedback_json(message: Message) -> dict:
    feedback = message.feedback or {}
    return {
        "account_sid": message.account_sid,
        "message_sid": message.sid,
        "outcome": feedback.get("outcome"),
        "date_created": dates.rfc2822(feedback.get("created_ms")),
        "date_updated": dates.rfc2822(feedback.get("updated_ms")),
        "uri": f"{account_path(message.account_sid)}/Messages/{message.sid}/Feedback.json",
    }
