"""The inbox's server side (chalicelib/web/inbox.py) through Chalice's test client and API
Gateway events: where it is served, its headers, its credentials and its 304s. The page
itself is tested in a real browser (test_browser.py)."""

import json

import pytest

from chalicelib.storage import events
from tests.apigateway import LambdaContext, rest_event
from tests.conftest import basic, body, error_of, make, mark_sent, scheduled

ASSETS = ("app.js", "api.js", "view.js", "snippets.js", "style.css")


def inbox_get(api, path, headers=None, auth=True):
    return api.request(
        "GET", "/inbox/api/Accounts/" + api.account_sid + path, headers=headers, auth=auth
    )


def test_nothing_of_the_inbox_is_read_at_a_cold_start():
    """`import app` (the API function's cold start) reads none of the page's files."""
    import subprocess
    import sys

    probe = (
        "import app\nfrom chalicelib.web import inbox\nprint(inbox._asset.cache_info().currsize)"
    )
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "0"


def test_the_page_is_served_without_credentials_under_a_strict_csp(chalice_client):
    for path in ("/inbox", "/inbox/"):
        response = chalice_client.http.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        page = response.body.decode()
        assert '<script type="module" src="/inbox/assets/app.js">' in page
        assert '<meta name="herald-sandbox" content="true">' in page
        # No inline script or style, and nothing from another origin.
        assert "<script>" not in page and "style=" not in page and "<style" not in page
        assert "http://" not in page.replace('"http://127.0.0.1:3000/sms"', "")
        assert "https://" not in page


