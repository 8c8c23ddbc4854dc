"""IncomingPhoneNumbers test helpers: the resource's paths on the in-process client, Twilio's
schema for it, and registering a number on a backend without transactions (dynalite)."""

import itertools
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from chalicelib import storage
from chalicelib.numbers.params import new_number
from chalicelib.storage import marshal, schema
from tests.conftest import body
from tests.oas import Document, errors_of

CONTRACT = (
    Path(__file__).parent.parent / "contract" / "twilio_api_v2010_incoming_phone_numbers.json"
)
LIST = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
INSTANCE = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json"
NUMBER = "api.v2010.account.incoming_phone_number"

TWILIO = Document(json.loads(CONTRACT.read_text(encoding="utf-8")))
NUMBER_PROPERTIES = TWILIO.properties(TWILIO.component(NUMBER))
PAGE_SCHEMA = TWILIO.response_schema(LIST, "GET", 200)
PAGE_PROPERTIES = TWILIO.properties(PAGE_SCHEMA)
VALIDATORS = TWILIO.resource_validators(LIST, INSTANCE, NUMBER, "number")


def assert_number(number: dict, operation: str = "number") -> dict:
    """`number` is Twilio's IncomingPhoneNumber JSON: its schema, and exactly its keys."""
    assert errors_of(VALIDATORS[operation], number) == []
    assert set(number) - NUMBER_PROPERTIES == set(), "properties Twilio's schema lacks"
    assert NUMBER_PROPERTIES - set(number) == set(), "properties of Twilio's schema missing"
    return number


def assert_page(page: dict) -> dict:
    assert errors_of(VALIDATORS["page"], page) == []
    assert set(page) == PAGE_PROPERTIES, "a page has exactly the keys of Twilio's schema"
    for number in page["incoming_phone_numbers"]:
        assert_number(number)
    return page


class Numbers:
    """The IncomingPhoneNumbers paths of one account, on tests.conftest.Api."""

    def __init__(self, api):
        self.api = api
        self.account_sid = api.account_sid
        self.base = api.base + "/IncomingPhoneNumbers"

    def create(self, **params):
        return self.api.request("POST", self.base + ".json", params=params)

    def fetch(self, sid):
        return self.api.request("GET", f"{self.base}/{sid}.json")

    def list(self, query: str = "", **params):
        query = query or urlencode(params)
        return self.api.request("GET", self.base + ".json" + (f"?{query}" if query else ""))

    def update(self, sid, **params):
        return self.api.request("POST", f"{self.base}/{sid}.json", params=params)

    def delete(self, sid):
        return self.api.request("DELETE", f"{self.base}/{sid}.json")

    def page(self, **params) -> dict:
        response = self.list(**params)
        assert response.status_code == 200, response.body
        return assert_page(body(response))

    def walk(self, page_size: int = 1, **params) -> "list[str]":
        """Every Sid of the list, following next_page_uri to the end."""
        seen, uri = [], f"{self.base}.json?{urlencode({**params, 'PageSize': page_size})}"
        while uri:
            response = self.api.request("GET", uri)
            assert response.status_code == 200, response.body
            page = assert_page(body(response))
            assert len(page["incoming_phone_numbers"]) <= page_size
            seen += [number["sid"] for number in page["incoming_phone_numbers"]]
            uri = page["next_page_uri"]
        return seen


# dynalite keeps one table for a whole module, and owner items are keyed by the number, so
# each test draws numbers no other test of the session uses: +1 415 <exchange> <last four>.
_EXCHANGES = itertools.count(200)


@pytest.fixture
def phone():
    """phone(n) -> an E.164 number of this test's own: +1415XXX then n in four digits."""
    exchange = next(_EXCHANGES)
    assert exchange < 1000, "out of exchanges: draw from another area code"
    return lambda last: f"+1415{exchange}{last:04d}"


@pytest.fixture
def numbers(api) -> Numbers:
    return Numbers(api)


@pytest.fixture
def other_numbers(other_api) -> Numbers:
    return Numbers(other_api)


@pytest.fixture
def backend(request) -> str:
    """The DynamoDB the test runs on: moto, or dynalite where the module's BACKENDS says so."""
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get("aws", "moto") if callspec else "moto"


@pytest.fixture
def register(backend):
    """register(numbers, PhoneNumber, **params) -> the number's JSON.

    Through the API where the backend has TransactWriteItems (moto). dynalite has not, so
    there the two items the create transaction would write are put one after the other,
    built by the same code (numbers.params and storage.schema): the reads under test see
    exactly what a create leaves."""

    def register_number(numbers: Numbers, phone_number: str, **params) -> dict:
        if backend != "dynalite":
            response = numbers.create(PhoneNumber=phone_number, **params)
            assert response.status_code == 201, response.body
            return assert_number(body(response), "create")
        number = new_number(
            numbers.account_sid,
            {"PhoneNumber": [phone_number], **{k: [v] for k, v in params.items()}},
        )
        fields = number.to_fields()
        for item in (schema.number_item(fields), schema.owner_item(fields)):
            storage.client.call(
                "put_item",
                Item=marshal.to_attrs(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        return number.to_json()

    return register_number
