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
    21606          a From phone number that is another account's IncomingPhoneNumber, whatever
                   the stage (on End User Messaging the From becomes the OriginationIdentity:
                   one account never sends from another's number); with
                   HERALD_REQUIRE_REGISTERED_FROM=1, any that is not one of the account's own.
                   Without the flag an unregistered From is taken (the sandbox, Twilio's
                   magic test numbers), and another account's is refused with the very answer
                   the flag gives an unregistered one, so nothing more is said about it
    21610          the To texted STOP to the From, or to any number of the message's
                   Messaging Service (except the answer to a keyword itself)
    21701 / 21704  a MessagingServiceSid that names no service of the account / a service
                   with no sender at all, when the message has no From of its own
    21606          with a Messaging Service, a From that is not one of the service's senders
                   and is another account's number (with HERALD_REQUIRE_REGISTERED_FROM=1:
                   any From not one of its senders); without one, with the flag, an
                   alphanumeric From that is none of the account's AlphaSenders

A URL is one Herald can call when chalicelib.outbound.addresses reads it as the call will:
http or https with a host, no control character or space, written or percent-encoded
(`%0d%0a`); `user:password@` is allowed (sent as Basic auth). `javascript:`, `file:`,
`data:` and the like are refused, so nothing stored can later be rendered as such a link.

