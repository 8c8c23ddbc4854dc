"""Calling the app's webhook for an inbound message, and following its TwiML answer.

The number's SmsUrl gets Twilio's inbound form fields (POST, or GET with them in the query
string, per SmsMethod), signed with X-Twilio-Signature; when it does not answer 2xx, its
SmsFallbackUrl is tried once. The answer is read as messaging TwiML
(chalicelib.inbound.twiml) and each <Message> becomes a reply (chalicelib.inbound.replies).
Every call is recorded with the inbound message (storage.events), and so is a TwiML error
(11200, 11750, 12100, 12200, 12300): the inbound message itself stays `received`.

The same rules as status callbacks apply to the URLs: short timeouts, a bounded answer, no
private addresses on deployed stages, and no redirects followed. Their credentials are
stored sealed (chalicelib.storage.url_credentials) and opened here, before anything is
called: when KMS fails, the job comes back (chalicelib.jobs.calls.signing_later).
The job may run twice (queues are at-least-once): the app may be called twice, as Twilio may
call it; replies are made once.
"""

import logging
from dataclasses import replace

from chalicelib.inbound import replies, twiml
from chalicelib.jobs.batch import MIN_CALL_SECONDS, Job
from chalicelib.jobs.calls import signing_later, unreadable_credentials
from chalicelib.messages.model import Message, guess_type
from chalicelib.runtime import config
from chalicelib.storage import events, tokens, url_credentials
from chalicelib.storage import messages as stored_messages
from chalicelib.twilio import addresses
from chalicelib.twilio.paths import API_VERSION

log = logging.getLogger("herald.inbound")


def call(job: Job, auth_token) -> None:
    """Handle one webhook job; `auth_token(account_sid)` is the signing key or None (it
    raises for the job to come back when the key cannot be read now)."""
    from chalicelib.storage import numbers

    account_sid, sid = job.body.get("account_sid"), job.body.get("sid")
    fields = stored_messages.get_message(account_sid, sid) if account_sid and sid else None
    if fields is None:
        return
    inbound = Message.from_fields(fields)
    owner = numbers.get_owner(inbound.to)
    if owner is None or owner.get("account_sid") != account_sid:
        return  # the number changed hands since: its new owner never saw this text
    token = auth_token(account_sid)
    urls = _opened(job, account_sid, owner)  # before anything is called
    params = inbound_params(_media_opened(job, inbound))
    answer, used = None, None
    for url_key, method_key in (
        ("sms_url", "sms_method"),
        ("sms_fallback_url", "sms_fallback_method"),
    ):
        url = urls.get(url_key)
        if url is None:
            continue
        # Capped by the time left (chalicelib.runtime.budget): the fallback gets what the SmsUrl
        # left of it; with too little, the job comes back and both are tried again.
        job.require(MIN_CALL_SECONDS, url_key)
        if isinstance(url, tokens.Unreadable):
            used, answer = owner[url_key], unreadable_credentials(url)
        else:
            used, answer = url, _request(url, owner.get(method_key) or "POST", params, token)
        _record(inbound, "webhook" if url_key == "sms_url" else "fallback", used, answer, token)
        if answer.ok:
            break
    if answer is None:
        return  # no SmsUrl: Twilio stores the message and calls nobody
    read = twiml.read(
        answer.status,
        answer.headers.get("content-type", ""),
        answer.body or b"",
        used,
        answer.error,
    )
    if read.error_code is not None:
        events.record(
            account_sid,
            sid,
            {"kind": "twiml", "error_code": read.error_code, "warning": read.warning},
        )
    for place, reply in enumerate(read.replies):
        made = replies.send(
            inbound,
            f"twiml-{place}",
            reply.body,
            reply.media_urls,
            to=reply.to,
            from_=reply.from_,
            status_callback=reply.action,
            callback_method=reply.method,
        )
        if isinstance(made, int):
            events.record(account_sid, sid, {"kind": "reply", "error_code": made})


def _opened(job: Job, account_sid: str, owner: dict) -> dict:
    """The number's webhook URLs with their credentials, as they are called; a URL whose
    credentials never decrypt for this account is its tokens.Unreadable instead. When KMS
    fails, RetryLater: nothing has been called."""
    urls = {}
    for url_key in ("sms_url", "sms_fallback_url"):
        if not owner.get(url_key):
            continue
        try:
            urls[url_key] = url_credentials.opened(account_sid, owner[url_key])
        except tokens.Unreadable as error:
            urls[url_key] = error
        except tokens.Unavailable as error:
            raise signing_later(job, f"the {url_key}'s credentials: {error}") from error
    return urls


def _media_opened(job: Job, message: Message) -> Message:
    """The inbound message with its media URLs as the handset sent them (the sandbox's
    handset may give URLs with credentials; they are stored sealed)."""
    media = []
    for url in message.media_urls:
        try:
            media.append(url_credentials.opened(message.account_sid, url))
        except tokens.Unreadable:
            media.append(url_credentials.masked(url))
        except tokens.Unavailable as error:
            raise signing_later(job, f"a MediaUrl's credentials: {error}") from error
    return replace(message, media_urls=media)


def inbound_params(message: Message) -> dict[str, str]:
    """Twilio's inbound form fields for a received message."""
    params = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "SmsMessageSid": message.sid,
        "AccountSid": message.account_sid,
        "From": message.from_ or "",
        "To": message.to,
        "Body": message.body,
        "NumMedia": str(len(message.media_urls)),
        "NumSegments": str(message.num_segments),
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    for n, url in enumerate(message.media_urls):
        params[f"MediaUrl{n}"] = url
        params[f"MediaContentType{n}"] = guess_type(url)
    for side, number in (("From", message.from_), ("To", message.to)):
        country = addresses.region_of(number or "")
        if country:
            params[f"{side}Country"] = country
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    return params


def _request(url: str, method: str, params: dict, token: str | None):
    from chalicelib.outbound import client

    url, overrides = client.fragment_overrides(url)
    return client.twilio_request(
        method,
        url,
        params,
        token,
        None,
        overrides.apply(client.Limits()),
        config.delivery().allow_private_urls,
    )


def _record(message: Message, kind: str, url: str, answer, token) -> None:
    from chalicelib.outbound import client

    if answer.ok and not config.delivery().record_every_attempt:
        return  # HERALD_RECORD_ATTEMPTS=failures: only failed attempts are kept
    events.record(
        message.account_sid,
        message.sid,
        {
            "kind": kind,
            "url": client.shown(url),
            "answer": answer.status,
            "error": answer.error,
            "latency_ms": answer.latency_ms,
            "signed": token is not None,
        },
    )
