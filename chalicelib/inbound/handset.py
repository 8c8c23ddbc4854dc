"""The sandbox's handset: a text to one of the account's numbers, as a customer would send it
(the route is chalicelib.web.sandbox, served where the sandbox carrier is on).

It puts the event End User Messaging publishes for a two-way text on the carrier events
queue, so from there on the text takes the path a real one takes: stored as an inbound
message, keywords applied, the number's SmsUrl called and its TwiML answered. The answer is
the Sid the inbound message will have (status `receiving` until it is stored, a moment later).

Its From and To are read as the API reads numbers (chalicelib.twilio.addresses: never
rewritten into another number) and its MediaUrls by the API's rule (chalicelib.messages.checks:
http(s) URLs Herald can fetch, else 21620), so the inbox, which texts through this route,
cannot store a `javascript:` link either.
"""

from chalicelib.messages.model import message_path
from chalicelib.runtime import clock, config
from chalicelib.twilio import addresses, codes, errors, forms, sids
from chalicelib.twilio.paths import API_VERSION

PARAMS = frozenset({"From", "To", "Body", "MediaUrl"})


def text(account_sid: str, params: forms.Params) -> dict:
    """A handset's text to the account's number (From, To, Body, MediaUrl), queued as End User
    Messaging would queue it; the inbound message's JSON as it will be (`receiving`)."""
    from chalicelib.inbound import receive
    from chalicelib.messages import checks
    from chalicelib.storage import numbers, queues, url_credentials

    forms.reject_unknown(params, PARAMS)
    handset, number = forms.single(params, "From"), forms.single(params, "To")
    if not handset:
        raise errors.TwilioError(codes.FROM_REQUIRED, "A 'From' phone number is required.")
    if not number:
        raise errors.TwilioError(codes.TO_REQUIRED, "A 'To' phone number is required.")
    handset_e164 = addresses.normalize_number(handset)
    if handset_e164 is None:
        raise errors.TwilioError(
            codes.INVALID_FROM, f"The 'From' number {handset} is not a valid number."
        )
    number_e164 = addresses.normalize_number(number)
    owner = numbers.get_owner(number_e164) if number_e164 else None
    if owner is None or owner.get("account_sid") != account_sid:
        raise errors.TwilioError(
            codes.INVALID_TO,
            f"The 'To' number {number} is not an IncomingPhoneNumber of this account.",
        )
    body = forms.single(params, "Body") or ""
    media = [url for url in params.get("MediaUrl", []) if url]
    if not body and not media:
        raise errors.TwilioError(codes.BODY_REQUIRED, "Message body is required.")
    checks.media_urls(media)
    # Queued and stored with their credentials sealed, as every URL Herald keeps; the
    # webhook's MediaUrl fields carry them opened (chalicelib.inbound.webhook).
    media = [url_credentials.sealed(account_sid, url) for url in media]
    event = simulated_event(handset_e164, number_e164, body, media)
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


def simulated_event(handset: str, number: str, body: str, media_urls: list[str]) -> dict:
    """The event End User Messaging publishes for a two-way text (the sandbox's handset)."""
    return {
        "originationNumber": handset,
        "destinationNumber": number,
        "messageKeyword": (body.split() or [""])[0].upper(),
        "messageBody": body,
        "inboundMessageId": sids.random_id(),
        "previousPublishedMessageId": None,
        "mediaUrls": media_urls,
        "heraldReceivedMs": clock.now_ms(),
    }
