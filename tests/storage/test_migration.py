"""Upgrading a table written by the layout before list keys stopped moving and keys made
Sids (docs/deploy.md, "Upgrading"): what lists, retries and `admin migrate` do with the items
that layout left behind.

The old items are written here as that layout wrote them (its `lk` at the date_sent, `sent_ms`
projected, the To+From index's `to_from_key`, and an `idem#` record per Idempotency-Key), from
messages the API made.
"""

import json
from urllib.parse import parse_qs, urlsplit

import admin
from chalicelib import messages, storage
from chalicelib.messages.status import Status
from chalicelib.runtime import clock
from chalicelib.storage import marshal, schema
from tests.conftest import body, listing, make, ms, sids_of
from tests.services.helpers import service_of

BACKENDS = ("moto", "memory")  # conftest.py: every test on moto and the in-memory DynamoDB

FROM, TO = "+15005550006", "+14155550100"


def item_of(api, sid: str) -> dict:
    return storage.client.get(schema.message_key(api.account_sid, sid))


def put(item: dict) -> None:
    storage.client.call("put_item", Item=marshal.to_attrs(item))


def as_before(api, sid: str, sent_ms: int | None = None) -> dict:
    """The message rewritten as the old layout stored it (sent at `sent_ms`, if given)."""
    item = item_of(api, sid)
    for name in (schema.SENT, schema.LATE_SENT, schema.LATE_KEY):
        item.pop(name, None)
    moment = item["created_ms"]
    if sent_ms is not None:
        item.update(status=Status.DELIVERED.value, sent_ms=sent_ms)
        moment = sent_ms
    item[schema.LIST_SORT_KEY] = schema.list_key(moment, sid)
    item[schema.LATE_KEY] = f"{api.account_sid}|{item['to']}|{item['from']}"
    put(item)
    return item


def old_record(api, key: str, sid: str) -> None:
    """The old layout's idempotency record for `key`, naming message `sid`."""
    first = storage.messages.get_message(api.account_sid, sid)
    params = {"To": [TO], "From": [FROM], "Body": [first["body"]]}
    canonical = json.dumps(sorted(params.items()), ensure_ascii=False).encode()
    import hashlib

    put(
        {
            **{
                k: marshal.value(v) for k, v in schema.idempotency_key(api.account_sid, key).items()
            },
            "account_sid": api.account_sid,
            "request_digest": hashlib.sha256(canonical).hexdigest(),
            schema.TTL_ATTRIBUTE: clock.now_ms() // 1000 + 3600,
            "message_sid": sid,
            "message": first,
        }
    )


def test_lists_read_both_layouts_and_migrate_rewrites_the_old_one(api, clock):
    clock("2024-01-02T10:00:00")
    early = make(api)["sid"]  # sent at 10:00:30, after `later` was made
    clock("2024-01-02T10:00:10")
    later = make(api)["sid"]  # sent at 10:00:20
    clock("2024-01-02T10:00:40")
    fresh = make(api)["sid"]  # made after the upgrade, never sent
    as_before(api, early, ms("2024-01-02T10:00:30"))
    as_before(api, later, ms("2024-01-02T10:00:20"))

    # Before the pass: the old items sort by date_sent, and DateSent is exact on both.
    assert sids_of(listing(api)) == [fresh, early, later]
    window = {"DateSent>": "2024-01-02T10:00:25Z", "DateSent<": "2024-01-02T10:00:35Z"}
    assert sids_of(listing(api, **window)) == [early]

    report = admin.migrate()
    assert report["messages_rewritten"] == 2 and report["resume"] is None

    # After it: every message by when it was made; their date_sent kept exactly.
    assert sids_of(listing(api)) == [fresh, later, early]
    assert sids_of(listing(api, **window)) == [early]
    assert body(api.fetch(early))["date_sent"] == "Tue, 02 Jan 2024 10:00:30 +0000"
    item = item_of(api, early)
    assert item[schema.SENT] == ms("2024-01-02T10:00:30")
    assert schema.LATE_SENT not in item and schema.LATE_KEY not in item
    assert item[schema.LIST_SORT_KEY] == schema.list_key(ms("2024-01-02T10:00:00"), early)
    # A second pass finds nothing to do.
    again = admin.migrate()
    assert again["messages_rewritten"] == 0 and again["messages_current"] == 3


