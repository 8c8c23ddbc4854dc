"""The official SDKs against a live Herald (tests.conftest.live_herald: a real HTTP server on
the embedded AWS): twilio-python's `client.incoming_phone_numbers`, and twilio-node (pinned
in package.json) driving both resources, IncomingPhoneNumbers and Messages, through
tests/system/sdk_check.js.

Without Node.js, or without `make dynalite`'s `npm ci` (which installs twilio-node too), the
node test is skipped with the reason; in CI (CI=true) it fails instead, as the dynalite
tests do.
"""

import json
import os
import shutil
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.conftest import live_herald
from tests.system import sdk

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = ROOT / "tests" / "system" / "sdk_check.js"
TWILIO_NODE = ROOT / "node_modules" / "twilio" / "package.json"
TWILIO_NODE_VERSION = json.loads((ROOT / "package.json").read_text())["devDependencies"]["twilio"]
SMS_URL = "https://example.com/sms"


@pytest.fixture(scope="module")
def herald():
    with live_herald() as (url, account):
        yield url, account


def client_for(url: str, account: dict):
    return sdk.client_for(url, account["account_sid"], account["auth_token"])


@pytest.fixture(scope="module")
def client(herald):
    url, account = herald
    return client_for(url, account)


# --- twilio-python ----------------------------------------------------------------------------


def test_python_register_fetch_list_update_delete(client):
    number = client.incoming_phone_numbers.create(
        phone_number="+14155550170", sms_url=SMS_URL, friendly_name="python"
    )
    assert number.sid.startswith("PN") and len(number.sid) == 34
    assert number.phone_number == "+14155550170"
    assert (number.sms_url, number.sms_method) == (SMS_URL, "POST")
    assert number.capabilities == {"voice": False, "sms": True, "mms": True, "fax": False}
    assert isinstance(number.date_created, datetime)
    assert number.origin == "hosted" and number.status == "in-use"

    fetched = client.incoming_phone_numbers(number.sid).fetch()
    assert (fetched.sid, fetched.friendly_name) == (number.sid, "python")
    assert [n.sid for n in client.incoming_phone_numbers.list(phone_number="+14155550170")] == [
        number.sid
    ]
    assert [n.sid for n in client.incoming_phone_numbers.list(friendly_name="python")] == [
        number.sid
    ]
    assert client.incoming_phone_numbers.list(phone_number="+19995550170") == []

    changed = client.incoming_phone_numbers(number.sid).update(
        sms_method="GET", sms_fallback_url="https://example.com/fallback", voice_url=SMS_URL
    )
    assert (changed.sms_method, changed.sms_fallback_url) == ("GET", "https://example.com/fallback")
    assert changed.voice_url is None  # voice settings are accepted and ignored
    assert client.incoming_phone_numbers(number.sid).delete() is True
    with pytest.raises(TwilioRestException) as missing:
        client.incoming_phone_numbers(number.sid).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)


def test_python_pages_and_streams(client):
    made = [
        client.incoming_phone_numbers.create(phone_number=f"+1415555018{i}").sid for i in range(5)
    ]
    listed = [n.sid for n in client.incoming_phone_numbers.list(phone_number="+141555501*")]
    assert listed == sorted(made, reverse=True)
    paged = [n.sid for n in client.incoming_phone_numbers.list(page_size=2, limit=4)]
    assert len(paged) == 4 and len(set(paged)) == 4
    streamed = [n.sid for n in client.incoming_phone_numbers.stream(page_size=1, limit=3)]
    assert streamed == paged[:3]
    first = client.incoming_phone_numbers.page(page_size=2)
    second = first.next_page()
    assert {n.sid for n in first}.isdisjoint({n.sid for n in second})
    for sid in made:
        assert client.incoming_phone_numbers(sid).delete() is True


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"area_code": "415"}, 21452),
        ({"phone_number": "4155550100"}, 21421),
        ({"phone_number": "+14155550190", "sms_url": "not a url"}, 21502),
        ({"phone_number": "+14155550190", "sms_method": "PUT"}, 20001),
    ],
)
def test_python_refusals_raise_twilio_rest_exception(client, kwargs, code):
    with pytest.raises(TwilioRestException) as error:
        client.incoming_phone_numbers.create(**kwargs)
    assert (error.value.status, error.value.code) == (400, code)


def test_python_a_registered_number_is_refused_to_everyone(herald, client):
    import admin

    url, _ = herald
    number = client.incoming_phone_numbers.create(phone_number="+14155550191")
    other = client_for(url, admin.create_account())
    for who in (client, other):
        with pytest.raises(TwilioRestException) as error:
            who.incoming_phone_numbers.create(phone_number="+14155550191")
        assert (error.value.status, error.value.code) == (400, 21422)
    with pytest.raises(TwilioRestException) as error:
        other.incoming_phone_numbers(number.sid).fetch()
    assert error.value.code == 20404
    assert client.incoming_phone_numbers(number.sid).delete() is True
    assert other.incoming_phone_numbers.create(phone_number="+14155550191").sid != number.sid


