"""The sandbox's handset: text one of the account's numbers, as a customer would.

    POST /2010-04-01/Accounts/{AccountSid}/Sandbox/Inbound.json
         From=<the handset>  To=<an IncomingPhoneNumber of the account>  Body=…  [MediaUrl=…]

Served only where the sandbox carrier is on (`make run`, tests, staging stages); elsewhere
the path does not exist (404). It puts the event End User Messaging publishes for a two-way
text on the carrier events queue, so from there on the text takes the path a real one
takes: stored as an inbound message, keywords applied, the number's SmsUrl called and its
TwiML answered. The answer is 201 with the Sid the inbound message will have (status
`receiving` until it is stored, a moment later).

Its From and To are read as the API reads numbers (chalicelib.addresses: never rewritten into
another number) and its MediaUrls by the API's rule (chalicelib.messages.checks: http(s)
URLs Herald can fetch, else 21620), so the inbox, which texts through this route, cannot
store a `javascript:` link either.
"""

from chalicelib import addresses, config, errors, forms
from chalicelib.messages.model import API_VERSION, message_path
from chalicelib.web import http
from chalicelib.web.routing import ACCOUNT, authenticated, resource

INBOUND = ACCOUNT + "/Sandbox/Inbound.json"
PARAMS = frozenset({"From", "To", "Body", "MediaUrl"})


def register(app) -> None:
    @resource(app, INBOUND, ("POST",))
    def sandbox_inbound(account_sid):
        if config.delivery().carrier != "sandbox":
            raise errors.not_found(http.request_path(app.current_request))
        request, _ = authenticated(app, account_sid)
        return http.json_response(201, simulate(account_sid, http.body_params(request)))


def simulate(account_sid: str, params: forms.Params) -> dict:
    from chalicelib.inbound import receive
    from chalicelib.messages import checks
    from chalicelib.storage import numbers, queues, url_credentials

    forms.reject_unknown(params, PARAMS)
    handset, number = forms.single(params, "From"), forms.single(params, "To")
    if not handset:
        raise errors.TwilioError(21603, "A 'From' phone number is required.")
    if not number:
        raise errors.TwilioError(21604, "A 'To' phone number is required.")
    handset_e164 = addresses.normalize_number(handset)
    if handset_e164 is None:
        raise errors.TwilioError(21212, f"The 'From' number {handset} is not a valid number.")
    number_e164 = addresses.normalize_number(number)
    owner = numbers.get_owner(number_e164) if number_e164 else None
    if owner is None or owner.get("account_sid") != account_sid:
        raise errors.TwilioError(
            21211, f"The 'To' number {number} is not an IncomingPhoneNumber of this account."
        )
    body = forms.single(params, "Body") or ""
    media = [url for url in params.get("MediaUrl", []) if url]
    if not body and not media:
        raise errors.TwilioError(21602, "Message body is required.")
    checks.media_urls(media)
    # Queued and stored with their credentials sealed, as every URL Herald keeps; the
    # webhook's MediaUrl fields carry them opened (chalicelib.inbound.webhook).
    media = [url_credentials.sealed(account_sid, url) for url in media]
    event = receive.simulated_event(handset_e164, number_e164, body, media)
    queues.send(config.delivery().receipt_queue_url, event)
    sid = receive.inbound_sid(event["inboundMessageId"], event["heraldReceivedMs"], bool(media))
    return {
        "sid": sid,
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "from": handset_e164,
        "to": number_e164,
        "body": body,
        "num_media": str(len(media)),
        "direction": "inbound",
        "status": "receiving",
        "uri": message_path(account_sid, sid),
    }