def test_an_old_scheduled_message_moves_to_its_send_at_and_a_late_one_to_the_late_index(api, clock):
    clock("2024-01-02T10:00:00")
    scheduled = make(
        api,
        ScheduleType="fixed",
        SendAt="2024-01-02T12:00:00Z",
        MessagingServiceSid=service_of(api.account_sid),  # scheduling asks for one (35118)
    )["sid"]
    held = make(api)["sid"]
    as_before(api, scheduled)
    as_before(api, held, ms("2024-01-02T11:00:00"))  # the carrier held it for an hour
    admin.migrate()
    assert item_of(api, scheduled)[schema.LIST_SORT_KEY] == schema.list_key(
        ms("2024-01-02T12:00:00"), scheduled
    )
    late = item_of(api, held)
    assert late[schema.LATE_KEY] == schema.late_partition(api.account_sid, 0)
    assert late[schema.LATE_SENT] == late[schema.SENT] == ms("2024-01-02T11:00:00")
    # Found only through the late index: sent long after it was made.
    assert sids_of(listing(api, **{"DateSent>": "2024-01-02T10:30:00Z"})) == [held]


def test_a_key_used_before_the_upgrade_replays_once_migrate_has_run(api):
    first = body(
        api.request(
            "POST", api.base + "/Messages.json", params={"To": TO, "From": FROM, "Body": "x"}
        )
    )
    old_record(api, "order-7", first["sid"])

    report = admin.migrate()
    assert report["aliases_written"] == 1
    retried = api.request(
        "POST",
        api.base + "/Messages.json",
        params={"To": TO, "From": FROM, "Body": "x"},
        headers={"Idempotency-Key": "order-7"},
    )
    assert retried.status_code == 201 and retried.headers.get("Idempotent-Replayed") == "true"
    assert body(retried)["sid"] == first["sid"]
    # The alias is no message: not fetched, listed, changed or deleted.
    alias = schema.keyed_message_sid(api.account_sid, "order-7")
    assert api.fetch(alias).status_code == 404
    assert sids_of(listing(api)) == [first["sid"]]
    assert api.delete(alias).status_code == 404
    # Deleted, the first message is still answered, as the record kept it.
    assert api.delete(first["sid"]).status_code == 204
    replayed = api.request(
        "POST",
        api.base + "/Messages.json",
        params={"To": TO, "From": FROM, "Body": "x"},
        headers={"Idempotency-Key": "order-7"},
    )
    assert body(replayed)["sid"] == first["sid"] and body(replayed)["body"] == "x"
    assert admin.migrate()["aliases_written"] == 0


def test_a_page_token_from_before_the_upgrade_is_refused_with_21481(api, clock):
    for second in range(3):
        clock(f"2024-01-02T10:00:0{second}")
        make(api)
    first = listing(api, PageSize=1)
    token = parse_qs(urlsplit(first["next_page_uri"]).query)["PageToken"][0]
    from chalicelib.runtime import config
    from chalicelib.twilio import paging

    scope = f"{api.account_sid}|" + "|".join(
        ["messages", "", "", paging.LOWEST_KEY, paging.HIGHEST_KEY]
    )
    cursor = paging.decode(
        token, f"{api.account_sid}|messages.v2||||", config.load().page_token_secret
    )
    old = paging.encode(cursor, scope, config.load().page_token_secret)
    response = api.list(f"PageSize=1&PageToken={old}")
    assert response.status_code == 400 and body(response)["code"] == 21481


def test_migrate_resumes_from_the_key_it_printed(api):
    made = [make(api)["sid"] for _ in range(5)]
    for sid in made:
        as_before(api, sid)
    from chalicelib.storage import migration

    first = migration.run(clock.now_ms(), max_items=1)
    assert first.resume is not None
    rest = migration.run(clock.now_ms(), resume=first.resume)
    assert first.messages_rewritten + rest.messages_rewritten == 5
    assert admin.main(["migrate", "--segment", "1", "--segments", "1"]) == 1
    assert messages.fetch(api.account_sid, made[0]).sid == made[0]
