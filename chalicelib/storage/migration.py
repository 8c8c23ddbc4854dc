"""Bring a table written by an earlier Herald to today's layout (`admin migrate`).

Two things changed (docs/deploy.md, "Upgrading"):

- List keys no longer move. A message stored before kept `lk` at its date_sent once sent
  (its creation while unsent) and its date_sent in `sent_ms`, an attribute every list index
  projects. Now `lk` is its order time (SendAt when it was scheduled, else its creation), set
  once, and the date_sent is kept in schema.SENT; only a late message also carries `sent_ms`
  and a late index entry. Lists read both forms exactly; this pass rewrites each old message
  into the new one, so that all sort by order time, and a scheduled message made before the
  upgrade is found by DateSent filters once it is sent.
- Idempotency-Keys make the message's Sid. A key used before had a record item
  (`idem#…`, 24 h); its retries are found now through a stand-in at the key's Sid (an
  alias naming the message), which this pass writes for every record still live.

The pass reads the whole table with a Scan (the admin's only one; nothing on a request path
scans), in parallel segments if asked, and writes each item at most once, conditionally (an
item that changed since it was read is left as it now is: new code wrote it). It can be run
again at any time, and stopped and resumed from the key it printed last.
"""

import json
from dataclasses import dataclass, field

from chalicelib.storage import accounts, client, marshal, schema

PAGE = 500


@dataclass
class Report:
    scanned: int = 0
    messages_rewritten: int = 0
    messages_current: int = 0
    aliases_written: int = 0
    records_expired: int = 0
    changed_meanwhile: int = 0
    resume: str | None = None  # the key to start from next time (None: the scan finished)
    _shards: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


def run(
    now_ms: int,
    segment: int = 0,
    segments: int = 1,
    resume: str | None = None,
    max_items: int | None = None,
) -> Report:
    """One pass over segment `segment` of `segments` (from `resume`, a key this printed),
    stopping after about `max_items` items."""
    report = Report()
    request = {
        "FilterExpression": "sk = :message OR sk = :idem",
        "ExpressionAttributeValues": {
            ":message": {"S": schema.MESSAGE_SK},
            ":idem": {"S": schema.IDEMPOTENCY_SK},
        },
        "Limit": PAGE if max_items is None else max(1, min(PAGE, max_items)),
    }
    if segments > 1:
        request.update(Segment=segment, TotalSegments=segments)
    start = json.loads(resume) if resume else None
    while True:
        if start:
            request["ExclusiveStartKey"] = start
        response = client.call("scan", **request)
        for raw in response.get("Items", []):
            report.scanned += 1
            item = marshal.from_attrs(raw)
            if item["sk"] == schema.MESSAGE_SK:
                _message(item, report)
            else:
                _record(item, now_ms, report)
        start = response.get("LastEvaluatedKey")
        report.resume = json.dumps(start, sort_keys=True) if start else None
        if not start or (max_items is not None and report.scanned >= max_items):
            return report


def _message(item: dict, report: Report) -> None:
    needed = ("account_sid", "sid", "created_ms", schema.LIST_SORT_KEY)
    if schema.is_stand_in(item) or any(name not in item for name in needed):
        return
    account_sid, sid = item["account_sid"], item["sid"]
    order = schema.order_ms(item)
    changes: dict = {}
    wanted = schema.list_key(order, sid)
    if item.get(schema.LIST_SORT_KEY) != wanted:
        changes[schema.LIST_SORT_KEY] = wanted
    sent = item.get(schema.SENT, item.get(schema.LATE_SENT))
    remove = []
    if sent is not None and schema.SENT not in item:
        placed = schema.sent_attributes(account_sid, order, sent, 0)
        if schema.LATE_KEY in placed:
            shards = _writing_shards(account_sid, report)
            placed = schema.sent_attributes(account_sid, order, sent, schema.shard_of(sid, shards))
        else:
            remove.append(schema.LATE_SENT)
        changes.update(placed)
    old_entry = str(item.get(schema.LATE_KEY, "late|"))
    if schema.LATE_KEY not in changes and not old_entry.startswith("late|"):
        remove.append(schema.LATE_KEY)  # its entry in the old To+From index
    if not changes and not remove:
        report.messages_current += 1
        return
    _rewrite(item, changes, remove, report)


def _rewrite(item: dict, changes: dict, remove: list, report: Report) -> None:
    from botocore.exceptions import ClientError

    names = {f"#c{i}": name for i, name in enumerate(changes)}
    values = {f":c{i}": marshal.attr(value) for i, value in enumerate(changes.values())}
    expression = "SET " + ", ".join(f"#c{i} = :c{i}" for i in range(len(changes)))
    if not changes:
        expression = ""
    if remove:
        names.update({f"#r{i}": name for i, name in enumerate(remove)})
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    # Unchanged since it was read: the same list key and date_sent.
    names["#lk"], values[":lk"] = schema.LIST_SORT_KEY, marshal.attr(item[schema.LIST_SORT_KEY])
    condition = "#lk = :lk AND attribute_not_exists(#new_sent)"
    names["#new_sent"] = schema.SENT
    if schema.SENT in item:
        condition = "#lk = :lk AND #new_sent = :sent"
        values[":sent"] = marshal.attr(item[schema.SENT])
    try:
        client.call(
            "update_item",
            Key=schema.message_key(item["account_sid"], item["sid"]),
            UpdateExpression=expression.strip(),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if not client.is_condition_failure(error):
            raise
        report.changed_meanwhile += 1
        return
    report.messages_rewritten += 1


def _writing_shards(account_sid: str, report: Report) -> int:
    if account_sid not in report._shards:
        account = accounts.get_account(account_sid) or {}
        report._shards[account_sid] = account.get("list_shards", schema.DEFAULT_LIST_SHARDS)
    return report._shards[account_sid]


def _record(item: dict, now_ms: int, report: Report) -> None:
    """A live idempotency record of the old layout: an alias at its key's Sid."""

    expires = item.get(schema.TTL_ATTRIBUTE, 0)
    first = item.get("message") or {}
    if expires <= now_ms // 1000 or not first:
        report.records_expired += 1
        return
    account_sid = item["account_sid"]
    # The record's key is the digest of (AccountSid, Idempotency-Key), as the Sid's is.
    digest = item["pk"].removeprefix(schema.IDEMPOTENCY_PK_PREFIX)
    sid = schema.keyed_sid(digest, bool(first.get("media_urls")))
    alias = {
        **{k: marshal.value(v) for k, v in schema.message_key(account_sid, sid).items()},
        schema.STAND_IN: "alias",
        schema.ALIAS_OF: item["message_sid"],
        schema.IDEMPOTENCY_DIGEST: item["request_digest"],
        schema.TTL_ATTRIBUTE: expires,
        schema.REPLAY: first,
    }
    if not client.put_new(alias):
        return  # written by an earlier pass
    report.aliases_written += 1
