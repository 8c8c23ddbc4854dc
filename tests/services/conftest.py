"""Messaging Services test helpers: the messaging/v1 paths on the in-process client, and
Twilio's schema for the resource (vendored in tests/contract/)."""

import json
import re
from pathlib import Path

import pytest

from chalicelib.services import pool
from tests.conftest import body
from tests.oas import Document, errors_of

CONTRACT = Path(__file__).parent.parent / "contract" / "twilio_messaging_v1_services.json"
TWILIO = Document(json.loads(CONTRACT.read_text(encoding="utf-8")))
SERVICES = "/v1/Services"
SERVICE = "/v1/Services/{Sid}"
NUMBERS = "/v1/Services/{ServiceSid}/PhoneNumbers"
NUMBER = "/v1/Services/{ServiceSid}/PhoneNumbers/{Sid}"
ALPHAS = "/v1/Services/{ServiceSid}/AlphaSenders"
ALPHA = "/v1/Services/{ServiceSid}/AlphaSenders/{Sid}"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
COMPONENTS = {
    "service": "messaging.v1.service",
    "phone_number": "messaging.v1.service.phone_number",
    "alpha_sender": "messaging.v1.service.alpha_sender",
}


META = {"page", "page_size", "first_page_url", "previous_page_url", "next_page_url", "key", "url"}


def assert_twilio(path: str, method: str, status: int, data: dict, kind: str) -> dict:
    """`data` is what Twilio's description says `method path` answers with `status`: its
    schema; each record exactly the properties of Twilio's `kind` (a key of COMPONENTS),
    with ISO 8601 dates; a page exactly its records and `meta`."""
    schema = TWILIO.response_schema(path, method, status)
    assert errors_of(TWILIO.validator(schema), data) == []
    records = [data]
    if "meta" in data:
        assert set(data["meta"]) == META
        assert set(data) == {"meta", data["meta"]["key"]}
        records = data[data["meta"]["key"]]
    expected = TWILIO.properties(TWILIO.component(COMPONENTS[kind]))
    for record in records:
        assert set(record) == expected
        for name in ("date_created", "date_updated"):
            assert ISO.match(record[name]), record[name]
    return data


class V1:
    """messaging/v1 on tests.conftest.Api: paths under the /messaging prefix."""

    def __init__(self, api, host: str = "herald.test"):
        self.api = api
        self.host = host
        self.base = f"http://{host}/messaging"

    def request(self, method: str, path: str, params=None, auth=True, headers=None):
        headers = {"Host": self.host, **(headers or {})}
        return self.api.request(method, "/messaging" + path, params=params, auth=auth,
                                headers=headers)  # fmt: skip

    def create(self, **params):
        return self.request("POST", SERVICES, params={"FriendlyName": "svc", **params})

    def made(self, **params) -> dict:
        response = self.create(**params)
        assert response.status_code == 201, response.body
        return body(response)

    def fetch(self, sid):
        return self.request("GET", f"{SERVICES}/{sid}")

    def update(self, sid, **params):
        return self.request("POST", f"{SERVICES}/{sid}", params=params)

    def delete(self, sid):
        return self.request("DELETE", f"{SERVICES}/{sid}")

    def list(self, query: str = ""):
        return self.request("GET", SERVICES + (f"?{query}" if query else ""))

    def add_number(self, service_sid, number_sid):
        path = f"{SERVICES}/{service_sid}/PhoneNumbers"
        return self.request("POST", path, params={"PhoneNumberSid": number_sid})

    def senders(self, service_sid, kind="PhoneNumbers", query=""):
        path = f"{SERVICES}/{service_sid}/{kind}" + (f"?{query}" if query else "")
        return self.request("GET", path)


@pytest.fixture
def v1(api):
    pool.forget()
    return V1(api)


@pytest.fixture
def other_v1(other_api):
    return V1(other_api)


def register(api, phone_number: str) -> str:
    """Register `phone_number` as one of the account's IncomingPhoneNumbers; its PN Sid."""
    response = api.request(
        "POST", api.base + "/IncomingPhoneNumbers.json", params={"PhoneNumber": phone_number}
    )
    assert response.status_code == 201, response.body
    return body(response)["sid"]
