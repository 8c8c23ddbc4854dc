"""Herald Inbox: a web page to see and drive what an app sends and receives (docs/inbox.md).

    GET /inbox                    the page (chalicelib/inbox/index.html); no credentials
    GET /inbox/assets/{name}      its script and style sheet; no credentials
    GET /inbox/api/Accounts/{AccountSid}/Messages.json
        the Messages list, with the API's own filters and PageTokens:
        {"page": <Twilio's page JSON>, "encodings": {Sid: "GSM-7" | "UCS-2"},
         "errors": {code: meaning}}
    GET /inbox/api/Accounts/{AccountSid}/Messages/{Sid}.json
        {"message": <Twilio's Message JSON>, "media_urls": [... without credentials],
         "encoding": …,
         "history": [{status, at_ms, error_code?}], "events": [callback / webhook attempts],
         "errors": {code: meaning}}

Every piece of data needs the API's own credentials (routing.authenticated: AccountSid and
AuthToken, or an API key of that account); a Sid of another account answers exactly as a
missing one. The two data routes answer with an ETag and 304 to a matching If-None-Match,
so the page can poll them every second for next to nothing on the wire; the page does
everything else (reply as the handset, redact, delete, cancel) through the API itself.

Served where the sandbox carrier is on, or where HERALD_INBOX=1; HERALD_INBOX=0 turns it off
on a sandbox stage. Elsewhere every /inbox path answers as an unknown path does (404 /
20404). The assets are read from disk on their first request and kept in memory: nothing
here is imported or read at a cold start beyond this module.
"""

import functools
import hashlib
import json
import os

from chalice import Response

from chalicelib.runtime import config
from chalicelib.twilio import codes, errors
from chalicelib.web import http
from chalicelib.web.routing import ANY_CONTENT_TYPE, EVERY_METHOD, authenticated

INBOX = "/inbox"
ASSET = INBOX + "/assets/{name}"
API_ACCOUNT = INBOX + "/api/Accounts/{account_sid}"
API_MESSAGES = API_ACCOUNT + "/Messages.json"
API_MESSAGE = API_ACCOUNT + "/Messages/{sid_json}"

# The page's files: name -> Content-Type. Nothing else under ASSET_DIR is served.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "view.js": "text/javascript; charset=utf-8",
    "snippets.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
PAGE = "index.html"
BASE_PLACEHOLDER = "%HERALD_BASE%"
SANDBOX_PLACEHOLDER = "%HERALD_SANDBOX%"

# No inline script or style anywhere: the page's own files, the API on its own origin, and
# images from the messages' own MediaUrls (previews: the only other origin it ever asks).
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data: http: https:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
# Account data is never kept by the browser's or any shared cache; the page keeps the last
# answer and its ETag in memory and asks again with If-None-Match.
DATA_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def enabled() -> bool:
    switch = os.environ.get("HERALD_INBOX")
    if switch in ("0", "1"):
        return switch == "1"
    return config.delivery().carrier == "sandbox"


def asset_dir():
    """chalicelib/inbox, where the page's files are (pathlib is imported on first use)."""
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "inbox"


@functools.cache
def _asset(name: str) -> tuple[bytes, str]:
    """(the file's bytes, its ETag), read on first use."""
    data = (asset_dir() / name).read_bytes()
    return data, f'"{hashlib.sha256(data).hexdigest()[:32]}"'


def _meanings(shown) -> dict[str, str]:
    """What each of the codes `shown` means (chalicelib.twilio.codes, as docs/errors.md)."""
    return {
        str(code): codes.MESSAGES[code] for code in sorted(set(shown)) if code in codes.MESSAGES
    }


def _without_credentials(url: str) -> str:
    """A media URL as the page shows it: a `user:password@` in it is the app's secret, never
    shown (the image then fails to load and the page shows its icon)."""
    from chalicelib.outbound.addresses import credentials

    return credentials(url)[0]


def _encoding(body: str) -> str:
    from chalicelib.twilio.segments import encoding_of

    return encoding_of(body)


