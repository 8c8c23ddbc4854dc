"""The Message routes: create and list, fetch, update (redact, cancel) and delete."""

from chalicelib import messages
from chalicelib.web import http
from chalicelib.web.routing import ACCOUNT, authenticated, resource

MESSAGES = ACCOUNT + "/Messages.json"
# A path parameter must be a whole segment, so `{Sid}.json` is captured whole and split.
MESSAGE = ACCOUNT + "/Messages/{sid_json}"


def register(app) -> None:
    @resource(app, MESSAGES, ("GET", "POST"))
    def message_list(account_sid):
        request, _ = authenticated(app, account_sid)
        if request.method == "POST":
            created = messages.create(
                account_sid, http.body_params(request), http.idempotency_key(request)
            )
            # A replayed create answers as the first one did: 201 and the same message.
            headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
            return http.json_response(201, created.message.to_json(), headers)
        return http.json_response(200, messages.list_page(account_sid, http.query_params(request)))

    @resource(app, MESSAGE, ("GET", "POST", "PUT", "DELETE"))
    def message_instance(account_sid, sid_json):
        request, _ = authenticated(app, account_sid)
        sid = http.sid_of(request, sid_json)
        if request.method == "GET":
            return http.json_response(200, messages.fetch(account_sid, sid).to_json())
        if request.method == "DELETE":
            messages.delete(account_sid, sid)
            return http.no_content()
        updated = messages.update(account_sid, sid, http.body_params(request))
        return http.json_response(200, updated.to_json())
