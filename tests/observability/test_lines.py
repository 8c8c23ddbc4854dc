"""Herald's lines and metrics (chalicelib/observability): the masking rules, the line's
vocabulary, Embedded Metric Format, Python logging as the same lines, and one line per API
request with its operation, status, latency and error code; never a body or a token."""

import io
import logging
import uuid

import pytest
from phonenumbers.data import _COUNTRY_CODE_TO_REGION_CODE

from chalicelib import observability
from chalicelib.observability import masking, metrics
from tests.apigateway import LambdaContext, rest_event
from tests.conftest import basic, body
from tests.logs import check_emf, check_line, of, parse, total

TO, FROM = "+14155550123", "+15005550006"
SECRET_BODY = "the secret body 7d1f"


@pytest.fixture(autouse=True)
def json_lines(monkeypatch):
    monkeypatch.delenv(observability.FORMAT_VARIABLE, raising=False)
    monkeypatch.delenv(metrics.STAGE_VARIABLE, raising=False)
    observability.configure_logging()


def written(capsys) -> list[dict]:
    lines = parse(capsys.readouterr().out)
    for line in lines:
        check_line(line)
    return lines


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("+14155550100", "+1********00"),
        ("+447700900123", "+44********23"),
        ("+8613800138000", "+86*********00"),
        ("+35312345678", "+353******78"),
        ("+79161234567", "+7********67"),
        ("whatsapp:+14155550100", "whatsapp:+1********00"),
        ("Herald", "Herald"),  # an alphanumeric sender ID is a business's
        ("My Shop 24", "My Shop 24"),
        ("12345", "12345"),  # a short code too
        ("4155550100", "********00"),  # anything else keeps its last 2 characters
        ("+1", "+1"),
    ],
)
def test_addresses_keep_their_country_code_and_last_two_digits(address, shown):
    assert masking.mask_address(address) == shown


