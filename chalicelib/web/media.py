"""A message's subresources: its Media (list, fetch, delete) and its Feedback (create)."""

from chalicelib.messages import media
from chalicelib.web import http
from chalicelib.web.routing import ACCOUNT, authenticated, resource

MEDIA_LIST = ACCOUNT + "/Messages/{message_sid}/Media.json"
MEDIA = ACCOUNT + "/Messages/{message_sid}/Media/{sid_json}"
FEEDBACK = ACCOUNT + "/Messages/{message_sid}/Feedback.json"


def register(app) -> None:
    @resource(app, MEDIA_LIST, ("GET",))
    def media_list(account_sid, message_sid):
        request, _ = authenticated(app, account_sid)
        page = media.list_media(account_sid, message_sid, http.query_params(request))
        return http.json_response(200, page)

    @resource(app, MEDIA, ("GET", "DELETE"))
    def media_instance(account_sid, message_sid, sid_json):
        request, _ = authenticated(app, account_sid)
        sid = http.sid_of(request, sid_json)
        if request.method == "DELETE":
            media.delete_media(account_sid, message_sid, sid)
            return http.no_content()
        return http.json_response(200, media.fetch_media(account_sid, message_sid, sid))

    @resource(app, FEEDBACK, ("POST",))
    def message_feedback(account_sid, message_sid):
        request, _ = authenticated(app, account_sid)
        feedback = media.give_feedback(account_sid, message_sid, http.body_params(request))
        return http.json_response(200, feedback)
