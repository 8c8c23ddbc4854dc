"""Lists over sharded index partitions: what a page costs, and raising the shard count.

test_list.py runs every list behaviour on a 1-shard and an 8-shard account; this module
covers what only sharding has: where messages land, what a page reads, and that raising the
count loses no message and keeps PageTokens valid.
"""

import json
from collections import Counter

import pytest

import admin
from chalicelib import messages, storage
from chalicelib.accounts import credentials
from chalicelib.messages import lifecycle
from chalicelib.messages.status import Status
from chalicelib.runtime import clock
from chalicelib.storage import accounts, schema
from tests.conftest import body, listing, make, ms, sids_of, spread_lists

BACKENDS = ("moto", "memory")  # conftest.py: every test on moto and the in-memory DynamoDB


@pytest.fixture
def calls(monkeypatch):
    """Every DynamoDB call storage makes, as (operation, request)."""
    made: list[tuple[str, dict]] = []
    real = storage.client.call

    def recording(operation, **kwargs):
        made.append((operation, kwargs))
        return real(operation, **kwargs)

    monkeypatch.setattr(storage.client, "call", recording)
    return made


def item_of(account_sid: str, sid: str) -> dict:
    return storage.client.get(schema.message_key(account_sid, sid))


def test_messages_spread_over_every_shard(api):
    spread_lists(api.account_sid, 8)
    made = [make(api, Body=f"m{i}")["sid"] for i in range(80)]
    shards = Counter(item_of(api.account_sid, sid)["list_pk"] for sid in made)
    assert set(shards) == {f"{api.account_sid}#{n}" for n in range(8)}
    froms = {item_of(api.account_sid, sid)["from_key"].rsplit("#", 1)[1] for sid in made}
    assert froms == {str(n) for n in range(8)}
    # A To list is one partition per handset: never sharded.
    assert {item_of(api.account_sid, sid)["to_key"] for sid in made} == {
        f"{api.account_sid}|+14155550100"
    }


def test_an_unsharded_page_is_one_query_and_one_batch_get_per_100(api, calls):
    for i in range(120):
        make(api, Body=f"m{i}")
    listing(api)  # warms the credential cache, as any earlier request would
    calls.clear()
    assert len(listing(api, PageSize=50)["messages"]) == 50
    assert [operation for operation, _ in calls] == ["query", "batch_get_item"]
    assert calls[0][1]["Limit"] == 51  # the extra one says whether a next page exists
    calls.clear()
    assert len(listing(api, PageSize=150)["messages"]) == 120
    assert [operation for operation, _ in calls] == ["query", "batch_get_item", "batch_get_item"]


def test_a_sharded_page_reads_a_few_entries_per_shard(api, calls):
    spread_lists(api.account_sid, 8)
    for i in range(200):
        make(api, Body=f"m{i}")
    listing(api)
    calls.clear()
    page = listing(api, PageSize=50)
    assert len(page["messages"]) == 50
    queries = [request for operation, request in calls if operation == "query"]
    assert len({q["ExpressionAttributeValues"][":h"]["S"] for q in queries}) == 8
    # Each shard is asked for about twice its share, and refilled only when needed.
    assert sum(q["Limit"] for q in queries) <= 2 * 51 + 8 * 4
    assert [operation for operation, _ in calls].count("batch_get_item") == 1


