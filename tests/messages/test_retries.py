"""Retry-safe create (Idempotency-Key) and DynamoDB faults: throttling, outages, no partial
writes, bounded client retries."""

import json
import threading

import pytest

from chalicelib import messages, storage
from chalicelib.runtime import clock
from chalicelib.twilio import sids
from devtools import direct_aws
from tests.conftest import body

FROM = "+15005550006"
TO = "+14155550100"
PARAMS = {"To": TO, "From": FROM, "Body": "once"}


def create_with(api, key, header="Idempotency-Key", **params):
    return api.request(
        "POST",
        api.base + "/Messages.json",
        params={**PARAMS, **params},
        headers={header: key},
    )


def listed(api):
    return [m["sid"] for m in body(api.list())["messages"]]


@pytest.mark.parametrize("header", ["Idempotency-Key", "I-Twilio-Idempotency-Token"])
def test_a_retried_create_returns_the_original_message(api, header):
    first = create_with(api, "order-42", header)
    again = create_with(api, "order-42", header)
    assert first.status_code == again.status_code == 201
    assert body(again) == body(first)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert listed(api) == [body(first)["sid"]]


def test_different_keys_make_different_messages(api):
    a = body(create_with(api, "k1"))["sid"]
    b = body(create_with(api, "k2"))["sid"]
    assert a != b and sorted(listed(api)) == sorted([a, b])


def test_the_same_key_with_other_parameters_is_refused(api):
    create_with(api, "k")
    response = create_with(api, "k", Body="different")
    assert response.status_code == 422
    assert body(response)["code"] == 20001
    assert len(listed(api)) == 1


def test_keys_are_scoped_to_the_account(api, other_api):
    mine = body(create_with(api, "shared-key"))["sid"]
    theirs = body(create_with(other_api, "shared-key"))["sid"]
    assert mine != theirs
    assert listed(other_api) == [theirs]


def test_a_keyed_create_is_one_put_and_a_retry_one_refused_put(api, monkeypatch):
    calls = []
    real = storage.client.call
    monkeypatch.setattr(storage.client, "call", lambda op, **kw: calls.append(op) or real(op, **kw))
    api.list()  # the credentials, read once and cached
    calls.clear()
    first = body(create_with(api, "one-item"))
    # The From's owner (never another account's number), the opt-out, the message itself;
    # the retry's From was read a moment ago (chalicelib.messages.checks keeps a yes).
    assert calls == ["get_item", "get_item", "put_item"]
    calls.clear()
    again = create_with(api, "one-item")
    assert calls == ["get_item", "put_item"] and body(again) == first
    assert first["sid"] == storage.schema.keyed_message_sid(api.account_sid, "one-item")
    item = storage.client.get(storage.schema.message_key(api.account_sid, first["sid"]))
    assert storage.schema.IDEMPOTENCY_DIGEST in item


def test_a_key_replays_its_message_for_as_long_as_it_exists(api, monkeypatch):
    first = body(create_with(api, "k"))
    real = clock.now_ms
    days_later = 3 * messages.IDEMPOTENCY_TTL_SECONDS * 1000
    monkeypatch.setattr(clock, "now_ms", lambda: real() + days_later)
    again = create_with(api, "k")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert body(again)["sid"] == first["sid"]
    assert create_with(api, "k", Body="other").status_code == 422


def test_a_deleted_keyed_message_is_replayed_for_a_day_then_the_key_makes_a_new_one(
    api, monkeypatch
):
    first = body(create_with(api, "k"))
    assert api.delete(first["sid"]).status_code == 204
    # Gone for everything but the key's retries: fetch, list, update, delete.
    assert api.fetch(first["sid"]).status_code == 404
    assert listed(api) == []
    assert api.update(first["sid"], Body="").status_code == 404
    assert api.delete(first["sid"]).status_code == 404
    again = create_with(api, "k")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert body(again) == first  # as it was when deleted
    assert create_with(api, "k", Body="other").status_code == 422
    assert listed(api) == []
    real = clock.now_ms
    day_later = messages.IDEMPOTENCY_TTL_SECONDS * 1000 + 5_000
    monkeypatch.setattr(clock, "now_ms", lambda: real() + day_later)
    made = create_with(api, "k")
    assert made.status_code == 201 and "Idempotent-Replayed" not in made.headers
    assert body(made)["sid"] == first["sid"] and listed(api) == [first["sid"]]