The first rules read nothing; the last ones one call each, and only for a message that
passed the others: the service's pool (chalicelib.services.pool, cached per container), the
owner item of a From number (one GetItem, flag or not: the flag only decides what a number
no account holds gets; without it a yes is kept per container, _may_send_from; none for a
From that is a sender of the message's service, whose pool is the account's own), an
opt-out (one GetItem, or one BatchGetItem for a From and its service together).
"""

import time

from chalicelib.messages.model import Message
from chalicelib.outbound.addresses import is_callable, quoted
from chalicelib.runtime import caches, config
from chalicelib.twilio import addresses, codes, errors

MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
# Without the flag, the (account, number) pairs this container read as a From the account may
# use (its own number, or one no account holds), and when: _may_send_from.
SENDABLE_SECONDS = 10.0
SENDABLE_ENTRIES = 1000
_sendable: dict[tuple[str, str], float] = {}


def forget() -> None:
    """Drop what this container read of who may send from which number."""
    _sendable.clear()


def _monotonic() -> float:
    return time.monotonic()


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


def outbound(message: Message, *, answers_keyword: bool = False) -> dict | None:
    """Raise the TwilioError that says why `message` may not be sent; when it may, the
    pool of its Messaging Service (chalicelib.services.pool), or None without one."""
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
    found = messaging_service(message)
    if found is None:
        registered_sender(message.account_sid, message.from_)
    if not answers_keyword:
        not_opted_out(message.from_, message.to, message.messaging_service_sid)
    return found


def messaging_service(message: Message) -> dict | None:
    """The pool of the message's service (None without one): 21701 when the account has no
    such service; 21704 when it has no sender and the message no From; with
    HERALD_REQUIRE_REGISTERED_FROM=1, 21606 for a From that is not one of its senders."""
    if not message.messaging_service_sid:
        return None
    from chalicelib.services import pool

    found = pool.pool(message.account_sid, message.messaging_service_sid)
    if found is None:
        raise errors.TwilioError(
            codes.SERVICE_NOT_FOUND,
            f"The Messaging Service {message.messaging_service_sid} does not exist.",
        )
    senders = pool.senders_of(found)
    if message.from_ is None and not senders:
        raise errors.TwilioError(
            codes.SERVICE_WITHOUT_NUMBERS, codes.MESSAGES[codes.SERVICE_WITHOUT_NUMBERS]
        )
    # Without the flag an explicit From need not be one of the service's senders, but it is
    # never another account's number (End User Messaging sends from it): refused as the
    # flag refuses any From that is not a sender.
    from_ = message.from_
    if (
        from_
        and from_ not in senders
        and (
            config.load().require_registered_from
            or (from_.startswith("+") and not _may_send_from(message.account_sid, from_, False))
        )
    ):
        raise errors.TwilioError(
            codes.FROM_NOT_ALLOWED,
            f"The From {from_} is not a sender of the Messaging Service"
            f" {message.messaging_service_sid}.",
        )
    return found


def registered_sender(account_sid: str, from_: str | None) -> None:
    """A From phone number is never another account's IncomingPhoneNumber, and where the
    stage asks for it (HERALD_REQUIRE_REGISTERED_FROM=1; off in the sandbox) it must be one
    of the account's own: one GetItem on the number's owner item either way. With the flag,
    an alphanumeric From must be one of the account's services' AlphaSenders (one Query, a
    yes cached per container: chalicelib.services.pool.holds_alpha).
    Channel addresses (`whatsapp:`) are not checked."""
    if not from_:
        return
    required = config.load().require_registered_from
    if addresses.ALPHANUMERIC_SENDER.match(from_) and not from_.startswith("+"):
        if not required:
            return
        from chalicelib.services import pool

        if not pool.holds_alpha(account_sid, from_):
            raise errors.TwilioError(
                codes.FROM_NOT_ALLOWED,
                f"The From {from_} is not an AlphaSender of any Messaging Service of your account.",
            )
        return
    if from_.startswith("+") and not _may_send_from(account_sid, from_, required):
        # One answer for a number no account holds (refused only with the flag) and for
        # another account's: the refusal says nothing of who holds it.
        raise errors.TwilioError(
            codes.FROM_NOT_ALLOWED,
            f"The From phone number {from_} is not a valid, SMS-capable inbound phone number"
            " or short code for your account.",
        )


def _may_send_from(account_sid: str, number: str, required: bool) -> bool:
    """Whether the account may send from the E.164 `number`: its own, yes; another
    account's, never; one no account holds, only where registration is not `required`.

    One GetItem of the number's owner item (chalicelib.storage.numbers.get_owner), strongly
    consistent, as inbound texts are routed by it: an eventually consistent one (half the
    read units) could, for its replication lag after a number moved between accounts, let
    the old owner send from it and refuse the new one, and with the flag refuse a number
    just registered.

    Without the flag a yes is kept SENDABLE_SECONDS, as a Messaging Service's pool is
    (chalicelib.services.pool): an account sending 10,000 messages a second from one number
    reads its owner item about once per container and period, not once per message (one
    partition serves 3,000 reads a second). So for that long after a number becomes another
    account's (registered, or moved), a container that read it as sendable a moment before
    still takes it. A no is read again each time, and with the flag nothing is kept: what
    the flag decides is decided on the stored item, as it always was."""
    key = (account_sid, number)
    if not required:
        read_at = _sendable.get(key)
        if read_at is not None and _monotonic() - read_at < SENDABLE_SECONDS:
            return True
    from chalicelib.storage import numbers

    owner = numbers.get_owner(number)
    allowed = not required if owner is None else owner["account_sid"] == account_sid
    if allowed and not required:
        caches.remember(_sendable, key, _monotonic(), SENDABLE_ENTRIES)
    return allowed


def not_opted_out(from_: str | None, to: str, service_sid: str | None = None) -> None:
    """21610 when the handset texted STOP to this number (chalicelib.inbound), or to any
    number of the message's Messaging Service (Twilio's Advanced Opt-Out: an opt-out given
    to one number of a service is given to the service), as Twilio answers; only a phone
    number can have been texted, so other senders cost no read."""
    from chalicelib.storage import optouts

    if to[:1] != "+":
        return
    scopes = [s for s in (from_ if from_ and from_.startswith("+") else None, service_sid) if s]
    if scopes and optouts.any_opted_out(scopes, to):
        raise errors.TwilioError(
            codes.UNSUBSCRIBED_RECIPIENT, codes.MESSAGES[codes.UNSUBSCRIBED_RECIPIENT]
        )
