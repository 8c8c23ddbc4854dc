"""Fetching a message's media for a carrier that carries the files themselves (End User
Messaging sends MMS from S3 objects, not from URLs; the sandbox can be told to fetch too).

Each MediaUrl is an untrusted URL and is fetched as callbacks are called
(chalicelib.outbound.client): a GET with short timeouts, no redirects, no private addresses on
deployed stages, and the body bounded. Twilio's limits apply to what is fetched:

    11200  the URL did not answer 2xx (or not at all)
    30019  the media are larger than MAX_TOTAL_BYTES together
    12300  a content type a phone cannot show (CONTENT_TYPES)

All of a message's media are fetched within SECONDS together (and within the job's own
time: chalicelib.runtime.budget), so a hand-off's worst case is known before the worker claims the
message (Carrier.handoff_seconds).

A MediaUrl's credentials are stored sealed (chalicelib.storage.url_credentials):
`callable_urls` opens them, in the sender only. When KMS fails it raises MediaLater (nothing
was handed over: the carrier answers Throttled and the message is tried again); credentials
that never decrypt for the message's account are 11200.
"""

from dataclasses import dataclass

from chalicelib.runtime import budget, config
from chalicelib.twilio import codes

MAX_TOTAL_BYTES = 5 * 1024 * 1024  # Twilio's limit for one MMS's media
SECONDS = 12.0  # for all of a message's media, fetched one after another
CONTENT_TYPES = ("image/", "audio/", "video/")
OTHER_TYPES = frozenset(
    {"text/vcard", "text/x-vcard", "text/calendar", "text/csv", "text/plain", "application/pdf"}
)


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str
    data: bytes


@dataclass
class MediaRefused(Exception):
    code: int
    message: str


class MediaLater(Exception):
    """The media cannot be fetched now (KMS could not open a URL's credentials): try later."""


def callable_urls(message) -> list[str]:
    """The message's media URLs as they are fetched: their credentials opened."""
    from chalicelib.storage import tokens, url_credentials

    try:
        return [url_credentials.opened(message.account_sid, url) for url in message.media_urls]
    except tokens.Unreadable:
        raise MediaRefused(
            codes.HTTP_RETRIEVAL_FAILURE,
            "HTTP retrieval failure: the URL's credentials cannot be decrypted",
        ) from None
    except tokens.Unavailable as error:
        raise MediaLater(f"KMS could not decrypt a media URL's credentials: {error}") from error


def fetch_all(urls: list[str]) -> list[Fetched]:
    """Every URL's content, within the limits above; raises MediaRefused at the first that
    is not."""
    with budget.within(SECONDS):  # chalicelib.outbound.client caps each request by what is left
        return _fetch_each(urls)


def _fetch_each(urls: list[str]) -> list[Fetched]:
    from chalicelib.outbound import client

    fetched, left = [], MAX_TOTAL_BYTES
    for url in urls:
        answer = client.request(
            "GET",
            url,
            headers={"Accept": "image/*, audio/*, video/*, */*;q=0.5"},
            limits=client.Limits(max_body=left),
            allow_private=config.delivery().allow_private_urls,
        )
        if answer.error == "too large":
            raise MediaRefused(codes.MEDIA_TOO_LARGE, "Content size exceeds carrier limit")
        if not answer.ok:
            reason = answer.error or f"HTTP {answer.status}"
            raise MediaRefused(codes.HTTP_RETRIEVAL_FAILURE, f"HTTP retrieval failure: {reason}")
        content_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        if not (content_type.startswith(CONTENT_TYPES) or content_type in OTHER_TYPES):
            raise MediaRefused(
                codes.INVALID_CONTENT_TYPE, f"Invalid Content-Type: {content_type or 'none'}"
            )
        left -= len(answer.body)
        fetched.append(Fetched(url, content_type, answer.body))
    return fetched
