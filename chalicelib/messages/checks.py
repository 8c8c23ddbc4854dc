"""What every message Herald sends must pass, whichever path makes it.

Paths that make an outbound message: the API's create, a TwiML reply, a keyword answer; the
inbox sends through the API and texts through the sandbox's handset route, which reads its
addresses and media URLs with the same functions. So that the next path cannot forget a
rule, chalicelib.messages.creation calls `outbound` before it stores any message that goes
out, and nothing else stores new messages. The rules, with Twilio's codes:

    21211 / 21212  To / From is not an address Herald sends to / from: chalicelib.twilio.addresses,
                   which never rewrites a number into another (`+1415555O1OO` is refused,
                   not read as +14155556166)
    21617          a body over 1600 characters
    21623 / 21620  more than 10 media URLs / one that is not an http(s) URL Herald can fetch
    21609          a status callback (StatusCallback, a TwiML `action`) that is not an
                   http(s) URL Herald can call
    21606          with HERALD_REQUIRE_REGISTERED_FROM=1, a From phone number that is not one
                   of the account's IncomingPhoneNumbers (on End User Messaging the From
                   becomes the OriginationIdentity: one account must never send from
                   another's number)
    21610          the To texted STOP to the From (except the answer to a keyword itself)

A URL is one Herald can call when chalicelib.outbound.addresses reads it as the call will:
http or https with a host, no control character or space, written or percent-encoded
(`%0d%0a`); `user:password@` is allowed (sent as Basic auth). `javascript:`, `file:`,
`data:` and the like are refused, so nothing stored can later be rendered as such a link.

The first rules read nothing; the last two one GetItem each, and only for a message that
passed the others.
"""

from chalicelib.messages.model import Message
from chalicelib.outbound.addresses import is_callable, quoted
from chalicelib.runtime import config
from chalicelib.twilio import addresses, codes, errors

MAX_BODY_CHARS = 1600
MAX_MEDIA = 10


def to_address(text: str) -> str:
    """A To as Herald stores it, or 21211."""
    normalized = addresses.normalize_address(text)
    if normalized is None:
        raise errors.TwilioError(
            codes.INVALID_TO, f"The 'To' number {text} is not a valid phone number."
        )
    return normalized


def from_address(text: str) -> str:
    """A From as Herald stores it (a number, a channel address, an alphanumeric sender ID),
    or 21212."""
    normalized = addresses.normalize_address(text, allow_alphanumeric=True)
    if normalized is None:
        raise errors.TwilioError(
            codes.INVALID_FROM,
            f"The 'From' number {text} is not a valid phone number or shortcode.",
        )
    return normalized


def body(text: str) -> str:
    if len(text) > MAX_BODY_CHARS:
        raise errors.TwilioError(
            codes.BODY_TOO_LONG,
            f"The concatenated message body exceeds the {MAX_BODY_CHARS} character limit.",
        )
    return text


def media_urls(urls: list[str]) -> list[str]:
    """Up to 10 media URLs Herald can fetch, or 21623 / 21620."""
    if len(urls) > MAX_MEDIA:
        raise errors.TwilioError(
            codes.TOO_MANY_MEDIA, f"Too many media URLs: at most {MAX_MEDIA} are allowed."
        )
    for url in urls:
        if not is_callable(url):
            raise errors.TwilioError(codes.INVALID_MEDIA_URL, f"Invalid media URL: {quoted(url)}")
    return urls


def callback_url(url: str) -> str:
    """A status callback URL Herald can call, or 21609."""
    if not is_callable(url):
        raise errors.TwilioError(
            codes.INVALID_STATUS_CALLBACK, f"Invalid StatusCallback: {quoted(url)}"
        )
    return url


def outbound(message: Message, *, answers_keyword: bool = False) -> None:
    """Raise the TwilioError that says why `message` may not be sent; None when it may."""
    # A path hands in what it read with to_address and from_address: each is its own
    # stored form. Anything else (read some other way) is refused, never stored.
    if to_address(message.to) != message.to:
        raise errors.TwilioError(
            codes.INVALID_TO, f"The 'To' number {message.to} is not in E.164 form."
        )
    if message.from_ is None:
        if not message.messaging_service_sid:
            raise errors.TwilioError(codes.FROM_REQUIRED, "A 'From' phone number is required.")
    elif from_address(message.from_) != message.from_:
        raise errors.TwilioError(
            codes.INVALID_FROM, f"The 'From' number {message.from_} is not in E.164 form."
        )
    body(message.body)
    media_urls(message.media_urls)
    if message.options.get("StatusCallback"):
        callback_url(message.options["StatusCallback"])
    registered_sender(message.account_sid, message.from_)
    if not answers_keyword:
        not_opted_out(message.from_, message.to)


def registered_sender(account_sid: str, from_: str | None) -> None:
    """Where the stage asks for it (HERALD_REQUIRE_REGISTERED_FROM=1; off in the sandbox), a
    From phone number must be one of the account's IncomingPhoneNumbers: one GetItem on the
    number's owner item. Alphanumeric sender IDs and channel addresses are not checked."""
    if not from_ or not from_.startswith("+") or not config.load().require_registered_from:
        return
    from chalicelib.storage import numbers

    owner = numbers.get_owner(from_)
    if owner is None or owner["account_sid"] != account_sid:
        raise errors.TwilioError(
            codes.FROM_NOT_ALLOWED,
            f"The From phone number {from_} is not a valid, SMS-capable inbound phone number"
            " or short code for your account.",
        )


def not_opted_out(from_: str | None, to: str) -> None:
    """21610 when the handset texted STOP to this number (chalicelib.inbound), as Twilio
    answers; only a phone number can have been texted, so other senders cost no read."""
    from chalicelib.storage import optouts

    if from_ and from_.startswith("+") and to[:1] == "+" and optouts.is_opted_out(from_, to):
        raise errors.TwilioError(
            codes.UNSUBSCRIBED_RECIPIENT, codes.MESSAGES[codes.UNSUBSCRIBED_RECIPIENT]
        )
