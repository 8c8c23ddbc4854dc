"""The IncomingPhoneNumber routes: register (create) and list, fetch, update and delete."""

from chalicelib import numbers
from chalicelib.web import http
from chalicelib.web.routing import ACCOUNT, authenticated, resource

NUMBERS = ACCOUNT + "/IncomingPhoneNumbers.json"
# A path parameter must be a whole segment, so `{Sid}.json` is captured whole and split.
NUMBER = ACCOUNT + "/IncomingPhoneNumbers/{sid_json}"


def register(app) -> None:
    @resource(app, NUMBERS, ("GET", "POST"))
    def incoming_phone_number_list(account_sid):
        request, _ = authenticated(app, account_sid)
        if request.method == "POST":
            created = numbers.create(account_sid, http.body_params(request))
            return http.json_response(201, created.to_json())
        return http.json_response(200, numbers.list_page(account_sid, http.query_params(request)))

    @resource(app, NUMBER, ("GET", "POST", "DELETE"))
    def incoming_phone_number_instance(account_sid, sid_json):
        request, _ = authenticated(app, account_sid)
        sid = http.sid_of(request, sid_json)
        if request.method == "GET":
            return http.json_response(200, numbers.fetch(account_sid, sid).to_json())
        if request.method == "DELETE":
            numbers.delete(account_sid, sid)
            return http.no_content()
        updated = numbers.update(account_sid, sid, http.body_params(request))
        return http.json_response(200, updated.to_json())