def _not_modified(request, etag: str) -> bool:
    asked = request.headers.get("if-none-match") or ""
    return etag in (tag.strip() for tag in asked.split(","))


def _conditional(request, payload: dict) -> Response:
    """200 with the JSON and its ETag, or 304 when the client already has it."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    etag = f'"{hashlib.sha256(body.encode()).hexdigest()[:32]}"'
    headers = {**DATA_HEADERS, "ETag": etag}
    if _not_modified(request, etag):
        return Response(body="", status_code=304, headers=headers)
    return http.json_response(200, body, headers)


def _stage_prefix(request) -> str:
    """API Gateway's stage prefix (/api on a deployed stage), or "" where there is none, so
    the page can name its own files and the API wherever it is served."""
    context_path = (request.context or {}).get("path") or ""
    path = http.request_path(request)
    context_path, path = context_path.rstrip("/"), path.rstrip("/")
    if path and context_path.endswith(path):
        return context_path[: -len(path)]
    return ""


def _inbox_route(app, path: str, name: str):
    """A route that exists only where the inbox is on, serving GET (other methods: 405)."""

    def register(view):
        @http.twilio_errors
        def served(**params):
            request = app.current_request
            if not enabled():
                raise errors.not_found(http.request_path(request))
            if request.method != "GET":
                raise errors.method_not_allowed(request.method, "GET")
            return view(**params)

        served.__name__ = name
        served.__doc__ = view.__doc__
        return app.route(path, methods=EVERY_METHOD, content_types=ANY_CONTENT_TYPE, name=name)(
            served
        )

    return register


def register(app) -> None:
    @_inbox_route(app, INBOX, "inbox_page")
    def page():
        """The inbox page, with the stage prefix and the sandbox switch filled in."""
        from html import escape

        request = app.current_request
        text = _asset(PAGE)[0].decode("utf-8")
        sandbox = "true" if config.delivery().carrier == "sandbox" else "false"
        text = text.replace(BASE_PLACEHOLDER, escape(_stage_prefix(request)))
        text = text.replace(SANDBOX_PLACEHOLDER, sandbox)
        return Response(
            body=text,
            status_code=200,
            headers={"Content-Type": "text/html; charset=utf-8", **PAGE_HEADERS},
        )

    @_inbox_route(app, ASSET, "inbox_asset")
    def asset(name):
        """One of the page's own files (ASSETS); any other name is 404."""
        request = app.current_request
        if name not in ASSETS:
            raise errors.not_found(http.request_path(request))
        data, etag = _asset(name)
        headers = {
            "Content-Type": ASSETS[name],
            "ETag": etag,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if _not_modified(request, etag):
            return Response(body="", status_code=304, headers=headers)
        return Response(body=data.decode("utf-8"), status_code=200, headers=headers)

    @_inbox_route(app, API_MESSAGES, "inbox_messages")
    def messages_page(account_sid):
        """The Messages list page, as the API answers it, with each message's encoding."""
        from chalicelib import messages

        request, _ = authenticated(app, account_sid)
        page = messages.list_page(account_sid, http.query_params(request))
        listed = page["messages"]
        return _conditional(
            request,
            {
                "page": page,
                "encodings": {m["sid"]: _encoding(m["body"]) for m in listed},
                "errors": _meanings(m["error_code"] for m in listed if m["error_code"]),
            },
        )

    @_inbox_route(app, API_MESSAGE, "inbox_message")
    def message_detail(account_sid, sid_json):
        """One message with its status history and each callback or webhook attempt."""
        from chalicelib import messages

        request, _ = authenticated(app, account_sid)
        sid = http.sid_of(request, sid_json)
        message = messages.fetch(account_sid, sid)  # another account's Sid: 404, as missing
        attempts = messages.events_of(account_sid, sid)
        codes = [message.error_code] + [e.get("error_code") for e in message.history + attempts]
        return _conditional(
            request,
            {
                "message": message.to_json(),
                "media_urls": [_without_credentials(url) for url in message.media_urls],
                "encoding": _encoding(message.body),
                "history": message.history,
                "events": attempts,
                "errors": _meanings(code for code in codes if code),
            },
        )
