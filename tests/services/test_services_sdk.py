"""The official SDKs provisioning and sending through Messaging Services against a live
Herald (tests.conftest.live_herald): twilio-python (`client.messaging.base_url`) and
twilio-node (`client.messaging.baseUrl`, tests/system/services_check.js), each pointed at the
host's /messaging prefix: create a service, add numbers, send with only MessagingServiceSid,
see the chosen From, sticky across sends, status callbacks at the service's URL, v1 paging.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.conftest import live_herald
from tests.pipeline import receiver
from tests.system.test_sdk_numbers import node  # noqa: F401  (a fixture: node, or skip/fail)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = ROOT / "tests" / "system" / "services_check.js"
TO = "+14155550100"
FINAL = {"delivered", "undelivered", "failed", "canceled"}


@pytest.fixture(scope="module")
def herald():
    # Status callbacks go to a receiver on 127.0.0.1 (a private address a stage refuses).
    with live_herald(HERALD_ALLOW_PRIVATE_URLS="1") as (url, account):
        yield url, account


@pytest.fixture(scope="module")
def client(herald):
    url, account = herald
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):
        os.environ.pop(name, None)
    client = Client(account["account_sid"], account["auth_token"])
    client.api.base_url = url
    client.messaging.base_url = url + "/messaging"
    return client


def settled(client, sid: str):
    deadline = time.monotonic() + 15
    while True:
        message = client.messages(sid).fetch()
        if message.status in FINAL or time.monotonic() > deadline:
            return message
        time.sleep(0.05)


def test_python_provisions_a_service_and_sends_through_it(client):
    with receiver() as hook:
        service = client.messaging.v1.services.create(
            friendly_name="python", status_callback=hook.url + "/status"
        )
        assert service.sid.startswith("MG") and service.sticky_sender is True
        assert service.validity_period == 36000
        pool = []
        for phone_number in ("+12125550160", "+13105550160"):
            number = client.incoming_phone_numbers.create(phone_number=phone_number)
            added = client.messaging.v1.services(service.sid).phone_numbers.create(
                phone_number_sid=number.sid
            )
            assert (added.sid, added.phone_number, added.country_code) == (
                number.sid, phone_number, "US",
            )  # fmt: skip
            pool.append(phone_number)
        listed = client.messaging.v1.services(service.sid).phone_numbers.list()
        assert sorted(n.phone_number for n in listed) == sorted(pool)

        froms = []
        for i in range(3):
            created = client.messages.create(
                to=TO, body=f"hello {i}", messaging_service_sid=service.sid
            )
            assert (created.status, created.from_) == ("accepted", None)
            done = settled(client, created.sid)
            assert done.status == "delivered" and done.messaging_service_sid == service.sid
            froms.append(done.from_)
        assert froms[0] in pool and set(froms) == {froms[0]}, "sticky across sends"
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and len([r for r in hook.requests if r.form.get("MessageStatus") == "delivered"]) < 3
        ):
            time.sleep(0.05)
        delivered = [r for r in hook.requests if r.form.get("MessageStatus") == "delivered"]
        assert len(delivered) == 3 and {r.form["From"] for r in delivered} == {froms[0]}
        assert {r.form["MessagingServiceSid"] for r in hook.requests} == {service.sid}


def test_python_pages_updates_and_deletes(client):
    made = [client.messaging.v1.services.create(friendly_name=f"p{i}").sid for i in range(3)]
    paged = [s.sid for s in client.messaging.v1.services.list(page_size=1)]
    assert set(made) <= set(paged) and len(paged) == len(set(paged))
    updated = client.messaging.v1.services(made[0]).update(sticky_sender=False, validity_period=600)
    assert (updated.sticky_sender, updated.validity_period) == (False, 600)
    assert client.messaging.v1.services(made[0]).delete() is True
    with pytest.raises(TwilioRestException) as missing:
        client.messaging.v1.services(made[0]).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as scheduled:
        client.messages.create(
            to=TO, from_="+15005550006", body="x", schedule_type="fixed",
            send_at="2030-01-01T00:00:00Z",
        )  # fmt: skip
    assert scheduled.value.code == 35118


def test_node_provisions_a_service_and_sends_through_it(node, herald):  # noqa: F811
    url, account = herald
    with receiver() as hook:
        result = subprocess.run(
            [
                node, str(NODE_SCRIPT), url, account["account_sid"], account["auth_token"],
                hook.url + "/status", "+12125550180", "+13105550180",
            ],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout)
        assert seen["service"]["stickySender"] is True
        assert seen["service"]["url"].startswith(url + "/messaging/v1/Services/MG")
        assert [a["countryCode"] for a in seen["added"]] == ["US", "US"]
        assert sorted(seen["listed"]) == sorted(a["sid"] for a in seen["added"])
        sends = seen["sends"]
        assert {(s["createdStatus"], s["createdFrom"]) for s in sends} == {("accepted", None)}
        assert {s["status"] for s in sends} == {"delivered"}
        froms = {s["from"] for s in sends}
        assert len(froms) == 1 and froms <= {"+12125550180", "+13105550180"}
        assert len(seen["paged"]) == len(set(seen["paged"])) >= 3
        assert seen["updated"] is False
        assert seen["missing"] == {"status": 404, "code": 20404}
        assert seen["removed"] is True
        # Each send's callbacks at the service's StatusCallback, from the number chosen.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            len([r for r in hook.requests if r.form.get("MessageStatus") == "delivered"]) < 3
        ):
            time.sleep(0.05)
        delivered = [r for r in hook.requests if r.form.get("MessageStatus") == "delivered"]
        assert sorted(r.form["MessageSid"] for r in delivered) == sorted(s["sid"] for s in sends)
        assert {r.form["From"] for r in delivered} == froms
        assert {r.form["MessagingServiceSid"] for r in hook.requests} == {seen["service"]["sid"]}
