"""The Messages list: filters, date ranges and keyset PageTokens over storage's list pages.

A list is newest first by each message's order time (its SendAt when it was scheduled, else
when it was made), which never changes: a client paging through it sees every message that
existed when it asked for its first page exactly once, whatever delivery does meanwhile.
DateSent filters read the main index around the range and the late index below it
(storage.schema explains the bound) and check each message's date_sent.
"""

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
    first_ms: int | None  # DateSent's range, inclusive
    last_ms: int | None
    filters: list[tuple[str, str]]
    matches_nothing: bool

    @property
    def dated(self) -> bool:
        return self.first_ms is not None or self.last_ms is not None

    @property
    def scope(self) -> str:
        # What a PageToken is good for: this account's list with these filters, on list
        # keys that never move ("v2": a token from before, whose keys moved, is refused).
        # The shard count is not part of it, so tokens stay valid when it is raised.
        bounds = ["" if ms is None else str(ms) for ms in (self.first_ms, self.last_ms)]
        return "|".join(["messages.v2", self.to or "", self.from_ or "", *bounds])

    def keep(self, fields: dict) -> bool:
        """Whether a message read from the list's index partitions belongs in the list."""
        if self.to and fields.get("to") != self.to:
            return False
        if self.from_ and fields.get("from") != self.from_:
            return False
        if not self.dated:
            return True
        sent = fields.get("sent_ms")
        first = 0 if self.first_ms is None else self.first_ms
        last = LAST_MS if self.last_ms is None else self.last_ms
        return sent is not None and first <= sent <= last

    def segments(self, account_sid: str, shards: int, low: str, high: str) -> list:
        """What the list reads, newest first, within the page's window [low, high]."""
        index, partitions = schema.list_partitions(account_sid, self.to, self.from_, shards)
        if not self.dated:
            return [listing.Segment(index, partitions, low, high)]
        first = 0 if self.first_ms is None else self.first_ms
        last = LAST_MS if self.last_ms is None else self.last_ms
        # A message sent in [first, last] is ordered within LATE_AFTER_MS of it, or is late.
        near_low = max(first - schema.LATE_AFTER_MS, 0)
        near_high = min(last + schema.LATE_AFTER_MS, LAST_MS)
        segments = [
            listing.Segment(
                index,
                partitions,
                max(low, _key(near_low)),
                min(high, _key(near_high, last=True)),
                sent_range=(first, last),
            )
        ]
        if near_low > 0:
            segments.append(
                listing.Segment(
                    schema.INDEX_LATE,
                    schema.late_partitions(account_sid, shards),
                    max(low, _key(max(first - schema.SENT_WITHIN_MS, 0))),
                    min(high, paging.key_before(_key(near_low))),
                    sent_range=(first, last),
                    sent_required=True,
                )
            )
        return segments


LAST_MS = 16**12 - 1  # list keys hold 12 hex digits of milliseconds


def _key(ms: int, last: bool = False) -> str:
    return f"{ms:012x}" + ("f" if last else "0") * 32


def list_page(account_sid: str, params: forms.Params) -> dict:
    forms.reject_unknown(params, LIST_PARAMS)
    query = _list_query(params)
    page_size = integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = integer(params, "Page", 0, 0, 10**9)
    token = forms.single(params, "PageToken") or None
    secret = config.load().page_token_secret
    scope = f"{account_sid}|{query.scope}"

    low, high, descending = paging.window(token, scope, secret)
    found = None
    if low <= high and not query.matches_nothing:
        account = credentials.account(account_sid)
        shards = account.list_shards_for_reading() if account else schema.DEFAULT_LIST_SHARDS
        segments = query.segments(account_sid, shards, low, high)
        found = listing.page(account_sid, segments, descending, page_size, query.keep)
    rows = found.rows if found else []
    if not descending:
        rows = rows[::-1]
    messages = [Message.from_fields(fields) for _, fields in rows]

    next_token, previous_token = paging.neighbour_tokens(
        [lk for lk, _ in rows],
        found.resume if found and found.more else None,
        descending,
        page,
        (low, high),
        scope,
        secret,
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
    empty = first_ms is not None and last_ms is not None and first_ms > last_ms
    return ListQuery(to, from_, first_ms, last_ms, filters, NO_MATCH in (to, from_) or empty)


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
    if first_ms is not None:
        first_ms = min(max(first_ms, 0), LAST_MS)
    if last_ms is not None:
        last_ms = min(max(last_ms, 0), LAST_MS)
    return first_ms, last_ms
