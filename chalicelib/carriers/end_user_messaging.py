"""The End User Messaging SMS carrier: AWS's `pinpoint-sms-voice-v2` SendTextMessage (or
SendMediaMessage, for a message with one media file), once.

The worker calls `send` once per claim (chalicelib.delivery.worker). This module turns that
call into one request (its parameters: chalicelib.carriers.eum_request) and its answer (or
failure: chalicelib.carriers.eum_errors) into an Outcome:

    Accepted   AWS answered with a MessageId: the message is `sent`
    Throttled  AWS refused for rate or quota (ThrottlingException,
               ServiceQuotaExceededException), or the connection was never made: nothing
               was handed over, so the worker retries through the queue with backoff
    Refused    AWS refused this message for good (ValidationException, ConflictException,
               ResourceNotFoundException, AccessDeniedException): `failed`, with the
               closest Twilio code (eum_errors.REFUSALS and docs/carriers.md)
    TimedOut   the request may have reached AWS but no answer says what became of it
               (InternalServerException, a read timeout, a connection lost mid-request,
               anything unforeseen): `failed` 30410, never handed over again

Never sent twice. botocore retries by default: on a timeout, a dropped connection, a 500
or a throttle it sends the same request again, and SendTextMessage has no idempotency token,
so a retry after a request AWS did act on sends the text a second time. The client is made
with `total_max_attempts=1`: botocore sends each request exactly once and every retry goes
through Herald's claim (a throttle, or a connection that was never made, releases the claim
and the queue brings the job back; anything after which AWS may have sent the text fails
the message). Timeouts are short (connect 2 s, read 10 s): the worker's lease and the
function's timeout are far longer, so a hung request ends as TimedOut, not as a killed worker.

Who the text comes from (OriginationIdentity), in order: the account's sender for the
message's MessagingServiceSid, the account's default sender, the stage's default
(HERALD_EUM_ORIGINATION_IDENTITY), else the message's From (eum_request.origination_identity).
Other settings: HERALD_EUM_MESSAGE_TYPE (TRANSACTIONAL, the default, or PROMOTIONAL) and
HERALD_EUM_CONFIGURATION_SET (the configuration set whose event destination brings the
receipts back: chalicelib.delivery.receipts reads them from the receipt queue).

Every request carries the message's AccountSid and Sid in `Context`, which AWS echoes in each
event, so a receipt finds its message with one read. AWS documents that an event can come up
to 72 hours after the hand-off, and that it emits TEXT_UNKNOWN when no final one came by
then: the message then ends `undelivered` 30008 (chalicelib.carriers.events).
"""

import functools
import logging

from chalicelib.carriers import eum_errors, eum_request
from chalicelib.carriers.base import Accepted, CreateRefusal, Outcome, Refused, Throttled
from chalicelib.carriers.eum_settings import settings
from chalicelib.outbound import media_fetch
from chalicelib.runtime import clock, config
from chalicelib.storage import boto
from chalicelib.twilio import codes

log = logging.getLogger("herald.delivery")

NAME = "end-user-messaging"
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10
# An MMS's file is stored in S3 between the fetch and the request (a few MB, same region).
STORE_SECONDS = 2


@functools.cache
def client():
    """The container's one pinpoint-sms-voice-v2 client, made on first use; it never
    retries (see the module's docstring)."""
    return boto.new_client(
        "pinpoint-sms-voice-v2",
        {
            "retries": {"mode": "standard", "total_max_attempts": 1},
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
        },
        region_name=config.load().region,
    )


def reset() -> None:
    client.cache_clear()


class EndUserMessaging:
    name = NAME

    def refuse_at_create(self, to: str, from_: str | None) -> CreateRefusal | None:
        return None  # AWS has no test numbers that answer the create

    def send(self, message) -> Outcome:
        stage = settings()
        if len(message.media_urls) > 1:
            return Refused(
                codes.TOO_MANY_MEDIA,
                "End User Messaging carries one media file per message: send one each",
            )
        try:
            senders = eum_request.account_senders(message.account_sid)
        except Exception as error:  # nothing was handed over: try again later
            log.warning("could not read the senders of %s: %r", message.account_sid, error)
            return Throttled(f"the account's senders could not be read: {error}")
        identity = eum_request.origination_identity(message, senders, stage)
        if identity is None:
            if message.messaging_service_sid:
                return Refused(
                    codes.SERVICE_WITHOUT_NUMBERS, codes.MESSAGES[codes.SERVICE_WITHOUT_NUMBERS]
                )
            return Refused(
                codes.FROM_NOT_ALLOWED, "No origination identity is configured for this message"
            )
        request = eum_request.request_for(message, identity, stage, clock.now_ms())
        media_types = None
        if message.media_urls:
            try:
                request, media_types = eum_request.with_media(message, request)
            except media_fetch.MediaRefused as refused:
                return Refused(refused.code, refused.message)
            except media_fetch.MediaLater as later:
                return Throttled(str(later))
            except Exception as error:  # S3 failed: nothing was handed over yet
                log.warning("could not store the media of %s: %r", message.sid, error)
                return Throttled(f"the media could not be stored: {error}")
        try:
            if media_types is None:
                answer = client().send_text_message(**request)
            else:
                answer = client().send_media_message(**request)
        except Exception as error:
            outcome = eum_errors.outcome_of(error, message, identity)
            log.warning("End User Messaging: %s for %s: %r", outcome, message.sid, error)
            return outcome
        return Accepted(answer["MessageId"], media_types)

    def handoff_seconds(self, message) -> float:
        media = media_fetch.SECONDS + STORE_SECONDS if message.media_urls else 0
        return CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS + media

    def feedback(self, message) -> None:
        """PutMessageFeedback for a message sent with MessageFeedbackEnabled: confirmed is
        RECEIVED, unconfirmed FAILED."""
        outcome = (message.feedback or {}).get("outcome")
        if not message.carrier_id or outcome not in ("confirmed", "unconfirmed"):
            return
        client().put_message_feedback(
            MessageId=message.carrier_id,
            MessageFeedbackStatus="RECEIVED" if outcome == "confirmed" else "FAILED",
        )
