"""Messaging Services (messaging/v1) on Herald's one host, under the /messaging prefix.

Twilio serves each product on a host of its own (messaging.twilio.com/v1/Services, and
conversations., verify., notify. each with a /v1/Services of their own); Herald serves them
all on one host, each under its product's prefix, so a later product's /v1/Services cannot
collide with this one. The SDKs reach it by setting the messaging domain's base URL to the
prefix (`client.messaging.base_url = "https://<host>/messaging"`; docs/messaging-services.md).

The paths name no account: the account is the one whose AccountSid and AuthToken the request
carries. Answers hold absolute URLs (`url`, `links`, the page's `meta`) built for the URL the
request came to, stage prefix included.
"""

from chalicelib import services
from chalicelib.services import senders
from chalicelib.web import auth, http
from chalicelib.web.routing import resource

PREFIX = "/messaging"
SERVICES = PREFIX + "/v1/Services"
SERVICE = SERVICES + "/{sid}"
# Each kind of sender: its list path and its instance path (a whole segment each).
SENDER_KINDS = ("PhoneNumbers", "AlphaSenders", "ShortCodes")


def _account(app):
    request = app.current_request
    account = auth.authenticate_account(request.headers.get("authorization"))
    return request, account.sid


def base_url(request) -> str:
    """The URL up to and with the messaging prefix, as the client reached it."""
    headers = request.headers
    host = headers.get("host") or "localhost"
    scheme = headers.get("x-forwarded-proto") or "http"
    # API Gateway's stage (/api) is in the context's path, not in the event's own.
    context_path = request.context.get("path") or http.request_path(request)
    mount = context_path.find(PREFIX + "/v1/")
    stage = context_path[:mount] if mount > 0 else ""
    return f"{scheme}://{host}{stage}{PREFIX}"


def register(app) -> None:
    @resource(app, SERVICES, ("GET", "POST"))
    def messaging_service_list():
        request, account_sid = _account(app)
        base = base_url(request)
        if request.method == "POST":
            created = services.create(account_sid, http.body_params(request))
            return http.json_response(201, created.to_json(base))
        page = services.list_page(account_sid, http.query_params(request), base)
        return http.json_response(200, page)

    @resource(app, SERVICE, ("GET", "POST", "DELETE"))
    def messaging_service_instance(sid):
        request, account_sid = _account(app)
        base = base_url(request)
        if request.method == "GET":
            return http.json_response(200, services.fetch(account_sid, sid).to_json(base))
        if request.method == "DELETE":
            services.delete(account_sid, sid)
            return http.no_content()
        updated = services.update(account_sid, sid, http.body_params(request))
        return http.json_response(200, updated.to_json(base))

    for kind in SENDER_KINDS:
        _register_senders(app, kind)


def _register_senders(app, kind: str) -> None:
    name = {"PhoneNumbers": "phone_number", "AlphaSenders": "alpha_sender"}.get(kind, "short_code")

    def sender_list(sid):
        request, account_sid = _account(app)
        base = base_url(request)
        if request.method == "POST":
            params = http.body_params(request)
            if kind == "ShortCodes":
                raise senders.refuse_short_code(account_sid, sid, params)
            made = (
                senders.add_phone_number(account_sid, sid, params)
                if kind == "PhoneNumbers"
                else senders.add_alpha_sender(account_sid, sid, params)
            )
            return http.json_response(201, senders.render(kind, made, base))
        page = senders.list_senders(account_sid, sid, kind, http.query_params(request), base)
        return http.json_response(200, page)

    def sender_instance(sid, sender_sid):
        request, account_sid = _account(app)
        base = base_url(request)
        if request.method == "DELETE":
            senders.remove_sender(account_sid, sid, kind, sender_sid)
            return http.no_content()
        found = senders.fetch_sender(account_sid, sid, kind, sender_sid)
        return http.json_response(200, senders.render(kind, found, base))

    sender_list.__name__ = f"messaging_service_{name}_list"
    sender_instance.__name__ = f"messaging_service_{name}_instance"
    resource(app, f"{SERVICE}/{kind}", ("GET", "POST"))(sender_list)
    resource(app, f"{SERVICE}/{kind}/{{sender_sid}}", ("GET", "DELETE"))(sender_instance)
