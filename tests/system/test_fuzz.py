"""Contract fuzzing with schemathesis against a real `chalice local` process.

Two documents drive it: Herald's own (chalicelib/openapi.json) and Twilio's
(tests/contract/twilio_api_v2010_messages.json, restricted to Messages.json and
Messages/{Sid}.json). Every request carries valid Basic credentials and the authenticated
account's SID in the path, and most Sids in the path name live messages of that account, so
the requests reach the real handlers instead of stopping at 401 or 404.

What must hold for every response: no 5xx; a documented success status with a body that
conforms to the operation's schema; every property of Twilio's Message JSON and no other; and
every 4xx is Twilio's error JSON with `status` equal to the HTTP status. Twilio's document lists
only success responses, so its 4xx are judged by that last check alone.

Generation is bounded and reproducible: a fixed example count per operation, derandomized
Hypothesis and a fixed schemathesis seed. Each test counts the requests it actually sent into
the module's tally, which prints the figures (requests per document and status codes) at the
module's end and, when all its fuzz tests ran (in any order), asserts there were at least
MIN_REQUESTS, none a 5xx, most reaching the handlers.
"""

import base64
import json
import re
import string
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from tests.conftest import live_herald
from tests.oas import TWILIO_DOCUMENT, Document, errors_of, twilio_error_problems

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
HERALD_DOCUMENT = ROOT / "chalicelib" / "openapi.json"
MESSAGE_PATHS = r"^/2010-04-01/Accounts/\{AccountSid\}/Messages(\.json|/\{Sid\}\.json)$"
SEED = 20100401
EXAMPLES_PER_OPERATION = 40
STATEFUL_EXAMPLES = 20
MIN_REQUESTS = 1000
TIMEOUT = 10

TO = "+14155550100"
FROM = "+15005550006"
URL = "https://example.com/sms"
# Valid addresses (so that creates get past validation) and a few that are not.
ADDRESSES = [
    TO, FROM, "+14155550123", "+447911123456", "+4915112345678", "+61491570156",
    "whatsapp:+14155550100", "Herald", "ACME 2024",
]  # fmt: skip

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
CONFIG = {
    "seed": SEED,
    "generation": {"mode": "all", "deterministic": True, "database": "none"},
    # Phases: Herald's and Twilio's examples, the deterministic coverage cases (boundaries,
    # missing and malformed parameters, undocumented methods), then random fuzzing.
    # OPTIONS and TRACE never reach Herald under `chalice local`: it answers OPTIONS itself
    # (a CORS preflight, 200) and TRACE with its HTTP server's own 501 page.
    "phases": {"coverage": {"unexpected-methods": ["DELETE", "PATCH", "POST", "PUT"]}},
}
# Twilio's document says `format: uri` for page URIs that Twilio itself sends relative (see
# its own examples), and names formats of its own (date-time-rfc-2822, phone-number): its
# formats are checked by `formats_as_documented` instead, which reads them as Twilio means them.
TWILIO_CONFIG = {**CONFIG, "checks": {"response_schema_conformance": {"validate-formats": False}}}


def address_values():
    return st.one_of(
        st.sampled_from(ADDRESSES),
        st.sampled_from(ADDRESSES).map(lambda a: a.replace("+1", "+1 ", 1)),
        st.text(string.printable, max_size=16),
    )


