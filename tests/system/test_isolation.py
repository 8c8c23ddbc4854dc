"""Tenant isolation: every operation x every credential x {own, foreign, missing} Sid.

Nothing may tell one account about another: a bad credential gets one 401, the same for
every operation, credential kind and target; with good credentials a foreign Sid answers
exactly like a missing one (status, body bytes bar the echoed Sid, headers) and takes the
same DynamoDB calls, so no timing-visible branch separates them; lists never show another
account's messages, whatever the filter.
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

import admin
from chalicelib.accounts import credentials
from tests.conftest import (
    SID_PLACEHOLDER,
    basic,
    body,
    make,
    make_sent,
    normalized_calls,
    scheduled,
)

FROM = "+15005550006"
TO = "+14155550100"
# Numbers only the other account uses, so a filter on them can only ever match its messages.
OTHER_FROM = "+15005550009"
OTHER_TO = "+14155550111"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    params: dict | None
    ok_status: int
    on_sid: bool = True


CREATE = Operation("create", "POST", {"To": TO, "From": FROM, "Body": "hi"}, 201, on_sid=False)
LIST = Operation("list", "GET", None, 200, on_sid=False)
FETCH = Operation("fetch", "GET", None, 200)
REDACT = Operation("redact (POST)", "POST", {"Body": ""}, 200)
PUT = Operation("update (PUT)", "PUT", {"Body": ""}, 200)
CANCEL = Operation("cancel", "POST", {"Status": "canceled"}, 200)
DELETE = Operation("delete", "DELETE", None, 204)
SID_OPERATIONS = [FETCH, REDACT, PUT, CANCEL, DELETE]
ALL_OPERATIONS = [CREATE, LIST, *SID_OPERATIONS]


def ids(operations):
    return [op.name for op in operations]


def send(api, op: Operation, sid: str | None, auth):
    path = f"{api.base}/Messages.json" if sid is None else f"{api.base}/Messages/{sid}.json"
    return api.request(op.method, path, params=op.params, auth=auth)


def missing_like(sid: str) -> str:
    """A well-formed Sid from the same millisecond and prefix that was never issued."""
    while True:
        candidate = sid[:14] + secrets.token_hex(10)
        if candidate != sid:
            return candidate


def listed_sids(api, query: str = "") -> list[str]:
    response = api.list(query)
    assert response.status_code == 200, response.body
    return [m["sid"] for m in body(response)["messages"]]


@dataclass
class World:
    api: object
    other_api: object
    own: dict  # a scheduled message of the caller's account
    foreign: dict  # a scheduled message of the other account
    missing_sid: str
    bad_credentials: dict  # name -> Authorization header (False: none)
    valid_credentials: dict


@pytest.fixture
def world(api, other_api, account):
    own = scheduled(api)
    foreign = scheduled(other_api, To=OTHER_TO, From=OTHER_FROM)
    own_key = admin.create_key(api.account_sid)
    own_key_for_wrong_secret = admin.create_key(api.account_sid)
    revoked = admin.create_key(api.account_sid)
    admin.revoke_key(api.account_sid, revoked["sid"])
    other_key = admin.create_key(other_api.account_sid)
    token = account["auth_token"]
    wrong_token = ("1" if token[0] == "0" else "0") + token[1:]
    wrong_secret = ("1" if own_key_for_wrong_secret["secret"][0] == "0" else "0") + (
        own_key_for_wrong_secret["secret"][1:]
    )
    return World(
        api=api,
        other_api=other_api,
        own=own,
        foreign=foreign,
        missing_sid=missing_like(foreign["sid"]),
        bad_credentials={
            "none": False,
            "wrong token": basic(api.account_sid, wrong_token),
            "another account's token": other_api.auth,
            "another account's API key": basic(other_key["sid"], other_key["secret"]),
            "revoked API key of this account": basic(revoked["sid"], revoked["secret"]),
            "API key of this account, wrong secret": basic(
                own_key_for_wrong_secret["sid"], wrong_secret
            ),
        },
        valid_credentials={
            "token": api.auth,
            "API key": basic(own_key["sid"], own_key["secret"]),
        },
    )


# --- bad credentials --------------------------------------------------------------------


@pytest.mark.parametrize("op", ALL_OPERATIONS, ids=ids(ALL_OPERATIONS))
def test_every_bad_credential_gets_the_same_401_and_changes_nothing(world, op, storage_calls):
    api, other_api = world.api, world.other_api
    reference = api.request("GET", api.base + "/Messages.json", auth=False)
    assert reference.status_code == 401
    assert body(reference)["code"] == 20003
    assert reference.headers["WWW-Authenticate"].startswith("Basic")
    own_before = body(api.fetch(world.own["sid"]))
    foreign_before = body(other_api.fetch(world.foreign["sid"]))
    lists_before = (listed_sids(api), listed_sids(other_api))

    targets = (
        {"own": world.own["sid"], "foreign": world.foreign["sid"], "missing": world.missing_sid}
        if op.on_sid
        else {"n/a": None}
    )
    problems = []
    writes = {"put_item", "update_item", "delete_item", "transact_write_items"}
    for credential, header in world.bad_credentials.items():
        traces = {}
        for target, sid in targets.items():
            # Each target meets the same cache state (a cold one): auth caches what it read,
            # so without this the first target alone would read the credential.
            credentials.forget()
            storage_calls.clear()
            response = send(api, op, sid, header)
            cell = f"{op.name} / {credential} / {target}"
            if response.status_code != 401 or body(response).get("code") != 20003:
                problems.append(f"{cell}: {response.status_code} {response.body!r}")
            if response.body != reference.body:
                problems.append(f"{cell}: body {response.body!r} != {reference.body!r}")
            if dict(response.headers) != dict(reference.headers):
                problems.append(f"{cell}: headers {response.headers} != {reference.headers}")
            wrote = [call[0] for call in storage_calls if call[0] in writes]
            if wrote:
                problems.append(f"{cell}: wrote to DynamoDB: {wrote}")
            traces[target] = [(o, json.dumps(r, sort_keys=True), x) for o, r, x in storage_calls]
        # Authentication ends the request before the Sid is looked at: same calls for all.
        if len({json.dumps(trace) for trace in traces.values()}) != 1:
            problems.append(f"{op.name} / {credential}: calls differ by target: {traces}")
    assert not problems, "\n".join(problems)

    assert body(api.fetch(world.own["sid"])) == own_before
    assert body(other_api.fetch(world.foreign["sid"])) == foreign_before
    assert (listed_sids(api), listed_sids(other_api)) == lists_before


def test_a_valid_path_with_unknown_account_is_the_same_401(world):
    """An account that does not exist answers like a wrong token on one that does."""
    api = world.api
    reference = api.request("GET", api.base + "/Messages.json", auth=False)
    ghost = "AC" + secrets.token_hex(16)
    for header in (basic(ghost, "0" * 32), api.auth, False):
        response = api.request("GET", f"/2010-04-01/Accounts/{ghost}/Messages.json", auth=header)
        assert (response.status_code, response.body) == (401, reference.body)
        assert dict(response.headers) == dict(reference.headers)


# --- valid credentials: foreign == missing ----------------------------------------------


@pytest.mark.parametrize("credential", ["token", "API key"])
@pytest.mark.parametrize("op", SID_OPERATIONS, ids=ids(SID_OPERATIONS))
def test_a_foreign_sid_answers_byte_for_byte_like_a_missing_one(world, op, credential):
    api, other_api = world.api, world.other_api
    header = world.valid_credentials[credential]
    foreign_before = body(other_api.fetch(world.foreign["sid"]))
    # Also a Sid this account really had, deleted: gone is gone, whoever owned it.
    deleted = scheduled(api)["sid"]
    assert api.delete(deleted).status_code == 204

    got = {
        name: send(api, op, sid, header)
        for name, sid in (
            ("foreign", world.foreign["sid"]),
            ("missing", world.missing_sid),
            ("deleted", deleted),
        )
    }

    def normalized(name, sid):
        response = got[name]
        return response.status_code, response.body.replace(sid.encode(), SID_PLACEHOLDER.encode())

    foreign = normalized("foreign", world.foreign["sid"])
    assert foreign[0] == 404 and json.loads(foreign[1])["code"] == 20404
    assert SID_PLACEHOLDER in json.loads(foreign[1])["message"]
    assert normalized("missing", world.missing_sid) == foreign
    assert normalized("deleted", deleted) == foreign
    assert dict(got["foreign"].headers) == dict(got["missing"].headers)
    assert dict(got["foreign"].headers) == dict(got["deleted"].headers)
    # Neither the account id of the owner nor anything of the message leaks.
    assert other_api.account_sid.encode() not in got["foreign"].body
    assert b"hello" not in got["foreign"].body

    # The foreign message is exactly as it was.
    assert body(other_api.fetch(world.foreign["sid"])) == foreign_before

    # The same request on this account's own message works: the 404 is not a bad request.
    own = send(api, op, world.own["sid"], header)
    assert own.status_code == op.ok_status, own.body
    if op is DELETE:
        assert api.fetch(world.own["sid"]).status_code == 404
    else:
        assert body(own)["sid"] == world.own["sid"]


@pytest.mark.parametrize("op", SID_OPERATIONS, ids=ids(SID_OPERATIONS))
def test_a_foreign_and_a_missing_sid_take_the_same_dynamodb_calls(world, op, storage_calls):
    """The timing-visible branch: same calls, same requests (bar the Sid), same outcomes."""
    api = world.api
    traces = {}
    for name, sid in (("foreign", world.foreign["sid"]), ("missing", world.missing_sid)):
        storage_calls.clear()
        response = send(api, op, sid, api.auth)
        assert response.status_code == 404
        traces[name] = normalized_calls(storage_calls, sid)
    assert traces["foreign"], "no DynamoDB call was recorded: the wrapper is not in the path"
    assert [t[0] for t in traces["foreign"]] == [t[0] for t in traces["missing"]]
    assert traces["foreign"] == traces["missing"]
    # No call may be made under the other account's partition key.
    for _operation, request, _outcome in traces["foreign"]:
        assert world.other_api.account_sid not in request

    # Control: the own Sid goes further (a found item), so the trace does discriminate.
    storage_calls.clear()
    assert send(api, op, world.own["sid"], api.auth).status_code == op.ok_status
    assert normalized_calls(storage_calls, world.own["sid"]) != traces["missing"]


# --- valid credentials: create and list -------------------------------------------------


@pytest.mark.parametrize("credential", ["token", "API key"])
def test_create_lands_in_the_callers_account_only(world, credential):
    api, other_api = world.api, world.other_api
    others_before = listed_sids(other_api)
    response = send(api, CREATE, None, world.valid_credentials[credential])
    assert response.status_code == 201, response.body
    created = body(response)
    assert created["account_sid"] == api.account_sid
    assert created["uri"].startswith(api.base + "/")
    assert created["sid"] in listed_sids(api)
    assert listed_sids(other_api) == others_before
    assert other_api.fetch(created["sid"]).status_code == 404


def q(**params) -> str:
    return urlencode(params, quote_via=quote)


def test_lists_never_include_another_accounts_messages(world):
    api, other_api = world.api, world.other_api
    # The other account also writes to and from the numbers this one uses, and has some
    # numbers of its own; and it has more messages than this one.
    theirs_to_other = {world.foreign["sid"]}
    for _ in range(3):
        make_sent(other_api)
        theirs_to_other.add(make_sent(other_api, To=OTHER_TO, From=OTHER_FROM)["sid"])
    mine = {world.own["sid"], make_sent(api)["sid"]}
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")

    queries = {
        "": mine,
        q(To=TO): mine,
        q(From=FROM): mine,
        q(To=TO, From=FROM): mine,
        q(To=OTHER_TO): set(),
        q(From=OTHER_FROM): set(),
        q(To=OTHER_TO, From=OTHER_FROM): set(),
        q(To=TO, From=OTHER_FROM): set(),
        # DateSent lists only sent messages: the scheduled one is not among them.
        q(**{"DateSent": today}): mine - {world.own["sid"]},
        q(**{"DateSent>": yesterday}): mine - {world.own["sid"]},
        q(To=OTHER_TO, **{"DateSent>": yesterday}): set(),
    }
    for query, expected in queries.items():
        assert set(listed_sids(api, query)) == expected, query
    # The filters that find nothing here do find the other account's messages there.
    assert set(listed_sids(other_api, q(To=OTHER_TO, From=OTHER_FROM))) == theirs_to_other
    assert len(listed_sids(other_api, q(To=TO, From=FROM))) == 3

    # Walking every page one message at a time finds exactly this account's messages.
    seen, uri = [], f"{api.base}/Messages.json?PageSize=1"
    while uri:
        page = body(api.request("GET", uri))
        seen += [m["sid"] for m in page["messages"]]
        uri = page["next_page_uri"]
    assert sorted(seen) == sorted(mine)


def test_a_page_token_from_another_account_is_refused(world):
    api, other_api = world.api, world.other_api
    for _ in range(2):
        make(other_api, To=OTHER_TO)
        make(api, To=OTHER_TO)
    for query in (q(PageSize=1), q(PageSize=1, To=OTHER_TO)):
        theirs = body(other_api.list(query))
        assert theirs["next_page_uri"], "the other account needs a second page for this test"
        token = re.search(r"PageToken=([^&]+)", theirs["next_page_uri"]).group(1)
        response = api.list(f"{query}&PageToken={token}")
        assert (response.status_code, body(response)["code"]) == (400, 21481), response.body
        # The token works for the account it was made for.
        assert other_api.list(f"{query}&PageToken={token}").status_code == 200