def test_raising_the_shard_count_loses_nothing_and_keeps_page_tokens(api, monkeypatch):
    start = ms("2024-01-02T10:00:00")
    moment = {"ms": start}
    monkeypatch.setattr(clock, "now_ms", lambda: moment["ms"])

    def create_at(offset_s: float) -> str:
        moment["ms"] = start + int(offset_s * 1000)
        return make(api)["sid"]

    before = [create_at(i) for i in range(10)]
    first = listing(api, PageSize=4)
    assert sids_of(first) == before[::-1][:4]

    moment["ms"] = start + 20_000
    changed = admin.set_list_shards(api.account_sid, 8)
    assert changed["list_shards"] == 8
    effective = changed["new_messages_use_it_from_ms"]
    assert effective == moment["ms"] + int(2 * credentials.CACHE_SECONDS * 1000)
    credentials.forget()
    # Until every container has seen the new count, new messages keep to the old shards.
    during = [create_at(30 + i) for i in range(5)]
    assert {item_of(api.account_sid, sid)["list_pk"] for sid in during} == {f"{api.account_sid}#0"}
    # The token issued before the change still continues where it stopped.
    second = body(api.request("GET", first["next_page_uri"]))
    assert sids_of(second) == before[::-1][4:8]

    moment["ms"] = effective
    after = [create_at(effective / 1000 - start / 1000 + i) for i in range(40)]
    assert len({item_of(api.account_sid, sid)["list_pk"] for sid in after}) > 4
    everything = listing(api, PageSize=1000)
    assert sids_of(everything) == (before + during + after)[::-1]


def test_the_shard_count_is_only_ever_raised(api, capsys):
    admin.set_list_shards(api.account_sid, 4)
    with pytest.raises(ValueError, match="only be raised"):
        admin.set_list_shards(api.account_sid, 2)
    assert admin.main(["set-list-shards", api.account_sid, "0"]) == 1
    assert admin.main(["set-list-shards", "AC" + "0" * 32, "8"]) == 1
    assert capsys.readouterr().err.count("error: ") == 2
    assert admin.main(["set-list-shards", api.account_sid, "16"]) == 0
    assert json.loads(capsys.readouterr().out)["list_shards"] == 16
    assert accounts.get_account(api.account_sid)["list_shards_previous"] == 1


def test_no_status_change_touches_an_index_and_a_sent_message_stays_where_it_was(api, calls, clock):
    index_attributes = {schema.LIST_SORT_KEY, *schema.LIST_INDEXES.values(), schema.LATE_SENT}
    clock("2024-01-02T10:00:00")
    older = make(api)["sid"]
    clock("2024-01-02T10:00:05")
    newer = make(api)["sid"]
    assert sids_of(listing(api)) == [newer, older]
    placed = item_of(api.account_sid, older)["lk"]

    calls.clear()
    sending = messages.transition(api.account_sid, older, Status.SENDING)
    clock("2024-01-02T10:00:09")
    sent = lifecycle.sent_changes(sending.to_fields(), ms("2024-01-02T10:00:09"))
    messages.transition(api.account_sid, older, Status.SENT, sent)
    messages.transition(api.account_sid, older, Status.DELIVERED)
    updates = [request for operation, request in calls if operation == "update_item"]
    assert len(updates) == 3
    for request in updates:
        assert not set(request["ExpressionAttributeNames"].values()) & index_attributes
    # Sent after the newer one was made, it keeps its place: lists never reorder.
    assert item_of(api.account_sid, older)["lk"] == placed
    assert sids_of(listing(api)) == [newer, older]
    assert sids_of(listing(api, **{"DateSent>": "2024-01-02T10:00:07Z"})) == [older]


def test_a_late_message_enters_the_late_index_in_the_same_write(api, calls, clock):
    clock("2024-01-02T10:00:00")
    sid = make(api)["sid"]
    sending = messages.transition(api.account_sid, sid, Status.SENDING)
    late_ms = ms("2024-01-02T10:00:00") + schema.LATE_AFTER_MS + 1
    calls.clear()
    sent = lifecycle.sent_changes(sending.to_fields(), late_ms)
    messages.transition(api.account_sid, sid, Status.SENT, sent)
    (request,) = [request for operation, request in calls if operation == "update_item"]
    assert {schema.LATE_SENT, schema.LATE_KEY} <= set(request["ExpressionAttributeNames"].values())
    item = item_of(api.account_sid, sid)
    assert item[schema.LATE_KEY] == schema.late_partition(api.account_sid, 0)
    assert item[schema.LATE_SENT] == item[schema.SENT] == late_ms
    assert item["lk"] == schema.list_key(ms("2024-01-02T10:00:00"), sid)
