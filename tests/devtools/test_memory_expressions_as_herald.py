"""Every expression Herald's storage sends, as it sends it, through
devtools/memory_aws/expressions.py: a shadow of storage's client replays each write (put,
update, delete, each item of a transaction) and each query and scan of a scenario that
drives Herald's messages, numbers, services and accounts, on moto, through the module first,
and notes where the module would have ended otherwise: a condition that would have gone the
other way, an item left otherwise, a query that would have found other items.

tests/devtools/test_memory_expressions.py holds the module to moto and dynalite case by case;
this holds it to what Herald actually sends, names and values included, so an expression
added to chalicelib/storage is checked the day a flow below sends it.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from chalicelib import numbers, services, storage
from chalicelib.messages import lifecycle
from chalicelib.messages.status import Status
from chalicelib.runtime import clock
from chalicelib.services import senders
from chalicelib.storage import accounts, client, migration, service_senders, tables
from chalicelib.storage import messages as stored_messages
from devtools.memory_aws import expressions
from devtools.memory_aws.document import equal
from tests.conftest import body, make, make_sent, scheduled
from tests.devtools.expression_references import canonical_item

KINDS = ("ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression")


class Shadow:
    """storage.client.call that first works out, through the module, how each write and read
    will end, then makes it on moto, and notes every difference in `differences`."""

    def __init__(self, real):
        self.real = real
        self.differences: list[str] = []
        self.checked: Counter = Counter()  # (operation, expression) checked

    def __call__(self, operation: str, **request):
        if operation in ("put_item", "update_item", "delete_item"):
            return self._transaction(operation, request, [(operation, request)])
        if operation == "transact_write_items":
            items = [next(iter(entry.items())) for entry in request["TransactItems"]]
            shapes = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}
            return self._transaction(
                operation, request, [(shapes.get(kind, "check"), one) for kind, one in items]
            )
        answer = self.real(operation, **request)
        if operation in ("query", "scan"):
            self._read(operation, request, answer)
        return answer

    @staticmethod
    def _item(key: dict) -> dict | None:
        found = client.client().get_item(TableName=client.table(), Key=key, ConsistentRead=True)
        return found.get("Item")

    def _note(self, request: dict, operation: str) -> None:
        for kind in KINDS:
            if kind in request:
                self.checked[(operation, request[kind])] += 1

    def _transaction(self, operation: str, request: dict, writes: list) -> dict:
        keys, verdicts, afters = [], [], []
        for kind, write in writes:
            key = write.get("Key") or {"pk": write["Item"]["pk"], "sk": write["Item"]["sk"]}
            before = self._item(key)
            names = write.get("ExpressionAttributeNames")
            values = write.get("ExpressionAttributeValues")
            verdict, after = True, before
            if "ConditionExpression" in write:
                verdict = expressions.condition(write["ConditionExpression"], names, values)(before)
            if verdict and kind == "update_item":
                try:
                    after = expressions.update(write["UpdateExpression"], names, values)(
                        before or key
                    )
                except expressions.ValidationError:
                    verdict = "refused"
            elif verdict and kind in ("put_item", "delete_item"):
                after = write["Item"] if kind == "put_item" else None
            keys.append(key)
            verdicts.append(verdict)
            afters.append(after if verdict is True else before)
            self._note(write, kind)
        try:
            answer = self.real(operation, **request)
        except (ClientError, client.Unavailable) as error:
            response = getattr(error, "response", {})
            code = response.get("Error", {}).get("Code") or str(error)
            reasons = response.get("CancellationReasons") or [{"Code": code}]
            ended = [_ended(reason.get("Code")) for reason in reasons]
            self._compare(operation, request, verdicts, ended)
            raise
        self._compare(operation, request, verdicts, [True] * len(writes))
        for key, after in zip(keys, afters, strict=True):
            if canonical_item(after) != canonical_item(self._item(key)):
                self.differences.append(f"{operation} left another item: {request}")
        return answer

    def _compare(self, operation: str, request: dict, ours: list, theirs: list) -> None:
        if ours != theirs:
            self.differences.append(f"{operation}: module {ours}, moto {theirs}: {request}")

    def _read(self, operation: str, request: dict, answer: dict) -> None:
        self._note(request, operation)
        names, values = (
            request.get("ExpressionAttributeNames"),
            request.get("ExpressionAttributeValues"),
        )
        keep = lambda item: True  # noqa: E731
        if "FilterExpression" in request:
            keep = expressions.condition(
                request["FilterExpression"], names, values, kind="FilterExpression"
            )
        if operation == "scan":
            if not all(keep(item) for item in answer.get("Items", [])):
                self.differences.append(f"scan kept an item the filter refuses: {request}")
            return
        index = _index(request.get("IndexName"))
        hash_key = index["KeySchema"][0]["AttributeName"]
        found = expressions.key_condition(
            request["KeyConditionExpression"], names, values, partition_key=hash_key
        )
        ours = []
        for item in _all_items():
            if any(key["AttributeName"] not in item for key in index["KeySchema"]):
                continue
            item = _projected(item, index)
            if (
                equal(item[found.partition_name], found.partition_value)
                and (found.sort is None or found.sort(item[found.sort_name]))
                and keep(item)
            ):
                ours.append(item)
        theirs = answer.get("Items", [])
        if answer.get("LastEvaluatedKey") or "ExclusiveStartKey" in request:
            missing = [i for i in map(canonical_item, theirs) if i not in map(canonical_item, ours)]
            if missing:  # part of the range: what it found must be found; it need not find all
                self.differences.append(f"query found what the module does not: {request}")
            return
        if sorted(map(_sortable, ours)) != sorted(map(_sortable, theirs)):
            self.differences.append(f"query found other items: {request}")


def _ended(code: str | None):
    """How a write (or a transaction's item) ended, by the code it was refused with."""
    if code in ("ConditionalCheckFailed", "ConditionalCheckFailedException"):
        return False
    return "refused" if code and code.startswith("Validation") else True


def _sortable(item: dict) -> str:
    return repr(sorted(canonical_item(item).items()))


def _index(name: str | None) -> dict:
    definition = tables.table_definition(client.table())
    if name is None:
        return {"KeySchema": definition["KeySchema"], "Projection": {"ProjectionType": "ALL"}}
    return next(i for i in definition["GlobalSecondaryIndexes"] if i["IndexName"] == name)


def _projected(item: dict, index: dict) -> dict:
    projection = index["Projection"]
    if projection["ProjectionType"] == "ALL":
        return item
    kept = {"pk", "sk", *(key["AttributeName"] for key in index["KeySchema"])}
    kept |= set(projection.get("NonKeyAttributes", ()))
    return {name: value for name, value in item.items() if name in kept}


def _all_items() -> list[dict]:
    items, request = [], {"TableName": client.table(), "ConsistentRead": True}
    while True:
        page = client.client().scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def shadow(api, monkeypatch) -> Shadow:
    found = Shadow(client.call)
    monkeypatch.setattr(client, "call", found)
    return found


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_herald_s_expressions_end_as_on_moto(api, shadow):
    account_sid = api.account_sid
    account = accounts.get_account(account_sid)
    # Accounts: credentials again, list shards, senders (the map, then an entry), API keys.
    accounts.put_account(account_sid, account["token_hash"], 1, account["token_ciphertext"])
    accounts.set_list_shards(account_sid, 2, clock.now_ms(), clock.now_ms())
    accounts.set_sender(account_sid, "identity-0")
    accounts.set_sender(account_sid, "identity-1", "MG" + "1" * 32)
    accounts.put_api_key(account_sid, "SK" + "1" * 32, "secret", 1)
    accounts.revoke_api_key(account_sid, "SK" + "1" * 32)
    with pytest.raises(storage.Missing):
        accounts.revoke_api_key(account_sid, "SK" + "2" * 32)

    # Messages: plain, keyed (and its retry), with media (one removed), through delivery.
    plain = make(api)["sid"]
    params = {"To": "+14155550100", "From": "+15005550006", "Body": "k"}
    keyed = {"Idempotency-Key": "key-1"}
    first = api.request("POST", api.base + "/Messages.json", headers=keyed, params=params)
    again = api.request("POST", api.base + "/Messages.json", headers=keyed, params=params)
    assert first.status_code == 201 and body(first) == body(again)
    with_media = make(api, MediaUrl=["https://cdn.example/a.png", "https://cdn.example/b.png"])
    media = body(api.request("GET", f"{api.base}/Messages/{with_media['sid']}/Media.json"))
    assert api.request("DELETE", media["media_list"][1]["uri"]).status_code == 204
    sent = make_sent(api)
    lifecycle.transition(account_sid, sent["sid"], Status.DELIVERED)
    sending = lifecycle.transition(account_sid, plain, Status.SENDING, {"claim": "c1"})
    with pytest.raises(storage.WrongState):
        stored_messages.update_message(
            account_sid, plain, {"attempts": 2}, statuses=[Status.SENDING],
            condition="claim = :claim", values={":claim": "other"},
        )  # fmt: skip
    stored_messages.update_message(
        account_sid, plain, {"attempts": 2}, statuses=[Status.SENDING],
        condition="attribute_not_exists(attempts) OR attempts = :seen",
        values={":seen": sending.attempts}, remove=["claim"],
    )  # fmt: skip
    later = scheduled(api)
    assert body(api.update(later["sid"], Status="canceled"))["status"] == "canceled"
    stored_messages.due_messages("0", clock.now_ms() + 10**10, 10)
    # Lists, a DateSent filter among them; deletes (a keyed message leaves its stand-in).
    day = iso(datetime.now(UTC) - timedelta(days=1))[:10]
    for query in ("", "PageSize=2", f"DateSent%3E={day}", f"To=%2B14155550100&DateSent%3E={day}"):
        assert api.list(query).status_code == 200
    assert api.delete(body(first)["sid"]).status_code == 204
    assert api.delete(sent["sid"]).status_code == 204
    assert api.delete(plain).status_code == 409  # still sending
    api.fetch(body(first)["sid"])
    lifecycle.events_of(account_sid, sent["sid"])

    # Numbers and Messaging Services: registered, changed, linked, listed, removed.
    number = numbers.create(account_sid, {"PhoneNumber": ["+14155550123"]})
    numbers.update(account_sid, number.sid, {"SmsUrl": ["https://example.com/in"]})
    numbers.update(account_sid, number.sid, {"FriendlyName": ["mine"]})
    service = services.create(account_sid, {"FriendlyName": ["svc"]})
    services.update(account_sid, service.sid, {"FriendlyName": ["svc2"]})
    senders.add_phone_number(account_sid, service.sid, {"PhoneNumberSid": [number.sid]})
    senders.add_alpha_sender(account_sid, service.sid, {"AlphaSender": ["Herald"]})
    senders.list_senders(account_sid, service.sid, "PhoneNumbers", {}, "/base")
    service_senders.holds_alpha(account_sid, "Herald")
    service_senders.claim_sticky(account_sid, service.sid, "+1415", "+14155550123", None)
    service_senders.claim_sticky(account_sid, service.sid, "+1415", "+14155550124", "+14155550123")
    service_senders.claim_sticky(account_sid, service.sid, "+1415", "+14155550125", None)
    senders.remove_sender(account_sid, service.sid, "PhoneNumbers", number.sid)
    senders.add_phone_number(account_sid, service.sid, {"PhoneNumberSid": [number.sid]})
    services.list_page(account_sid, {}, "/base")
    numbers.delete(account_sid, number.sid)
    services.delete(account_sid, service.sid)
    migration.run(clock.now_ms())

    assert shadow.differences == []
    sent_kinds = {expression for (_, expression) in shadow.checked}
    # It checked what it was meant to: Herald's expressions of each kind, dozens of them.
    assert len(sent_kinds) >= 40, sorted(sent_kinds)
    for expected in (
        "list_append(if_not_exists(#history, :none), :history)",
        "#status IN (",
        "SET #senders.#key = :identity",
        "REMOVE media_urls[",
        "attribute_not_exists(pk) OR #from = :old",
        "#lk BETWEEN :low AND :high",
        "#sent BETWEEN :first AND :last",
        "begins_with(sk, :p)",
        "due_pk = :p AND due_at <= :until",
        "sk = :message OR sk = :idem",
    ):
        assert any(expected in text for text in sent_kinds), (expected, sorted(sent_kinds))
