"""Tenant isolation for Messaging Services (messaging/v1), as tests/system/test_isolation.py
holds it for Messages: every service and sender operation x {own, foreign, missing} Sid. With good
credentials a foreign Sid answers exactly like a missing one (status, body bytes bar the
echoed Sid, headers) after the same DynamoDB calls; a bad credential gets the one 401 and
writes nothing; lists never show another account's services or senders."""

import json
import re
import secrets

import pytest

import admin
from chalicelib.accounts import credentials
from chalicelib.services import pool
from tests.conftest import basic, body
from tests.services.conftest import V1, register

OPERATIONS = [
    ("fetch", "GET", "/v1/Services/{mg}", None),
    ("update", "POST", "/v1/Services/{mg}", {"FriendlyName": "mine now"}),
    ("delete", "DELETE", "/v1/Services/{mg}", None),
    ("list numbers", "GET", "/v1/Services/{mg}/PhoneNumbers", None),
    ("add a number", "POST", "/v1/Services/{mg}/PhoneNumbers", {"PhoneNumberSid": "{own_pn}"}),
    ("fetch a number", "GET", "/v1/Services/{mg}/PhoneNumbers/{pn}", None),
    ("remove a number", "DELETE", "/v1/Services/{mg}/PhoneNumbers/{pn}", None),
    ("list alpha senders", "GET", "/v1/Services/{mg}/AlphaSenders", None),
    ("add an alpha sender", "POST", "/v1/Services/{mg}/AlphaSenders", {"AlphaSender": "Mine"}),
    ("list short codes", "GET", "/v1/Services/{mg}/ShortCodes", None),
]


def missing_like(sid: str) -> str:
    return sid[:14] + secrets.token_hex(10)


@pytest.fixture
def world(api, other_api):
    pool.forget()
    mine, theirs = V1(api), V1(other_api)
    own_mg = mine.made()["sid"]
    own_pn = register(api, "+14155550111")
    foreign_mg = theirs.made()["sid"]
    foreign_pn = register(other_api, "+14155550122")
    assert theirs.add_number(foreign_mg, foreign_pn).status_code == 201
    return {
        "v1": mine,
        "theirs": theirs,
        "own_mg": own_mg,
        "own_pn": own_pn,
        "foreign_mg": foreign_mg,
        "foreign_pn": foreign_pn,
        "missing_mg": missing_like(foreign_mg),
        "missing_pn": missing_like(foreign_pn),
    }


def call(world, path, method, params, mg, pn):
    path = path.format(mg=mg, pn=pn)
    if params:
        params = {k: v.format(own_pn=world["own_pn"]) for k, v in params.items()}
    return world["v1"].request(method, path, params=params)


def calls_shape(calls, *sids) -> list:
    out = []
    for operation, request, outcome in calls:
        text = json.dumps(request, sort_keys=True)
        for sid in sids:
            text = text.replace(sid, "<sid>").replace(sid[2:], "<key>")
        text = re.sub(r'\{"N": "\d+"\}', '{"N": "<n>"}', text)
        out.append((operation, text, outcome))
    return out


@pytest.mark.parametrize("name,method,path,params", OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_a_foreign_service_answers_byte_for_byte_like_a_missing_one(
    world, storage_calls, name, method, path, params
):
    got = {}
    for target, mg, pn in (
        ("foreign", world["foreign_mg"], world["foreign_pn"]),
        ("missing", world["missing_mg"], world["missing_pn"]),
    ):
        pool.forget()
        storage_calls.clear()
        response = call(world, path, method, params, mg, pn)
        got[target] = (response, calls_shape(storage_calls, mg, pn))
    foreign, missing = got["foreign"][0], got["missing"][0]
    assert foreign.status_code == missing.status_code == 404, foreign.body
    masked = foreign.body.replace(world["foreign_mg"].encode(), b"<mg>").replace(
        world["foreign_pn"].encode(), b"<pn>"
    )
    assert masked == missing.body.replace(world["missing_mg"].encode(), b"<mg>").replace(
        world["missing_pn"].encode(), b"<pn>"
    )
    assert dict(foreign.headers) == dict(missing.headers)
    assert got["foreign"][1] == got["missing"][1], "the same DynamoDB calls"
    # And nothing of the other account's changed.
    theirs = world["theirs"]
    assert body(theirs.fetch(world["foreign_mg"]))["friendly_name"] == "svc"
    numbers = body(theirs.senders(world["foreign_mg"]))["phone_numbers"]
    assert [n["sid"] for n in numbers] == [world["foreign_pn"]]


def test_another_accounts_number_cannot_join_a_service_and_answers_like_a_missing_one(world):
    v1 = world["v1"]
    foreign = v1.add_number(world["own_mg"], world["foreign_pn"])
    missing = v1.add_number(world["own_mg"], world["missing_pn"])
    assert foreign.status_code == missing.status_code == 400
    assert json.loads(foreign.body)["code"] == json.loads(missing.body)["code"] == 21421
    assert foreign.body.replace(world["foreign_pn"].encode(), b"<pn>") == missing.body.replace(
        world["missing_pn"].encode(), b"<pn>"
    )
    # Sending through another account's service: as through one that does not exist.
    api = v1.api
    params = {"To": "+14155550100", "Body": "x"}
    through = [
        api.create(**params, MessagingServiceSid=mg)
        for mg in (world["foreign_mg"], world["missing_mg"])
    ]
    assert through[0].status_code == through[1].status_code == 400
    assert json.loads(through[0].body)["code"] == json.loads(through[1].body)["code"] == 21701


def test_lists_show_only_the_accounts_own(world):
    v1 = world["v1"]
    assert [s["sid"] for s in body(v1.list())["services"]] == [world["own_mg"]]
    assert body(v1.senders(world["own_mg"]))["phone_numbers"] == []


def test_every_bad_credential_gets_the_same_401_and_writes_nothing(world, storage_calls, api):
    v1 = world["v1"]
    reference = v1.request("GET", "/v1/Services", auth=False)
    assert reference.status_code == 401
    other_key = admin.create_key(world["theirs"].api.account_sid)
    own_key = admin.create_key(api.account_sid)
    bad = {
        "none": False,
        "wrong token": basic(api.account_sid, "0" * 32),
        "another account's token": world["theirs"].api.auth,
        "an API key (no account of its own here)": basic(own_key["sid"], own_key["secret"]),
        "another account's API key": basic(other_key["sid"], other_key["secret"]),
        "unknown account": basic("AC" + secrets.token_hex(16), "0" * 32),
    }
    writes = {"put_item", "update_item", "delete_item", "transact_write_items"}
    for credential, header in bad.items():
        for name, method, path, params in OPERATIONS:
            credentials.forget()
            storage_calls.clear()
            path = path.format(mg=world["own_mg"], pn=world["own_pn"])
            response = v1.request(method, path, params=params, auth=header)
            cell = f"{name} / {credential}"
            if credential == "another account's token":
                # Valid credentials of the other account: the own service is foreign to it.
                assert response.status_code in (404, 400), cell
                continue
            assert (response.status_code, response.body) == (401, reference.body), cell
            assert [c for c in storage_calls if c[0] in writes] == [], cell
    assert body(v1.fetch(world["own_mg"]))["friendly_name"] == "svc"
