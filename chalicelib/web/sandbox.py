"""The sandbox's handset route: text one of the account's numbers, as a customer would
(chalicelib.inbound.handset does it).

    POST /2010-04-01/Accounts/{AccountSid}/Sandbox/Inbound.json
         From=<the handset>  To=<an IncomingPhoneNumber of the account>  Body=…  [MediaUrl=…]

Served only where the sandbox carrier is on (`make run`, tests, staging stages); elsewhere
the path does not exist (404). The answer is 201 with the inbound message as it will be.
"""

from chalicelib.runtime import config
from chalicelib.twilio import errors
from chalicelib.web import http
from chalicelib.web.routing import ACCOUNT, authenticated, resource

INBOUND = ACCOUNT + "/Sandbox/Inbound.json"


def register(app) -> None:
    @resource(app, INBOUND, ("POST",))
    def sandbox_inbound(account_sid):
        if config.delivery().carrier != "sandbox":
            raise errors.not_found(http.request_path(app.current_request))
        request, _ = authenticated(app, account_sid)
        from chalicelib.inbound import handset  # the sandbox's alone: no API cold start pays

        return http.json_response(201, handset.text(account_sid, http.body_params(request)))