def test_assets_are_served_with_etags_and_nothing_else_is(chalice_client):
    for name in ASSETS:
        response = chalice_client.http.get(f"/inbox/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
        again = chalice_client.http.get(f"/inbox/assets/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.body == b""
    for name in ("index.html", "../web/inbox.py", "nope.js"):
        response = chalice_client.http.get(f"/inbox/assets/{name}")
        assert error_of(response) == (404, 20404)


def test_the_assets_are_small_and_load_nothing_from_elsewhere():
    from chalicelib.web import inbox

    folder = inbox.asset_dir()
    files = [folder / inbox.PAGE] + [folder / name for name in inbox.ASSETS]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in files)
    assert sum(p.stat().st_size for p in files) < 60_000
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "localStorage" not in text and "document.cookie" not in text, path.name
        assert "innerHTML" not in text and "eval(" not in text, path.name
        assert "@import" not in text and "url(http" not in text, path.name


def test_behind_api_gateway_the_page_names_its_files_under_the_stage(aws):
    from app import app

    event = rest_event("GET", "/inbox", "/inbox", headers=[("Accept", "text/html")])
    answer = app(event, LambdaContext())
    assert answer["statusCode"] == 200
    assert '<script type="module" src="/api/inbox/assets/app.js">' in answer["body"]
    assert '<meta name="herald-base" content="/api">' in answer["body"]


def lambda_get(path: str, resource: str, auth: str | None = None, method: str = "GET") -> dict:
    """The API function's answer to an API Gateway event (Chalice's test client would set
    the dev stage's environment over the test's own)."""
    from app import app

    headers = [("Authorization", auth)] if auth else []
    answer = app(rest_event(method, path, resource, headers=headers), LambdaContext())
    answer["json"] = json.loads(answer["body"]) if answer["body"].startswith("{") else None
    return answer


@pytest.mark.parametrize(
    ("carrier", "switch", "served"),
    [
        ("sandbox", None, True),
        ("sandbox", "0", False),
        ("end-user-messaging", None, False),
        ("end-user-messaging", "1", True),
    ],
)
def test_served_with_the_sandbox_or_when_switched_on(account, monkeypatch, carrier, switch, served):
    monkeypatch.setenv("HERALD_CARRIER", carrier)
    if switch is None:
        monkeypatch.delenv("HERALD_INBOX", raising=False)
    else:
        monkeypatch.setenv("HERALD_INBOX", switch)
    sid = account["account_sid"]
    auth = basic(sid, account["auth_token"])
    routes = [
        ("/inbox", "/inbox"),
        ("/inbox/assets/app.js", "/inbox/assets/{name}"),
        (
            f"/inbox/api/Accounts/{sid}/Messages.json",
            "/inbox/api/Accounts/{account_sid}/Messages.json",
        ),
    ]
    for path, resource in routes:
        answer = lambda_get(path, resource, auth)
        if served:
            assert answer["statusCode"] == 200, path
            continue
        # Exactly what an unknown path answers, whatever the method.
        unknown = lambda_get("/elsewhere/x", "/{p0}/{p1}", auth)
        assert answer["statusCode"] == unknown["statusCode"] == 404, path
        assert answer["json"] == {
            **unknown["json"],
            "message": f"The requested resource {path} was not found",
        }
        assert lambda_get(path, resource, auth, method="POST")["statusCode"] == 404


def test_other_methods_are_405(api):
    response = api.request("POST", "/inbox")
    assert error_of(response) == (405, 20004)
    assert response.headers["Allow"] == "GET"
    response = api.request("DELETE", f"/inbox/api/Accounts/{api.account_sid}/Messages.json")
    assert error_of(response) == (405, 20004)


def test_data_needs_the_accounts_own_credentials(api, other_api):
    made = make(api)
    paths = ["/Messages.json", f"/Messages/{made['sid']}.json"]
    for path in paths:
        assert error_of(inbox_get(api, path, auth=False)) == (401, 20003)
        assert error_of(inbox_get(api, path, auth=basic(api.account_sid, "0" * 32))) == (
            401,
            20003,
        )
        # Another account's credentials on this account's path: refused like a wrong token.
        assert error_of(inbox_get(api, path, auth=other_api.auth)) == (401, 20003)
        assert inbox_get(api, path).headers["Cache-Control"] == "no-store"


def test_an_api_key_opens_its_own_account(api):
    import admin

    key = admin.create_key(api.account_sid)
    response = inbox_get(api, "/Messages.json", auth=basic(key["sid"], key["secret"]))
    assert response.status_code == 200


def test_the_list_is_the_apis_page_with_encodings_and_a_304(api):
    plain = make(api, Body="hello")
    emoji = make(api, Body="hi 👋", To="+14155550199")
    response = inbox_get(api, "/Messages.json?PageSize=1")
    data = body(response)
    assert set(data) == {"page", "encodings", "errors"}
    twilio = body(api.list("PageSize=1"))
    assert data["page"] == twilio
    assert data["encodings"] == {emoji["sid"]: "UCS-2"}
    following = data["page"]["next_page_uri"].split("?", 1)[1]
    second = body(inbox_get(api, "/Messages.json?" + following))
    assert [m["sid"] for m in second["page"]["messages"]] == [plain["sid"]]
    assert second["encodings"] == {plain["sid"]: "GSM-7"}

    etag = response.headers["ETag"]
    unchanged = inbox_get(api, "/Messages.json?PageSize=1", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.body == b""
    assert unchanged.headers["ETag"] == etag
    make(api)
    changed = inbox_get(api, "/Messages.json?PageSize=1", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_the_list_takes_the_apis_filters_and_refuses_what_it_refuses(api):
    make(api, To="+14155550123")
    make(api)
    data = body(inbox_get(api, "/Messages.json?To=%2B14155550123"))
    assert [m["to"] for m in data["page"]["messages"]] == ["+14155550123"]
    assert error_of(inbox_get(api, "/Messages.json?Status=sent")) == (400, 20001)
    assert error_of(inbox_get(api, "/Messages.json?PageToken=PAnope")) == (400, 21481)


def test_a_message_comes_with_its_history_and_attempts(api):
    made = make(api, Body="ünïcode ✓", MediaUrl="https://example.com/cat.png")
    mark_sent(api.account_sid, made["sid"])
    events.record(
        api.account_sid,
        made["sid"],
        {
            "kind": "status-callback",
            "status": "sent",
            "url": "http://127.0.0.1:9/status",
            "attempt": 1,
            "answer": 500,
            "error": None,
            "latency_ms": 12,
            "signed": True,
        },
    )
    response = inbox_get(api, f"/Messages/{made['sid']}.json")
    assert response.status_code == 200
    data = body(response)
    assert data["message"] == body(api.fetch(made["sid"]))
    assert data["media_urls"] == ["https://example.com/cat.png"]
    assert data["encoding"] == "UCS-2"
    assert [entry["status"] for entry in data["history"]] == ["queued", "sending", "sent"]
    assert all(isinstance(entry["at_ms"], int) for entry in data["history"])
    (attempt,) = data["events"]
    assert attempt["kind"] == "status-callback" and attempt["answer"] == 500
    assert attempt["signed"] is True and attempt["latency_ms"] == 12
    assert "pk" not in attempt and "sk" not in attempt

    etag = response.headers["ETag"]
    again = inbox_get(api, f"/Messages/{made['sid']}.json", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_error_codes_come_with_their_meaning(api):
    from chalicelib import messages
    from chalicelib.messages.status import Status

    made = make(api)
    messages.transition(api.account_sid, made["sid"], Status.SENDING)
    messages.transition(
        api.account_sid,
        made["sid"],
        Status.UNDELIVERED,
        {"error_code": 30003, "error_message": "Unreachable destination handset"},
    )
    detail = body(inbox_get(api, f"/Messages/{made['sid']}.json"))
    assert detail["errors"] == {"30003": "Unreachable destination handset"}
    assert detail["history"][-1]["error_code"] == 30003
    listed = body(inbox_get(api, "/Messages.json"))
    assert listed["errors"] == {"30003": "Unreachable destination handset"}


def test_a_code_is_explained_in_the_registrys_words_whichever_path_set_it(api):
    """One meaning per code (chalicelib.twilio.codes): 11200 set by a media fetch is not
    explained as a webhook's failure."""
    from chalicelib import messages
    from chalicelib.messages.status import Status
    from chalicelib.twilio import codes

    made = make(api)
    messages.transition(api.account_sid, made["sid"], Status.SENDING)
    failed = {"error_code": codes.HTTP_RETRIEVAL_FAILURE, "error_message": "HTTP 404"}
    messages.transition(api.account_sid, made["sid"], Status.FAILED, failed)
    detail = body(inbox_get(api, f"/Messages/{made['sid']}.json"))
    assert detail["errors"] == {"11200": codes.MESSAGES[codes.HTTP_RETRIEVAL_FAILURE]}
    assert "media" in detail["errors"]["11200"]


def test_a_foreign_sid_answers_as_a_missing_one(api, other_api):
    mine = make(api)
    theirs = make(other_api)
    foreign = inbox_get(api, f"/Messages/{theirs['sid']}.json")
    missing = inbox_get(api, f"/Messages/SM{'0' * 32}.json")
    assert error_of(foreign) == error_of(missing) == (404, 20404)
    assert body(foreign)["message"].replace(theirs["sid"], "X") == body(missing)["message"].replace(
        "SM" + "0" * 32, "X"
    )
    assert inbox_get(api, f"/Messages/{mine['sid']}.json").status_code == 200
    listed = body(inbox_get(other_api, "/Messages.json"))
    assert [m["sid"] for m in listed["page"]["messages"]] == [theirs["sid"]]
    assert error_of(inbox_get(api, f"/Messages/{mine['sid']}")) == (404, 20404)


def test_a_scheduled_message_is_listed(api):
    made = scheduled(api)
    data = body(inbox_get(api, "/Messages.json"))
    assert [m["status"] for m in data["page"]["messages"]] == ["scheduled"]
    assert json.dumps(data)  # plain JSON all through
    assert made["sid"] in data["encodings"]


def test_make_run_prints_the_inbox_url():
    from devtools import run

    account = {"account_sid": "AC" + "1" * 32, "auth_token": "2" * 32}
    admin_env = {"DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:4566"}
    banner = run.banner("http://127.0.0.1:8000", "http://127.0.0.1:4566", True, account, admin_env)
    assert "  Inbox:       http://127.0.0.1:8000/inbox/  " in banner


def test_media_urls_are_shown_without_their_credentials(api):
    """A MediaUrl's `user:password@` is the app's secret: the inbox's JSON never carries it
    (issue 14, item 6), while the message keeps it for the fetch."""
    from chalicelib import messages
    from chalicelib.storage.url_credentials import opened

    made = make(api, MediaUrl=["https://cdn:pa55@example.com/a.png", "https://example.com/b"])
    detail = body(inbox_get(api, f"/Messages/{made['sid']}.json"))
    assert detail["media_urls"] == ["https://example.com/a.png", "https://example.com/b"]
    assert "pa55" not in json.dumps(detail)
    # Stored sealed (tests/storage/test_url_credentials.py), opened for the fetch as written.
    stored = messages.fetch(api.account_sid, made["sid"]).media_urls
    assert opened(api.account_sid, stored[0]) == "https://cdn:pa55@example.com/a.png"