def test_a_keyed_message_older_than_a_day_is_deleted_for_good(api, monkeypatch):
    first = body(create_with(api, "k"))
    real = clock.now_ms
    day_later = messages.IDEMPOTENCY_TTL_SECONDS * 1000 + 5_000
    monkeypatch.setattr(clock, "now_ms", lambda: real() + day_later)
    assert api.delete(first["sid"]).status_code == 204
    key = storage.schema.message_key(api.account_sid, first["sid"])
    assert storage.client.get(key) is None
    made = create_with(api, "k")
    assert made.status_code == 201 and "Idempotent-Replayed" not in made.headers


@pytest.mark.parametrize("key", ["x" * 256, "caf\u00e9", "tab\there"])
def test_malformed_keys_are_refused(api, key):
    response = api.request(
        "POST",
        api.base + "/Messages.json",
        params=PARAMS,
        headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")},
    )
    assert response.status_code == 400 and body(response)["code"] == 20001


def test_concurrent_retries_make_one_message(api, atomic_moto):
    results, failures = [], []

    def retry():
        try:
            created = messages.create(
                api.account_sid, {k: [v] for k, v in PARAMS.items()}, "racing-key"
            )
            results.append(created)
        except Exception as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len({created.message.sid for created in results}) == 1
    assert sum(not created.replayed for created in results) == 1
    assert len(listed(api)) == 1


# --- faults -----------------------------------------------------------------------------


def inject(operation: str, code: str, status: int = 400, times: int = 100):
    """Answer the next `times` HTTP attempts of `operation` with a DynamoDB error, inside
    botocore's retry loop, so the client's own retries are exercised too."""
    attempts = {"n": 0}

    def respond(request, **_):
        if attempts["n"] >= times:
            return None
        attempts["n"] += 1
        # botocore emits before-send to every handler: point this attempt somewhere moto's
        # own handler does not serve, so the failed attempt really writes nothing.
        request.url = "http://fault-injected.invalid/"
        payload = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}"}).encode()
        headers = {"x-amzn-ErrorType": code}
        return direct_aws.botocore_answer(request.url, status, headers, payload)

    storage.client.client().meta.events.register_first(f"before-send.dynamodb.{operation}", respond)
    return attempts


def test_throttling_answers_429_with_retry_after_and_writes_nothing(api):
    attempts = inject("PutItem", "ProvisionedThroughputExceededException")
    response = api.create(**PARAMS)
    assert response.status_code == 429
    assert body(response)["code"] == 20429
    assert int(response.headers["Retry-After"]) >= 1
    assert attempts["n"] == 3  # standard retry mode, bounded at 3 attempts
    assert listed(api) == []


def test_a_throttled_idempotent_create_leaves_no_partial_write(api):
    attempts = inject("PutItem", "ThrottlingException", times=3)
    response = create_with(api, "k")
    assert response.status_code == 429 and attempts["n"] == 3
    assert listed(api) == []
    key = storage.schema.message_key(
        api.account_sid, storage.schema.keyed_message_sid(api.account_sid, "k")
    )
    assert storage.client.get(key) is None
    # the client's retry then goes through as a first create, not a replay
    retried = create_with(api, "k")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert storage.client.get(key) is not None


def test_a_transient_fault_is_retried_and_succeeds(api):
    attempts = inject("PutItem", "ProvisionedThroughputExceededException", times=2)
    response = api.create(**PARAMS)
    assert response.status_code == 201
    assert attempts["n"] == 2
    assert len(listed(api)) == 1


def test_a_dynamodb_outage_answers_503_not_a_traceback(api):
    inject("Query", "InternalServerError", status=500)
    response = api.list()
    assert response.status_code == 503
    data = body(response)
    assert set(data) == {"code", "message", "more_info", "status"} and data["status"] == 503
    assert "Retry-After" in response.headers


def test_client_retries_are_bounded_and_standard():
    retries = storage.client.client.__wrapped__().meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": 3}


def test_a_sid_collision_takes_a_new_sid_and_keeps_the_first_message(api, monkeypatch):
    first = body(api.create(**PARAMS))["sid"]
    real = sids.message_sid
    issued = iter([first])
    monkeypatch.setattr(sids, "message_sid", lambda *a, **k: next(issued, None) or real(*a, **k))
    second = api.create(**{**PARAMS, "Body": "second"})
    assert second.status_code == 201
    assert body(second)["sid"] != first
    assert body(api.fetch(first))["body"] == "once"
    assert body(api.fetch(body(second)["sid"]))["body"] == "second"