def test_many_clients_registering_one_number_over_http_exactly_one_wins(herald):
    """The live server is several threads on a DynamoDB that applies each request atomically:
    eight accounts registering one number at once get one 201 and seven 21422."""
    import admin

    url, _ = herald
    clients = [client_for(url, admin.create_account()) for _ in range(8)]
    barrier = threading.Barrier(len(clients), timeout=30)
    outcomes: list = [None] * len(clients)

    def register(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = clients[i].incoming_phone_numbers.create(phone_number="+14155550192").sid
        except TwilioRestException as error:
            outcomes[i] = error.code

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [o for o in outcomes if isinstance(o, str)]
    assert len(won) == 1, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, str)) == [21422] * 7
    owners = [c for c in clients if c.incoming_phone_numbers.list(phone_number="+14155550192")]
    assert len(owners) == 1


# --- twilio-node ------------------------------------------------------------------------------


def node_unavailable_reason() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "twilio-node needs Node.js: `node` is not on PATH"
    if not TWILIO_NODE.exists():
        return f"twilio-node is not installed: run `make dynalite` (npm ci) to get {TWILIO_NODE}"
    installed = json.loads(TWILIO_NODE.read_text())["version"]
    if installed != TWILIO_NODE_VERSION:
        return f"twilio-node {installed} is installed, not the pinned {TWILIO_NODE_VERSION}"
    return None


@pytest.fixture(scope="module")
def node():
    reason = node_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the twilio-node tests: {reason}", pytrace=False)
        pytest.skip(reason)
    return shutil.which("node")


@pytest.fixture(scope="module")
def node_report(node, herald) -> dict:
    url, account = herald
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_EDGE", "TWILIO_REGION")}
    numbers = ["+14155550160", "+14155550161", "+14155550162"]
    result = subprocess.run(
        [node, str(NODE_SCRIPT), url, account["account_sid"], account["auth_token"], *numbers],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_node_incoming_phone_numbers(node_report):
    seen = node_report["incomingPhoneNumbers"]
    created = seen["created"]
    assert created["sid"].startswith("PN") and created["phoneNumber"] == "+14155550160"
    assert (created["smsUrl"], created["smsMethod"], created["friendlyName"]) == (
        SMS_URL,
        "POST",
        "node",
    )
    assert created["capabilities"] == {"voice": False, "sms": True, "mms": True, "fax": False}
    assert created["dateCreated"].endswith("Z")
    assert seen["fetched"] == created
    assert seen["listed"] == seen["byName"] == [created["sid"]]
    assert seen["duplicate"]["status"] == 400 and seen["duplicate"]["code"] == 21422
    assert seen["areaCode"]["code"] == 21452
    everything = sorted([created["sid"], *seen["more"]], reverse=True)
    assert seen["paged"] == everything
    assert seen["pages"] == [everything[:2], everything[2:]]
    updated = seen["updated"]
    assert (updated["smsUrl"], updated["smsMethod"]) == ("https://example.com/sms2", "GET")
    assert updated["statusCallback"] == "https://example.com/status"
    assert seen["removed"] is True  # twilio-node says true only for exactly 204
    assert seen["missing"]["status"] == 404 and seen["missing"]["code"] == 20404
    assert seen["afterRemove"] == []


def test_node_messages(node_report):
    seen = node_report["messages"]
    created = seen["created"]
    assert created["sid"].startswith("SM") and created["status"] == "queued"
    assert (created["to"], created["from"], created["body"]) == (
        "+14155550100",
        "+15005550006",
        "Hello from node",
    )
    assert seen["settled"]["status"] == "delivered" and seen["settled"]["dateSent"]
    assert created["sid"] in seen["listed"]
    assert seen["redacted"]["body"] == ""
    assert seen["removed"] is True
    assert seen["missing"]["code"] == 20404
    assert seen["invalid"]["status"] == 400 and seen["invalid"]["code"] == 21211


def test_node_lists_a_burst_whole_without_waiting(node_report):
    seen = node_report["burst"]
    newest_first = seen["made"][::-1]
    assert len(set(seen["made"])) == 5
    assert seen["listed"] == seen["each"] == seen["fromSender"] == newest_first


def test_node_media_and_feedback(node_report):
    seen = node_report["mediaAndFeedback"]
    sid = seen["created"]["sid"]
    assert sid.startswith("MM") and seen["created"]["numMedia"] == "2"
    assert sorted(m["contentType"] for m in seen["media"]) == ["image/jpeg", "image/png"]
    assert {m["parentSid"] for m in seen["media"]} == {sid}
    assert seen["fetched"] == seen["media"][0]
    assert seen["removed"] is True
    assert seen["after"] == [m["sid"] for m in seen["media"][1:]]
    feedback = seen["feedback"]
    assert (feedback["messageSid"], feedback["outcome"]) == (sid, "unconfirmed")