def test_every_country_calling_code_is_found_whole():
    # libphonenumber's list of calling codes: the masking's table must split each one off.
    for code in _COUNTRY_CODE_TO_REGION_CODE:
        digits = f"{code}5550100"
        assert masking.calling_code(digits) == str(code), code


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.com/status?token=s3cret", "https://example.com/status"),
        ("https://user:pass@example.com:8443/a/b?x=1#rc=2", "https://example.com:8443/a/b"),
        ("http://[::1]:8080/cb?k=v", "http://[::1]:8080/cb"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_urls_lose_their_query_fragment_and_credentials(url, shown):
    assert masking.mask_url(url) == shown


def test_free_text_is_scrubbed_of_numbers_but_not_of_sids():
    sid = "SM" + "0123456789" * 3 + "ab"
    text = f"To +14155550100 (4155550100) refused for {sid}"
    assert masking.scrub(text) == f"To +1********00 (********00) refused for {sid}"


# --- the line -----------------------------------------------------------------------------


def test_a_line_is_one_json_object_with_the_vocabulary_only(capsys):
    observability.event(
        "send.handoff",
        account_sid="AC" + "1" * 32,
        sid="SM" + "2" * 32,
        to=TO,
        url="https://example.com/cb?secret=1",
        reason=f"carrier said {TO} is unreachable",
        attempt=2,
        recorded=True,
        error_code=None,
        body=SECRET_BODY,  # not a field: never written
    )
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and SECRET_BODY not in out and TO not in out
    (line,) = parse(out)
    assert line["event"] == "send.handoff" and line["level"] == "info"
    assert line["time"].endswith("Z") and len(line["time"]) == 24
    assert line["to"] == "+1********23" and line["url"] == "https://example.com/cb"
    assert line["reason"] == "carrier said +1********23 is unreachable"
    assert line["attempt"] == 2 and line["recorded"] is True
    assert "error_code" not in line  # None is left out
    assert line["unknown_fields"] == ["body"]


def test_a_line_that_cannot_be_written_changes_nothing(monkeypatch, capsys):
    tried = []

    class Broken(io.StringIO):
        def write(self, text):
            tried.append(text)
            raise OSError("stdout is gone")

    with monkeypatch.context() as patch:
        patch.setattr("sys.stdout", Broken())
        observability.event("api.request", http_status=200)  # raises nothing
    (attempt,) = parse("".join(tried))
    assert attempt["http_status"] == 200
    # The next line, on a stdout that works, is written as ever.
    observability.event("api.request", http_status=201)
    (line,) = parse(capsys.readouterr().out)
    assert line["http_status"] == 201


def test_a_value_of_the_wrong_kind_is_left_out_not_the_line(capsys):
    observability.event("api.request", http_status=200, latency_ms="not a number")
    (line,) = parse(capsys.readouterr().out)
    assert line["http_status"] == 200 and "latency_ms" not in line


def test_lines_inside_an_invocation_name_it(capsys):
    context = LambdaContext()
    with observability.invocation("herald-dev-sender", context, request_id="req-1"):
        observability.event("send.claim", sid="SM1")
        with observability.invocation("inner"):
            observability.event("send.claim", sid="SM2")
        observability.event("send.claim", sid="SM3")
    observability.event("send.claim", sid="SM4")
    first, inner, third, outside = written(capsys)
    assert first["function"] == third["function"] == "herald-dev-sender"
    assert first["aws_request_id"] == context.aws_request_id and first["request_id"] == "req-1"
    assert inner["function"] == "inner" and "aws_request_id" not in inner
    assert "function" not in outside


def test_text_format_shows_the_same_fields_on_one_line(capsys, monkeypatch):
    monkeypatch.setenv(observability.FORMAT_VARIABLE, "text")
    observability.event(
        "send.handoff", sid="SM1", to=TO, outcome="accepted", reason="a b",
        metrics={"MessagesSent": 1, "CarrierLatency": 12.5},
    )  # fmt: skip
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert " info    send.handoff sid=SM1 to=+1********23 outcome=accepted" in out
    assert 'reason="a b"' in out and out.rstrip().endswith("| MessagesSent=1 CarrierLatency=12.5")


# --- Embedded Metric Format ---------------------------------------------------------------


def test_metrics_are_a_valid_emf_document_in_the_same_line(capsys, monkeypatch):
    monkeypatch.setenv(metrics.STAGE_VARIABLE, "prod")
    observability.event(
        "send.handoff", sid="SM1", metrics={"MessagesSent": 1, "CarrierLatency": 41.26}
    )
    (line,) = written(capsys)
    check_emf(line)
    assert line["Stage"] == "prod" and line["MessagesSent"] == 1
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage"]]
    names = [m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["MessagesSent", "CarrierLatency"]
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Unit"] == "Milliseconds"


def test_unknown_metrics_and_non_numbers_are_left_out():
    document = metrics.document({"MessagesSent": 1, "Nope": 1, "MessagesFailed": True}, 1)
    assert [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == [
        "MessagesSent"
    ]
    assert "Nope" not in document and "MessagesFailed" not in document
    assert metrics.document({"Nope": 1}, 1) == {}


def test_the_stage_is_local_unless_set(monkeypatch):
    assert metrics.stage() == "local"
    monkeypatch.setenv(metrics.STAGE_VARIABLE, "dev")
    assert metrics.stage() == "dev"


# --- Python logging -----------------------------------------------------------------------


def test_herald_loggers_write_the_same_lines_once(capsys):
    observability.configure_logging()  # twice: still one handler
    log = logging.getLogger("herald.delivery")
    log.info("callback for %s gave up", "SM1")
    log.debug("not at info")
    try:
        raise ValueError(f"refused {TO}")
    except ValueError:
        log.exception("job %s failed", "m-1")
    info, error = written(capsys)
    assert info["event"] == "log" and info["logger"] == "herald.delivery"
    assert info["message"] == "callback for SM1 gave up"
    assert error["level"] == "error" and error["error"] == "ValueError: refused +1********23"
    assert "Traceback" in error["traceback"] and TO not in error["traceback"]
    assert not logging.getLogger("herald").propagate


# --- one line per API request -------------------------------------------------------------


def test_each_request_has_one_line_with_its_operation(api, account, capsys):
    created = body(api.create(To=TO, From=FROM, Body=SECRET_BODY))
    sid = created["sid"]
    api.fetch(sid)
    api.list()
    api.update(sid, Body="")
    api.fetch("SM" + "0" * 32)
    api.request("PATCH", api.base + "/Messages.json")
    api.request("GET", "/2010-04-01/Nowhere")
    api.request("GET", api.base + "/Messages.json", auth=basic(account["account_sid"], "x" * 32))
    api.delete(sid)
    out = capsys.readouterr().out
    lines = parse(out)
    for line in lines:
        check_line(line)
    requests = of(lines, "api.request")
    assert [(r["operation"], r["method"], r["http_status"]) for r in requests] == [
        ("create", "POST", 201),
        ("fetch", "GET", 200),
        ("list", "GET", 200),
        ("update", "POST", 200),
        ("fetch", "GET", 404),
        ("other", "PATCH", 405),
        ("other", "GET", 404),
        ("list", "GET", 401),
        ("delete", "DELETE", 204),
    ]
    assert [r.get("error_code") for r in requests] == [
        None, None, None, None, 20404, 20004, 20404, 20003, None
    ]  # fmt: skip
    assert all(r["account_sid"] == account["account_sid"] for r in requests[:6])
    assert [r.get("sid") for r in requests[:4]] == [sid, sid, None, sid]
    assert all(isinstance(r["latency_ms"], float) and r["latency_ms"] >= 0 for r in requests)
    assert total(lines, "MessagesCreated") == 1
    for secret in (SECRET_BODY, account["auth_token"], TO, FROM, "Authorization", "Basic "):
        assert secret not in out


def test_a_path_that_is_not_a_sid_is_not_written(api, capsys):
    api.request("GET", f"/2010-04-01/Accounts/{TO}/Messages.json")
    api.request("GET", f"{api.base}/Messages/{TO}.json")
    out = capsys.readouterr().out
    assert TO not in out
    first, second = of(parse(out), "api.request")
    assert (first["account_sid"], first["http_status"]) == ("malformed", 401)
    assert (second["sid"], second["http_status"]) == ("malformed", 404)


def test_an_idempotent_replay_is_not_counted_again(api, capsys):
    key = {"Idempotency-Key": "k-1"}
    form = {"To": TO, "From": FROM, "Body": "hi"}
    for _ in range(2):
        response = api.request("POST", api.base + "/Messages.json", params=form, headers=key)
        assert response.status_code == 201
    first, replay = of(written(capsys), "api.request")
    assert first["MessagesCreated"] == 1 and "replayed" not in first
    assert replay["replayed"] is True and "MessagesCreated" not in replay
    assert replay["sid"] == first["sid"]


def test_an_unexpected_error_is_a_500_line_with_its_scrubbed_traceback(api, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"boom near {TO}")

    monkeypatch.setattr("chalicelib.messages.fetch", broken)
    assert api.fetch("SM" + "1" * 32).status_code == 500
    lines = written(capsys)
    (request,) = of(lines, "api.request")
    assert (request["http_status"], request["error_code"]) == (500, 20500)
    assert request["level"] == "error"
    # Chalice's own logger is the app's name: its record is a line like any other.
    (logged,) = of(lines, "log", logger="herald")
    assert logged["error"] == "RuntimeError: boom near +1********23"
    assert TO not in logged["traceback"] and "RuntimeError" in logged["traceback"]
    assert logged["aws_request_id"] == request["aws_request_id"]  # the same invocation


def test_a_lambda_request_line_has_api_gateways_and_lambdas_request_ids(account, capsys):
    from app import app

    path = f"/2010-04-01/Accounts/{account['account_sid']}/Messages/SM{uuid.uuid4().hex}.json"
    auth = basic(account["account_sid"], account["auth_token"])
    event = rest_event(
        "GET", path, "/2010-04-01/Accounts/{account_sid}/Messages/{sid_json}",
        [("Authorization", auth)], None,
    )  # fmt: skip
    context = LambdaContext()
    assert app(event, context)["statusCode"] == 404
    (line,) = of(written(capsys), "api.request")
    assert line["request_id"] == event["requestContext"]["requestId"]
    assert line["aws_request_id"] == context.aws_request_id
    assert line["function"] == "herald-dev" and line["operation"] == "fetch"


@pytest.mark.parametrize(
    ("template", "method", "operation"),
    [
        ("/Messages.json", "POST", "create"),
        ("/Messages/{sid_json}", "PUT", "update"),
        ("/IncomingPhoneNumbers.json", "GET", "numbers.list"),
        ("/IncomingPhoneNumbers/{sid_json}", "DELETE", "numbers.delete"),
        ("/Messages/{message_sid}/Media.json", "GET", "media.list"),
        ("/Messages/{message_sid}/Media/{sid_json}", "GET", "media.fetch"),
        ("/Messages/{message_sid}/Feedback.json", "POST", "feedback.create"),
        ("/Sandbox/Inbound.json", "POST", "sandbox.inbound"),
        ("/Messages.json", "PATCH", "other"),
    ],
)
def test_every_resource_names_its_operation(template, method, operation):
    from chalicelib.observability.handlers import operation_of

    assert operation_of("/2010-04-01/Accounts/{account_sid}" + template, method) == operation


@pytest.mark.parametrize(
    ("template", "method", "operation"),
    [
        ("/inbox", "GET", "inbox.page"),
        ("/inbox/assets/{name}", "GET", "inbox.asset"),
        ("/inbox/api/Accounts/{account_sid}/Messages.json", "GET", "inbox.list"),
        ("/inbox/api/Accounts/{account_sid}/Messages/{sid_json}", "GET", "inbox.fetch"),
        ("/inbox/api/Accounts/{account_sid}/Nothing.json", "GET", "other"),
    ],
)
def test_inbox_requests_are_named_apart_from_the_api(template, method, operation):
    from chalicelib.observability.handlers import operation_of

    assert operation_of(template, method) == operation


def test_an_invocation_writes_its_jobs_metrics_once_in_its_own_line(capsys):
    """Inside batch_metrics, every line's metrics are collected (the jobs' threads run in
    copies of the context) and only lines at or above the level are written."""
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    def job(n):
        observability.event("send.handoff", level="debug", sid=f"SM{n}",
                            metrics={"MessagesSent": 1, "CarrierLatency": 10.0 + n})  # fmt: skip

    with observability.batch_metrics() as collected:
        with ThreadPoolExecutor(4) as pool:
            for n in range(6):
                pool.submit(contextvars.copy_context().run, job, n)
        observability.event("callback", level="warning", sid="SM9",
                            metrics={"CallbackFailures": 1})  # fmt: skip
        counted = collected()
    assert counted["MessagesSent"] == 6 and counted["CallbackFailures"] == 1
    assert sorted(counted["CarrierLatency"]) == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    observability.event("invocation", metrics=counted)
    lines = parse(capsys.readouterr().out)
    assert [line["event"] for line in lines] == ["callback", "invocation"]
    assert "_aws" not in lines[0]
    check_line(lines[1])
    assert lines[1]["MessagesSent"] == 6 and len(lines[1]["CarrierLatency"]) == 6
