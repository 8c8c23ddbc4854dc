"""The IncomingPhoneNumbers list: newest first, keyset PageTokens, and Twilio's filters.

The list reads the account's partition of the numbers index (chalicelib.storage.numbers),
newest first, as the Messages list does; PageTokens are the same signed cursors
(chalicelib.twilio.paging), scoped to the account and the filters.

Filters are applied to the page's numbers once they are read, never by a Scan: an
unfiltered page reads what it returns (one Query and one BatchGetItem per 100), while a
filtered one reads the account's numbers FILTERED_CHUNK at a time until the page is full or
the list ends, so it costs at most the reading of every number the account has (an
account has few). Filters:

    PhoneNumber   digits, partial and with `*` for any one digit; with a leading `+` the
                  number starts with them, without one it contains them anywhere. Spaces,
                  dashes, dots and brackets are ignored; anything else matches nothing.
    FriendlyName  exactly this friendly name.
    Origin        `hosted` (every Herald number), anything else matches nothing.
    Beta          true or false: no Herald number is new to the platform, so either way
                  every number is listed.
"""

import re
from dataclasses import dataclass

from chalicelib.numbers.model import ORIGIN, IncomingPhoneNumber, numbers_path
from chalicelib.runtime import config
from chalicelib.storage import numbers as stored_numbers
from chalicelib.twilio import errors, forms, paging
from chalicelib.twilio.forms import integer

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# Twilio's own order in its page URIs.
LIST_FILTERS = ("FriendlyName", "Beta", "PhoneNumber", "Origin")
LIST_PARAMS = frozenset({*LIST_FILTERS, "PageSize", "Page", "PageToken"})
FILTERED_CHUNK = 100
_IGNORED_IN_NUMBERS = re.compile(r"[\s().\-]")
_PATTERN = re.compile(r"^\+?[0-9*]+\Z")


@dataclass
class ListQuery:
    phone_number: re.Pattern | None
    friendly_name: str | None
    filters: list[tuple[str, str]]
    matches_nothing: bool

    @property
    def filtered(self) -> bool:
        return self.phone_number is not None or self.friendly_name is not None

    def matches(self, fields: dict) -> bool:
        if self.friendly_name is not None and fields.get("friendly_name") != self.friendly_name:
            return False
        return self.phone_number is None or bool(self.phone_number.search(fields["phone_number"]))

    @property
    def scope(self) -> str:
        # What a PageToken is good for: this account's list with these very filters.
        return "numbers|" + "&".join(f"{name}={value}" for name, value in self.filters)


def list_page(account_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, LIST_PARAMS)
    query = _list_query(params)
    page_size = integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    secret = config.load().page_token_secret
    scope = f"{account_sid}|{query.scope}"

    low, high, descending = paging.window(token, scope, secret)
    window = (low, high)
    rows: list[tuple[str, dict]] = []
    chunk = max(page_size + 1, FILTERED_CHUNK) if query.filtered else page_size + 1
    while not query.matches_nothing and low <= high:
        read, last = stored_numbers.list_page(account_sid, low, high, descending, chunk)
        rows += [(lk, fields) for lk, fields in read if query.matches(fields)]
        if len(rows) > page_size or last is None:
            break
        if descending:
            high = paging.key_before(last)
        else:
            low = paging.key_after(last)
    more = len(rows) > page_size
    rows = rows[:page_size]
    if not descending:
        rows.reverse()

    keys = [lk for lk, _ in rows]
    resume = (keys[-1] if descending else keys[0]) if more else None
    next_token, previous_token = paging.neighbour_tokens(
        keys, resume, descending, page, window, scope, secret
    )
    return paging.page_json(
        "incoming_phone_numbers",
        [IncomingPhoneNumber.from_fields(fields).to_json() for _, fields in rows],
        numbers_path(account_sid),
        query.filters,
        page_size,
        page,
        token,
        next_token,
        previous_token,
    )


def _list_query(params: forms.Params) -> ListQuery:
    filters = [(name, value) for name in LIST_FILTERS if (value := forms.single(params, name))]
    given = dict(filters)
    beta = given.get("Beta")
    if beta is not None and beta.lower() not in ("true", "false"):
        raise errors.bad_parameter("Beta must be true or false")
    origin = given.get("Origin")
    pattern, nothing = _phone_pattern(given.get("PhoneNumber"))
    return ListQuery(
        phone_number=pattern,
        friendly_name=given.get("FriendlyName"),
        filters=filters,
        matches_nothing=nothing or (origin is not None and origin != ORIGIN),
    )


def _phone_pattern(text: str | None) -> tuple[re.Pattern | None, bool]:
    """(what a PhoneNumber filter matches, whether it can match nothing at all)."""
    if text is None:
        return None, False
    compact = _IGNORED_IN_NUMBERS.sub("", text)
    if not _PATTERN.match(compact):
        return None, True
    anchored = compact.startswith("+")
    body = "".join("[0-9]" if c == "*" else c for c in compact.lstrip("+"))
    return re.compile(("^\\+" if anchored else "") + body), False
