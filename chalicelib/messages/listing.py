"""The Messages list: filters, date ranges and keyset PageTokens over storage's list pages."""

from dataclasses import dataclass

from chalicelib.accounts import credentials
from chalicelib.messages.model import Message
from chalicelib.runtime import config
from chalicelib.storage import listing, schema
from chalicelib.twilio import addresses, dates, errors, forms, paging
from chalicelib.twilio.forms import integer
from chalicelib.twilio.paths import account_path

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
LIST_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
LIST_PARAMS = frozenset({*LIST_FILTERS, "PageSize", "Page", "PageToken"})


@dataclass
class ListQuery:
    to: str | None
    from_: str | None
    low: str
    high: str
    sent_only: bool
    filters: list[tuple[str, str]]
    matches_nothing: bool

    @property
    def scope(self) -> str:
        # What a PageToken is good for: this account's list with these filters. The shard
        # count is not part of it, so tokens stay valid when it is raised.
        return "|".join(["messages", self.to or "", self.from_ or "", self.low, self.high])


def list_page(account_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, LIST_PARAMS)
    query = _list_query(params)
    page_size = integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    secret = config.load().page_token_secret
    scope = f"{account_sid}|{query.scope}"

    low, high, descending = paging.window(token, scope, secret, query.low, query.high)
    rows = []
    if low <= high and not query.matches_nothing:
        found = credentials.account(account_sid)
        shards = found.list_shards_for_reading() if found else schema.DEFAULT_LIST_SHARDS
        index, partitions = schema.list_partitions(account_sid, query.to, query.from_, shards)
        entries = listing.page_entries(
            index, partitions, low, high, descending, page_size + 1, query.sent_only
        )
        more = len(entries) > page_size
        rows = listing.fetch_messages(account_sid, entries[:page_size])
    else:
        more = False
    if not descending:
        rows.reverse()
    messages = [Message.from_fields(fields) for _, fields in rows]

    next_token, previous_token = paging.neighbour_tokens(
        [lk for lk, _ in rows], more, descending, page, scope, secret
    )
    return paging.page_json(
        "messages",
        [message.to_json() for message in messages],
        f"{account_path(account_sid)}/Messages.json",
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
    to = _address_filter(given.get("To"))
    from_ = _address_filter(given.get("From"))
    first_ms, last_ms = _date_range(given)
    dated = first_ms is not None or last_ms is not None
    low = f"{first_ms:012x}" + "0" * 32 if first_ms is not None else paging.LOWEST_KEY
    high = f"{last_ms:012x}" + "f" * 32 if last_ms is not None else paging.HIGHEST_KEY
    return ListQuery(to, from_, low, high, dated, filters, NO_MATCH in (to, from_))


NO_MATCH = "\x00no-such-address"


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
