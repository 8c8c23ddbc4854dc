"""Fixtures: moto (or dynalite) for DynamoDB, a fresh account per test, Chalice's test client."""

import base64
import contextlib
import json
import os
import re
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

# Never reach AWS: fake credentials and a fixed region, set before anything imports boto3.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    HERALD_TABLE_NAME="herald-test",
)
for _name in ("DYNAMODB_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

from moto import mock_aws  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

import admin  # noqa: E402
from chalicelib import storage  # noqa: E402
from chalicelib.accounts import credentials  # noqa: E402
from chalicelib.messages import checks  # noqa: E402
from chalicelib.runtime import clock as herald_clock  # noqa: E402
from chalicelib.storage import tokens  # noqa: E402
from chalicelib.twilio import errors  # noqa: E402
from devtools import dynalite, server  # noqa: E402

# `make test` spreads the suite over the machine's cores (pytest-xdist). A test file's tests
# run together on one worker: its module fixtures (a live Herald, the fuzzer's tally of every
# request its tests sent) are made once. So are each of these folders', whose session
# fixtures are costly: the deploy tests' packages, the inbox tests' Chromium.
TOGETHER = ("tests/deploy/", "tests/inbox/")
# Files of one test that takes seconds (the benchmarks' smoke runs): handed out first. Last,
# they kept one worker busy for a minute and more after the others had finished.
FIRST = ("tests/bench/",)


def scope_of(nodeid: str) -> str:
    """The tests that run together on one worker: a file, or a folder of TOGETHER."""
    path = nodeid.split("::", 1)[0]
    return next((folder for folder in TOGETHER if path.startswith(folder)), path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    # The order is the collection's (below), not xdist's own (the most tests first).
    config.option.loadscopereorder = False
    return ByFile(config, log)


def pytest_collection_modifyitems(items):
    """schemathesis names each operation's test `test_x[GET /path]`, but pytest 9 builds a
    test's id from the function's name and its parameters: every operation of a document
    had the same id, `test_x`, and pytest-xdist, which hands tests to workers by id, ran one
    of them. Each gets the id its name says, and a run whose tests share an id stops here.

    Then the order: FIRST's files, then the others, the most tests first, each file's (or
    TOGETHER folder's) tests in their own order, so that the workers end together."""
    for item in items:
        if type(item).__name__ == "SchemathesisFunction" and "[" in item.name:
            item._id = item.parent.id.child(item.name)
    shared = [nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1]
    if shared:
        raise pytest.UsageError(f"tests that share an id would run once: {shared[:5]}")
    sizes = Counter(scope_of(item.nodeid) for item in items)
    items.sort(key=lambda item: (not item.nodeid.startswith(FIRST), -sizes[scope_of(item.nodeid)]))


# A test module says which DynamoDB its tests run on with BACKENDS (default: moto alone), for
# instance `BACKENDS = ("moto", "dynalite")`: dynalite is a second DynamoDB, a separate server
# that validates requests as DynamoDB does and applies each one atomically, where moto is
# lenient (tests/storage/test_dynalite.py runs on dynalite only and says what it lacks);
# "memory" is make run's in-memory DynamoDB (devtools/memory_aws), in the test's process. And
# with LIST_SHARDS, on accounts whose lists are spread over that many shards: (1, 8).
# Declared in the module itself, so it holds wherever the module lives.


def pytest_generate_tests(metafunc):
    # The pipeline's embedded AWS: moto's (as the live-server tests have it), or make run's
    # in-memory DynamoDB, stream and SQS behind the same endpoint (devtools/memory_aws).
    engines = getattr(metafunc.module, "ENGINES", None)
    if engines and "endpoint" in metafunc.fixturenames:
        metafunc.parametrize("endpoint", engines, indirect=True, scope="module")
    backends = getattr(metafunc.module, "BACKENDS", None)
    if backends and "aws" in metafunc.fixturenames:
        metafunc.parametrize("aws", backends, indirect=True)
    shards = getattr(metafunc.module, "LIST_SHARDS", None)
    if shards and "list_shards" in metafunc.fixturenames:
        metafunc.parametrize("list_shards", shards, ids=[f"{n}-shards" for n in shards])


_PROCESS_ENVIRON = os.environ


@pytest.fixture(autouse=True)
def environ_stays_the_process_own():
    """A test that leaves a copy in os.environ's place fails: what later tests set there no
    longer reaches the processes they start. Chalice's test client swaps os.environ for a
    copy around each request, and requests from racing threads left a copy in place."""
    yield
    if os.environ is not _PROCESS_ENVIRON:
        os.environ = _PROCESS_ENVIRON  # noqa: B003 (the process's own mapping back)
        pytest.fail("os.environ was left replaced (chalice's test client used from threads?)")


@pytest.fixture(autouse=True)
def fresh_credential_cache():
    """Each test starts with auth's per-container cache empty, as a new container would."""
    credentials.forget()
    yield
    credentials.forget()


@pytest.fixture(autouse=True)
def fresh_sender_cache():
    """And with no From read as sendable (chalicelib.messages.checks), as a new container."""
    checks.forget()
    yield
    checks.forget()


@pytest.fixture
def cache_expires(monkeypatch):
    """Call it to move auth's cache clock past its bound, as if CACHE_SECONDS went by."""
    offset = {"s": 0.0}
    real = credentials._monotonic
    monkeypatch.setattr(credentials, "_monotonic", lambda: real() + offset["s"])

    def expire() -> None:
        offset["s"] += credentials.CACHE_SECONDS + 0.001

    return expire


# moto's own setting: keep boto3's default session from one test to the next instead of a
# new one for each (moto's default). A new session loads and parses every service model
# again: half of what a test's AWS cost to set up (65 ms of 132). The session's credentials
# are the fake ones set above, in every test.
MOTO = {"core": {"reset_boto3_session": False}}


@pytest.fixture
def aws(request, monkeypatch):
    """DynamoDB for one test: moto, fresh each time, or (when parametrized) dynalite or the
    in-memory DynamoDB; and moto's KMS with a key (HERALD_KMS_KEY_ID), without which no
    account can be made. A test that drives the delivery pipeline (asks for `line`, itself
    or through a fixture) gets the pipeline's embedded AWS instead: its `account`, `api` and
    `other_api` live there."""
    if "line" in request.fixturenames:
        request.getfixturevalue("line")
        yield
        return
    if getattr(request, "param", "moto") == "dynalite":
        url, table = (
            request.getfixturevalue("dynalite_url"),
            request.getfixturevalue("dynalite_table"),
        )
        # moto answers only AWS's own endpoints: dynalite's requests go past it to dynalite.
        with mock_aws(config=MOTO), dynalite.pointing_at(url, table, create=False):
            assert storage.client.client().meta.endpoint_url == url
            signing_key(monkeypatch)
            yield
        tokens.reset()
        return
    if getattr(request, "param", "moto") == "memory":
        with mock_aws(config=MOTO), memory_dynamodb():
            storage.ensure_table()
            signing_key(monkeypatch)
            yield
        tokens.reset()
        return
    with mock_aws(config=MOTO):
        storage.reset()
        storage.ensure_table()
        signing_key(monkeypatch)
        yield
    storage.reset()
    tokens.reset()


@contextlib.contextmanager
def memory_dynamodb():
    """Herald's DynamoDB client is the in-memory DynamoDB (devtools/memory_aws), in this
    process, through storage's port for substitutes; KMS and the rest stay moto's."""
    from chalicelib.storage import boto
    from devtools.memory_aws.dynamodb import MemoryDynamoDB

    engine = MemoryDynamoDB()
    boto.substitute("dynamodb", lambda: engine)
    storage.reset()
    try:
        yield engine
    finally:
        boto.substitute("dynamodb", None)
        storage.reset()


def signing_key(monkeypatch) -> str:
    """A new key on moto's KMS (mock_aws active) as the stage's HERALD_KMS_KEY_ID."""
    from devtools import local_aws

    tokens.reset()
    key_id = local_aws.signing_key(None)
    monkeypatch.setenv("HERALD_KMS_KEY_ID", key_id)
    return key_id


def unavailable_in_ci(what: str, reason: str) -> None:
    """Skip a test whose means this machine lacks, with the reason; under CI=true (`.ci/run`
    sets it) fail instead: CI must run every test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run {what}: {reason}", pytrace=False)
    pytest.skip(reason)


SHARED_TWILIO = Path(__file__).resolve().parents[2] / "shared" / "twilio"


@pytest.fixture(scope="session")
def shared_twilio() -> Path:
    """../shared/twilio beside this checkout: Twilio's contract the vendored copies follow."""
    if not SHARED_TWILIO.is_dir():
        unavailable_in_ci("the vendored-contract checks", f"no {SHARED_TWILIO.resolve()}")
    return SHARED_TWILIO


@pytest.fixture(scope="session")
def dynalite_url():
    """One dynalite server for the session, stopped at its end."""
    reason = dynalite.unavailable_reason()
    if reason is not None:
        unavailable_in_ci("the dynalite tests", reason)
    with dynalite.running() as url:
        yield url


@pytest.fixture(scope="module")
def dynalite_table(dynalite_url) -> str:
    """One table per module; each test still gets a fresh account, its own partition."""
    table = f"herald-dynalite-{uuid.uuid4().hex[:12]}"
    with dynalite.pointing_at(dynalite_url, table):
        pass
    return table


@pytest.fixture
def atomic_moto(aws, monkeypatch):
    """moto with each request applied atomically, as DynamoDB applies them.

    moto checks a condition and applies the write as separate steps with no lock (and a
    cancelled transaction restores a copy of the whole table), so racing threads can both
    pass one condition. One request at a time is what DynamoDB guarantees, and no more: a
    read-then-write gap in Herald stays open to the other threads.
    """
    lock = threading.Lock()
    real = BotocoreStubber.process_request

    def one_request_at_a_time(self, request):
        with lock:
            return real(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_request_at_a_time)
    # Switch threads often, so that their calls interleave as much as possible.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


@pytest.fixture
def list_shards() -> int:
    """The list shard count of the `account` fixture (1 unless a module asks for more)."""
    return 1


def spread_lists(account_sid: str, shards: int) -> None:
    """Give an account `shards` list shards, in effect at once (admin waits for the
    credential cache bound; a test's own process has nothing cached to wait for)."""
    from chalicelib.storage import accounts

    accounts.set_list_shards(account_sid, shards, effective_ms=0, now_ms=herald_clock.now_ms())
    credentials.forget()


@pytest.fixture
def account(aws, list_shards):
    created = admin.create_account()
    if list_shards != 1:
        spread_lists(created["account_sid"], list_shards)
    return created


@pytest.fixture
def other_account(aws):
    return admin.create_account()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Api:
    """Chalice's in-process client with Twilio's paths and auth filled in."""

    def __init__(self, client, account_sid: str, auth_token: str):
        self.client = client
        self.account_sid = account_sid
        self.auth = basic(account_sid, auth_token)

    @property
    def base(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}"

    def request(self, method, path, params=None, body=None, headers=None, auth=True):
        headers = dict(headers or {})
        if auth and "Authorization" not in headers:
            headers["Authorization"] = self.auth if auth is True else auth
        if params is not None:
            body = urlencode(params, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self.client.http.request(method, path, headers=headers, body=body or b"")

    def create(self, **params):
        return self.request("POST", self.base + "/Messages.json", params=params)

    def fetch(self, sid):
        return self.request("GET", f"{self.base}/Messages/{sid}.json")

    def list(self, query=""):
        return self.request("GET", f"{self.base}/Messages.json" + (f"?{query}" if query else ""))

    def update(self, sid, method="POST", **params):
        return self.request(method, f"{self.base}/Messages/{sid}.json", params=params)

    def delete(self, sid):
        return self.request("DELETE", f"{self.base}/Messages/{sid}.json")


@pytest.fixture
def chalice_client(aws):
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


@pytest.fixture
def api(chalice_client, account):
    return Api(chalice_client, account["account_sid"], account["auth_token"])


@pytest.fixture
def other_api(chalice_client, other_account):
    return Api(chalice_client, other_account["account_sid"], other_account["auth_token"])


# --- the delivery pipeline (tests/pipeline.py) ---------------------------------------------


@pytest.fixture(scope="module")
def endpoint(request):
    """One embedded AWS server per module for the tests that drive the pipeline: moto's, or
    (a module's ENGINES) make run's in-memory one."""
    with server.embedded_aws(memory=getattr(request, "param", "moto") == "memory") as url:
        yield url


@pytest.fixture
def line(endpoint, monkeypatch):
    """A fresh delivery pipeline on the module's embedded AWS (tests/pipeline.py)."""
    from tests.pipeline import pipeline_on

    with pipeline_on(endpoint, monkeypatch) as pipeline:
        yield pipeline


@pytest.fixture
def lease_expires(monkeypatch):
    """Call it to let the time pass after which a dead worker's claim and its job come back:
    the clock moves past the claim's lease, and the job's visibility timeout runs out."""
    from chalicelib.runtime import config

    offset = {"ms": 0}
    real = herald_clock.now_ms
    monkeypatch.setattr(herald_clock, "now_ms", lambda: real() + offset["ms"])

    def expire() -> None:
        offset["ms"] += (config.delivery().lease_seconds + 1) * 1000
        time.sleep(1.2)  # the jobs' visibility timeout on the test queues

    return expire


@contextlib.contextmanager
def live_herald(**settings: str):
    """A live Herald built as `make run` builds it: the embedded AWS (moto's server with
    atomic DynamoDB requests), its queues and key, and the app served over HTTP by a child
    process that also runs the delivery pipeline, on free 127.0.0.1 ports, with a fresh
    account. `settings` are extra environment variables (HERALD_SANDBOX_DELAY_SECONDS is 0
    unless given). Yields (url, account); stops everything it started and restores the
    environment."""
    from devtools import run

    saved = dict(os.environ)
    try:
        with contextlib.ExitStack() as stack:
            endpoint = stack.enter_context(server.embedded_aws())
            env = server.server_environment(endpoint, embedded=True)
            env.update(run.delivery_environment(endpoint, stack))
            env.update({"HERALD_SANDBOX_DELAY_SECONDS": "0", **settings})
            os.environ.update(env)
            storage.reset()
            tokens.reset()
            storage.ensure_table()
            account = admin.create_account()
            url = stack.enter_context(server.serve_herald(env, quiet=True))
            yield url, account
    finally:
        os.environ.clear()
        os.environ.update(saved)
        storage.reset()
        tokens.reset()


# --- helpers the test modules share ---------------------------------------------------------


def body(response):
    return json.loads(response.body)


def error_of(response):
    """(status, code) of a Twilio error response, after checking the error JSON's shape."""
    data = body(response)
    assert set(data) >= {"code", "message", "more_info", "status"}
    assert data["status"] == response.status_code
    assert data["more_info"] == f"https://www.twilio.com/docs/errors/{data['code']}"
    return response.status_code, data["code"]


# The sender and recipient the tests' messages use unless they say otherwise.
FROM = "+15005550006"
TO = "+14155550100"


def make(api, **extra) -> dict:
    """Create a message (To TO, From FROM, Body "hello" unless given) and return its JSON."""
    response = api.create(**{"To": TO, "From": FROM, "Body": "hello", **extra})
    assert response.status_code == 201, response.body
    return body(response)


def mark_sent(account_sid: str, sid: str) -> None:
    """Move a queued message through `sending` to `sent` now, as the worker does when the
    carrier takes it: only then does it have a date_sent for DateSent filters to match."""
    from chalicelib import messages
    from chalicelib.messages import lifecycle
    from chalicelib.messages.status import Status

    sending = messages.transition(account_sid, sid, Status.SENDING)
    sent = lifecycle.sent_changes(sending.to_fields(), herald_clock.now_ms())
    messages.transition(account_sid, sid, Status.SENT, sent)


def make_sent(api, **extra) -> dict:
    """Create a message and have the carrier take it at once; its JSON as it is then."""
    sid = make(api, **extra)["sid"]
    mark_sent(api.account_sid, sid)
    return body(api.fetch(sid))


def scheduled(api, hours: int = 2, **extra) -> dict:
    """Create a message scheduled `hours` ahead and return its JSON."""
    send_at = (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Scheduling asks for a Messaging Service, as on Twilio (35118).
    from tests.services.helpers import service_of

    extra.setdefault("MessagingServiceSid", service_of(api.account_sid))
    return make(api, ScheduleType="fixed", SendAt=send_at, **extra)


def listing(api, **query) -> dict:
    """One page of the list, asserting it answered 200."""
    response = api.list(urlencode(query))
    assert response.status_code == 200, response.body
    return body(response)


def sids_of(page: dict) -> list[str]:
    return [message["sid"] for message in page["messages"]]


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def clock(monkeypatch):
    """Set the creation time of the next message: clock('2024-01-02T10:00:00')."""
    moment = {"ms": None}
    real = herald_clock.now_ms
    monkeypatch.setattr(herald_clock, "now_ms", lambda: moment["ms"] or real())

    def set_time(text: str) -> None:
        moment["ms"] = ms(text)

    return set_time


@pytest.fixture
def three_days(api, clock) -> dict[str, str]:
    """Nine messages sent at 00:00:00, 12:30:00 and 23:59:59 GMT on 2024-01-01..03, by time."""
    made = {}
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        for hour in ("00:00:00", "12:30:00", "23:59:59"):
            clock(f"{day}T{hour}")
            made[f"{day}T{hour}"] = make_sent(api)["sid"]
    return made


def newest_first(made: dict[str, str], *times: str) -> list[str]:
    """The Sids of `made` (as three_days returns it) at `times`, in list order."""
    return sorted((made[time] for time in times), reverse=True)


# --- what DynamoDB was asked, and racing calls ---------------------------------------------

SID_PLACEHOLDER = "SM<sid>"


@pytest.fixture
def storage_calls(monkeypatch):
    """Every DynamoDB call, as (operation, request, outcome), recorded at storage.client.call."""
    calls: list[tuple] = []
    real_call = storage.client.call

    def recording(operation, **kwargs):
        try:
            response = real_call(operation, **kwargs)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
            calls.append((operation, kwargs, f"raised {type(error).__name__} {code}"))
            raise
        returned = {
            key: len(value) if isinstance(value, list | dict) else value
            for key, value in response.items()
            if key != "ResponseMetadata"
        }
        calls.append((operation, kwargs, f"returned {sorted(returned.items())}"))
        return response

    monkeypatch.setattr(storage.client, "call", recording)
    return calls


def normalized_calls(calls, sid: str) -> list[tuple]:
    """The calls with this Sid, its key and any millisecond stamp replaced by placeholders."""
    out = []
    for operation, request, outcome in calls:
        text = json.dumps(request, sort_keys=True).replace(sid, SID_PLACEHOLDER)
        text = text.replace(sid[2:], "<key>")
        text = re.sub(r'\{"N": "\d+"\}', '{"N": "<number>"}', text)
        out.append((operation, text, outcome))
    return out


def run_together(calls):
    """Start every call at once on its own thread; each outcome is ("ok", result),
    (status, code) for a TwilioError, or ("crash", repr) for anything else."""
    barrier = threading.Barrier(len(calls), timeout=30)
    outcomes: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            outcomes[i] = ("ok", call())
        except errors.TwilioError as error:
            outcomes[i] = (error.status, error.code)
        except BaseException as error:  # reported by the assertion below
            outcomes[i] = ("crash", repr(error))

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    crashes = [o for o in outcomes if o is None or o[0] == "crash"]
    assert not crashes, f"exceptions other than TwilioError: {crashes}"
    return outcomes