def send_at_values():
    """ISO 8601 instants: mostly inside Herald's scheduling window, some outside it."""
    offset = st.one_of(
        st.integers(min_value=301, max_value=35 * 24 * 3600),
        st.integers(min_value=-(10**9), max_value=10**9),
    )
    return offset.map(lambda seconds: (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat())


schemathesis.openapi.format("phone-number", address_values())
schemathesis.openapi.format("date-time", send_at_values())

HERALD = schemathesis.openapi.from_path(
    HERALD_DOCUMENT, config=schemathesis.Config.from_dict(CONFIG)
)
TWILIO = schemathesis.openapi.from_path(
    TWILIO_DOCUMENT, config=schemathesis.Config.from_dict(TWILIO_CONFIG)
).include(path_regex=MESSAGE_PATHS)


# --- counting ---------------------------------------------------------------------------------


class Tally:
    """Requests actually sent, per document and status code."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = {"herald": Counter(), "twilio": Counter()}
        self.operations: dict[str, Counter] = {"herald": Counter(), "twilio": Counter()}
        self.stateful = 0
        self.ran: set[str] = set()  # the tests whose requests are counted in

    def add(self, document: str, label: str, status: int, stateful: bool = False) -> None:
        with self.lock:
            self.statuses[document][status] += 1
            self.operations[document][label] += 1
            self.stateful += stateful

    def total(self, document: str | None = None) -> int:
        documents = [document] if document else list(self.statuses)
        return sum(sum(self.statuses[d].values()) for d in documents)

    def report(self) -> str:
        lines = [f"schemathesis: {self.total()} requests sent to chalice local"]
        for document, statuses in self.statuses.items():
            codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
            lines.append(f"  {document} document: {self.total(document)} requests ({codes})")
            if document == "herald":
                lines.append(f"    of which {self.stateful} in stateful (linked) sequences")
            for label, n in sorted(self.operations[document].items()):
                lines.append(f"    {label}: {n}")
        return "\n".join(lines)

    def merge(self, other: "Tally") -> None:
        with self.lock:
            for document in self.statuses:
                self.statuses[document].update(other.statuses[document])
                self.operations[document].update(other.operations[document])
            self.stateful += other.stateful

    def judge(self) -> None:
        """What the module's requests must show, all of them together: enough sent, no 5xx,
        and most reaching the handlers (one operation alone may answer mostly 400 or 404)."""
        assert self.total() >= MIN_REQUESTS, self.report()
        for document in ("herald", "twilio"):
            statuses, total = self.statuses[document], self.total(document)
            assert not [code for code in statuses if code >= 500], self.report()
            # The credentials and the AccountSid are right, so a 401 comes only from the
            # cases that drop the Authorization header on purpose.
            assert statuses[401] < total / 5, self.report()
            # Most Sids in paths are live messages, and a good share of creates are valid.
            assert sum(n for code, n in statuses.items() if code < 300) > total / 6, self.report()


CURRENT: dict[str, Tally] = {}  # the running test's tally, for the stateful machine


def items_of(node: pytest.Collector):
    for child in node.collect():
        yield from [child] if isinstance(child, pytest.Item) else items_of(child)


@pytest.fixture(scope="module")
def module_tally(herald, request):
    """Every fuzz test's requests together, printed and judged at the module's end when all of
    the module's fuzz tests ran (whatever their order); under -k, a part of them says nothing
    about the whole, and each test has judged its own responses case by case."""
    tally = Tally()
    yield tally
    # All the module's fuzz tests, as collected before any -k or -m deselected some.
    fuzzing = {item.name for item in items_of(request.node) if "tally" in item.fixturenames}
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print(f"\n{tally.report()}\n  (plus {herald.setup_requests} setup creates for the pool)")
        if tally.ran != fuzzing:
            print(f"  (not judged as a whole: {len(tally.ran)} of {len(fuzzing)} fuzz tests ran)")
            return
    tally.judge()


@pytest.fixture(autouse=True)
def tally(module_tally, request):
    """The requests this test sends, counted into the module's."""
    tally = CURRENT["tally"] = Tally()
    yield tally
    del CURRENT["tally"]
    assert tally.total() > 0, "the test sent no request"
    module_tally.merge(tally)
    module_tally.ran.add(request.node.name)


# --- the server -------------------------------------------------------------------------------


class Herald:
    """A live `chalice local` with one account and a pool of that account's messages."""

    def __init__(self, url: str, account: dict):
        self.url = url
        self.account_sid = account["account_sid"]
        token = f"{account['account_sid']}:{account['auth_token']}".encode()
        # A fresh connection per request, closed after it: chalice local writes a response's
        # headers and body separately, and on a kept-alive connection Nagle's algorithm and
        # the client's delayed ACK then hold every response back by about 40 ms.
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(token).decode(),
            "Connection": "close",
        }
        self.pool: list[str] = []
        # Live IncomingPhoneNumbers of the account, and the numbers they were registered with.
        self.number_pool: list[str] = []
        self.registered = 0
        self.setup_requests = 0
        # Live Messaging Services of the account (scheduling needs one, as on Twilio), and
        # live senders in them: (service, number) and (service, alpha sender) pairs.
        self.service_pool: list[str] = []
        self.senders: dict[str, list[tuple[str, str]]] = {"PhoneNumbers": [], "AlphaSenders": []}
        # Counts the messaging cases aimed: every 4th keeps what was generated (the 404s and
        # 400s), the others are aimed at live services and senders, or given a plain body.
        self.aimed = 0

    def create(self, index: int) -> str:
        params = {"To": TO, "From": FROM, "Body": f"pool {index}"}
        if index % 3 == 1:  # scheduled, so that a cancel can succeed
            send_at = datetime.now(UTC) + timedelta(hours=1)
            params.update(ScheduleType="fixed", SendAt=send_at.isoformat())
            params["MessagingServiceSid"] = self.service_pool[0]
        if index % 4 == 2:
            params["MediaUrl"] = "https://example.com/a.png"
        response = requests.post(
            f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages.json",
            data=params,
            headers=self.headers,
            timeout=TIMEOUT,
        )
        self.setup_requests += 1
        assert response.status_code == 201, response.text
        return response.json()["sid"]

    def register(self) -> str:
        """Register a number no fuzzed create uses (+1 415 555 02xx, then 03xx, …)."""
        self.registered += 1
        response = requests.post(
            f"{self.url}/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers.json",
            data={"PhoneNumber": f"+1415555{200 + self.registered:04d}", "SmsUrl": URL},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        self.setup_requests += 1
        assert response.status_code == 201, response.text
        return response.json()["sid"]

    def make_service(self) -> str:
        response = requests.post(
            f"{self.url}/messaging/v1/Services",
            data={"FriendlyName": "fuzz"},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        self.setup_requests += 1
        assert response.status_code == 201, response.text
        return response.json()["sid"]

    def add_sender(self, service: str, kind: str, value: str) -> None:
        name = "PhoneNumberSid" if kind == "PhoneNumbers" else "AlphaSender"
        response = requests.post(
            f"{self.url}/messaging/v1/Services/{service}/{kind}",
            data={name: value},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        self.setup_requests += 1
        assert response.status_code == 201, response.text
        self.senders[kind].append((service, response.json()["sid"]))

    def fill_pool(self, size: int = 24, numbers: int = 12, services: int = 6) -> None:
        self.service_pool = [self.make_service() for _ in range(services)]
        self.pool = [self.create(i) for i in range(size)]
        self.number_pool = [self.register() for _ in range(numbers)]
        # Senders the fuzzer's reads and removals can find: numbers of their own (not in the
        # number pool, whose deletes and updates are fuzzed apart), one alpha each.
        for index, service in enumerate(self.service_pool):
            self.add_sender(service, "PhoneNumbers", self.register())
            self.add_sender(service, "AlphaSenders", f"Fuzz {index}")

    def aim(self, case, swap_sids: bool = True) -> None:
        """Point the case at this account, and most message Sids at live messages."""
        parameters = case.path_parameters
        if parameters is None:
            return
        if "AccountSid" in parameters:
            parameters["AccountSid"] = self.account_sid
        if not swap_sids:
            return
        self._aim_number_body(case)
        if case.path.startswith("/messaging/"):
            self._aim_messaging(case, parameters)
            return
        # A well-formed generated Sid is swapped for a live one 3 times in 4; the others
        # (and every malformed one) stay, to exercise the 404 paths too.
        for name, pattern, pool in (
            ("Sid", r"(SM|MM)[0-9a-fA-F]{32}", self.pool),
            ("Sid", r"PN[0-9a-fA-F]{32}", self.number_pool),
        ):
            value = parameters.get(name)
            if isinstance(value, str) and re.fullmatch(pattern, value):
                choice = int(value[-2:], 16)
                if choice % 4:
                    parameters[name] = pool[choice % len(pool)]

    def _aim_messaging(self, case, parameters: dict) -> None:
        """Most messaging/v1 cases at a live service (and a live sender of it), most creates
        and updates of a service with a body it takes."""
        self.aimed += 1
        if not self.aimed % 4:
            return
        for kind, pairs in self.senders.items():
            if f"/{kind}/{{Sid}}" in case.path and pairs:
                parameters["ServiceSid"], parameters["Sid"] = pairs[self.aimed % len(pairs)]
                return
        for name in ("Sid", "ServiceSid"):
            if name in parameters and self.service_pool:
                parameters[name] = self.service_pool[self.aimed % len(self.service_pool)]
        plain = case.path in ("/messaging/v1/Services", "/messaging/v1/Services/{Sid}")
        if plain and case.method.upper() == "POST" and self.aimed % 2:
            case.body = {"FriendlyName": f"fuzz {self.aimed}"}

    def _aim_number_body(self, case) -> None:
        """A number's update may name its own account only, and a create succeeds only with a
        number no account has: give most such cases those (the rest stay, for the 400s)."""
        body = case.body if isinstance(case.body, dict) else None
        if body is None or "/IncomingPhoneNumbers" not in case.path:
            return
        choice = len(json.dumps(body, default=str)) % 4
        if "AccountSid" in body and choice:
            body["AccountSid"] = self.account_sid
        if case.path.endswith("/IncomingPhoneNumbers.json") and choice:
            self.registered += 1
            body["PhoneNumber"] = f"+1415555{200 + self.registered:04d}"

    def after(self, case, response) -> None:
        """A deleted pool message is replaced, so the pool stays live."""
        sid = (case.path_parameters or {}).get("Sid")
        if case.method.upper() == "DELETE" and response.status_code == 204 and sid in self.pool:
            self.pool[self.pool.index(sid)] = self.create(len(self.pool))
        deleted = case.method.upper() == "DELETE" and response.status_code == 204
        if deleted and sid in self.number_pool:
            self.number_pool[self.number_pool.index(sid)] = self.register()
        if deleted and sid in self.service_pool:
            self.service_pool[self.service_pool.index(sid)] = self.make_service()
        for kind, pairs in self.senders.items():
            pair = ((case.path_parameters or {}).get("ServiceSid"), sid)
            if deleted and f"/{kind}/" in case.path and pair in pairs:
                pairs.remove(pair)  # gone: the service's other senders stay to be found


@pytest.fixture(scope="module")
def herald():
    """A live Herald (embedded DynamoDB + chalice local); everything it starts is stopped.
    Without the delivery pipeline (no send queue: devtools/local_workers.py starts no
    workers), so that every answer depends only on the requests sent before it, never on how
    far the pipeline has got. Hypothesis draws each step from the answers before it (the
    stateful test's links follow a 201 or a 200) and expects the same answers when it draws
    a similar sequence again; with the pipeline on, a loaded machine answered differently
    and the stateful test stopped with FlakyStrategyDefinition. The API's answers while
    the pipeline moves messages are tested in tests/delivery and test_races.py."""
    with live_herald(HERALD_SEND_QUEUE_URL="") as (url, account):
        live = Herald(url, account)
        live.fill_pool()
        yield live


# --- checks -----------------------------------------------------------------------------------


def _json_body(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def twilio_error_json(ctx, response, case):
    """Every 4xx is Twilio's error JSON (code, message, more_info, status [+ detail])."""
    if 400 <= response.status_code < 500:
        problems = twilio_error_problems(_json_body(response), response.status_code)
        if problems:
            raise AssertionError(f"{response.status_code} is not Twilio's error JSON: {problems}")
        content_type = response.headers.get("content-type", [""])[0]
        if not content_type.startswith("application/json"):
            raise AssertionError(f"a {response.status_code} answered as {content_type!r}")


def documented_success_status(ctx, response, case):
    """A 2xx or 3xx must be the success status the document gives the operation."""
    if response.status_code < 400:
        documented = {str(code) for code in case.operation.responses.status_codes}
        if str(response.status_code) not in documented:
            raise AssertionError(
                f"{response.status_code} is not a documented status ({sorted(documented)})"
            )


def _twilio_properties(name: str, component: str, list_path: str) -> tuple[set, set]:
    document = json.loads((TWILIO_DOCUMENT.parent / name).read_text(encoding="utf-8"))
    resource = document["components"]["schemas"][component]
    page = document["paths"][list_path]["get"]
    page = page["responses"]["200"]["content"]["application/json"]["schema"]
    return set(resource["properties"]), set(page["properties"])


def _services_properties(component: str, list_path: str, key: str) -> tuple[str, set, set]:
    document = json.loads(
        (TWILIO_DOCUMENT.parent / "twilio_messaging_v1_services.json").read_text(encoding="utf-8")
    )
    resource = document["components"]["schemas"][component]
    page = document["paths"][list_path]["get"]
    page = page["responses"]["200"]["content"]["application/json"]["schema"]
    return key, set(resource["properties"]), set(page["properties"])


# The resources whose JSON Twilio's schemas fix: a path fragment -> (the list key, the
# resource's properties, a page's keys). The first fragment the path holds is the one.
TWILIO_KEYS = {
    "/PhoneNumbers": _services_properties(
        "messaging.v1.service.phone_number",
        "/v1/Services/{ServiceSid}/PhoneNumbers",
        "phone_numbers",
    ),
    "/AlphaSenders": _services_properties(
        "messaging.v1.service.alpha_sender",
        "/v1/Services/{ServiceSid}/AlphaSenders",
        "alpha_senders",
    ),
    "/ShortCodes": _services_properties(
        "messaging.v1.service.short_code", "/v1/Services/{ServiceSid}/ShortCodes", "short_codes"
    ),
    "/messaging/v1/Services": _services_properties(
        "messaging.v1.service", "/v1/Services", "services"
    ),
    "/IncomingPhoneNumbers": (
        "incoming_phone_numbers",
        *_twilio_properties(
            "twilio_api_v2010_incoming_phone_numbers.json",
            "api.v2010.account.incoming_phone_number",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        ),
    ),
    "/Messages": (
        "messages",
        *_twilio_properties(
            TWILIO_DOCUMENT.name,
            "api.v2010.account.message",
            "/2010-04-01/Accounts/{AccountSid}/Messages.json",
        ),
    ),
}


def exact_twilio_keys(ctx, response, case):
    """A Message or an IncomingPhoneNumber has exactly the properties of Twilio's schema; a
    page, exactly its keys."""
    if not 200 <= response.status_code < 300 or response.status_code == 204:
        return
    body = _json_body(response)
    if not isinstance(body, dict) or case.path == "/openapi.json":
        return
    fragment = next((f for f in TWILIO_KEYS if f in case.path), "/Messages")
    list_key, resource_keys, page_keys = TWILIO_KEYS[fragment]
    resources = [body]
    if list_key in body:
        if set(body) != page_keys:
            raise AssertionError(f"page keys {sorted(set(body) ^ page_keys)} differ")
        resources = body[list_key]
    for resource in resources:
        if set(resource) != resource_keys:
            raise AssertionError(
                f"{fragment[1:]} keys {sorted(set(resource) ^ resource_keys)} differ"
            )


def formats_as_documented(path: Path):
    """The body validates against the operation's schema for the status, formats included
    (RFC 2822 GMT dates, E.164 addresses, relative URIs: see tests/oas.py)."""
    document = Document(json.loads(path.read_text(encoding="utf-8")))
    validators: dict = {}

    def check(ctx, response, case):
        key = (case.path, case.method.lower(), str(response.status_code))
        if key not in validators:
            operation = document.document["paths"].get(case.path, {}).get(case.method.lower())
            declared = (operation or {}).get("responses", {}).get(key[2])
            if declared and "$ref" in declared:
                declared = document.resolve(declared["$ref"])
            schema = (declared or {}).get("content", {}).get("application/json", {}).get("schema")
            validators[key] = document.validator(schema) if schema else None
        if validators[key] is not None:
            problems = errors_of(validators[key], _json_body(response))
            if problems:
                raise AssertionError("response breaks the schema: " + "; ".join(problems))

    check.__name__ = f"formats_as_documented_in_{path.stem}"
    return check


# Not used: positive_data_acceptance and negative_data_rejection. Herald enforces rules a
# schema cannot state (a valid phone number, a live PageToken, a message's state), and every
# case is re-aimed at the authenticated account, which voids schemathesis' notion of which
# requests are "invalid".
HERALD_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_header_conformance,
    use_after_free,
    ensure_resource_availability,
    formats_as_documented(HERALD_DOCUMENT),
    twilio_error_json,
    exact_twilio_keys,
]
# Twilio's document lists only success responses: status and schema checks for those, and
# Twilio's error JSON for the 4xx it leaves out.
TWILIO_CHECKS = [
    not_a_server_error,
    documented_success_status,
    response_schema_conformance,
    formats_as_documented(TWILIO_DOCUMENT),
    twilio_error_json,
    exact_twilio_keys,
]


def exercise(herald: Herald, tally: Tally, case, document: str, checks) -> None:
    herald.aim(case)
    response = case.call(base_url=herald.url, headers=herald.headers, timeout=TIMEOUT)
    tally.add(document, f"{case.method.upper()} {case.path}", response.status_code)
    herald.after(case, response)
    case.validate_response(response, checks=checks)


# --- the tests --------------------------------------------------------------------------------


@HERALD.parametrize()
@FUZZ_SETTINGS
def test_herald_document(herald, tally, case):
    exercise(herald, tally, case, "herald", HERALD_CHECKS)


@TWILIO.parametrize()
@FUZZ_SETTINGS
def test_twilio_document(herald, tally, case):
    exercise(herald, tally, case, "twilio", TWILIO_CHECKS)


def test_herald_document_stateful(herald):
    """Links in Herald's document chain create -> fetch / redact / cancel / delete."""

    class Machine(HERALD.as_state_machine()):
        def before_call(self, case):
            # A linked step's Sid is the one its create returned: keep it.
            herald.aim(case, swap_sids=False)

        def get_call_kwargs(self, case):
            return {
                "base_url": herald.url,
                "headers": herald.headers,
                "timeout": TIMEOUT,
            }

        def after_call(self, response, case):
            super().after_call(response, case)
            label = f"{case.method.upper()} {case.path}"
            CURRENT["tally"].add("herald", label, response.status_code, stateful=True)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, checks=HERALD_CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    # No shrinking: the server keeps what earlier examples made (a number registered, a
    # message redacted), so a replay of a failing sequence would not get the answers the
    # failing run got, and Hypothesis would report that (FlakyStrategyDefinition) instead
    # of the failure.
    Machine.run(
        settings=settings(
            FUZZ_SETTINGS,
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        )
    )
    tally = CURRENT["tally"]
    assert tally.stateful == tally.total("herald") > 0
