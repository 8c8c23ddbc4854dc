"""Settings read from the environment, once per process.

The same names serve the Lambda (set by the deploy templates), `make run` and the admin CLI,
so all three always talk to the same table.
"""

import os
from dataclasses import dataclass

DEFAULT_TABLE = "herald-messages"
# Used only when HERALD_PAGE_TOKEN_SECRET is unset (local runs). Page tokens are always
# scoped to the caller's own account partition, so a known key lets a user forge a cursor
# into their own data at most; deployed stages set a real secret all the same.
_DEV_TOKEN_SECRET = "herald-local-development-page-token-secret"


# Plain (not frozen) dataclasses here and on the API's import path: a frozen one costs twice
# as much to build at every cold start (bench/cold_start.py --explain), and nothing writes
# to these once made.
@dataclass
class Settings:
    table_name: str
    endpoint_url: str | None
    region: str
    page_token_secret: bytes
    # For DynamoDB implementations that ignore ReturnValuesOnConditionCheckFailure (dynalite):
    # a refused write is read back to tell "missing" from "wrong state".
    read_back_refused_writes: bool = False
    # A message's From must be one of the account's IncomingPhoneNumbers (21606 otherwise),
    # at the cost of one GetItem per create. Off unless HERALD_REQUIRE_REGISTERED_FROM=1: the
    # sandbox sends from any number.
    require_registered_from: bool = False


def load() -> Settings:
    env = os.environ
    endpoint = env.get("DYNAMODB_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL_DYNAMODB") or None
    return Settings(
        table_name=env.get("HERALD_TABLE_NAME", DEFAULT_TABLE),
        endpoint_url=endpoint,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        page_token_secret=env.get("HERALD_PAGE_TOKEN_SECRET", _DEV_TOKEN_SECRET).encode(),
        read_back_refused_writes=env.get("HERALD_READ_BACK_REFUSED_WRITES") == "1",
        require_registered_from=env.get("HERALD_REQUIRE_REGISTERED_FROM") == "1",
    )


@dataclass
class Delivery:
    """How messages go out: the carrier, the queues between the steps, and their bounds."""

    carrier: str
    send_queue_url: str | None
    callback_queue_url: str | None
    receipt_queue_url: str | None
    # The KMS key that encrypts each account's AuthToken for signing (HERALD_KMS_KEY_ID).
    kms_key_id: str | None
    # Local stages call callback and webhook URLs on loopback and private addresses;
    # deployed stages never do (the Lambda runtime API listens on 127.0.0.1).
    allow_private_urls: bool
    # A worker's claim on a message lasts this long; it outlives the function's timeout, so
    # a claim that has expired belongs to a worker that is gone.
    lease_seconds: int
    # Carrier throttling is retried through the queue this many times, then the message fails.
    max_send_attempts: int
    retry_base_seconds: int
    # The sandbox carrier's pause before each receipt (seconds, via the queue's DelaySeconds).
    sandbox_delay_seconds: int
    # Whether Herald answers STOP/START/HELP itself (the sandbox); on AWS, End User
    # Messaging's own keyword answers do (HERALD_KEYWORD_REPLIES=1 turns Herald's on there).
    keyword_replies: bool = True
    # The private bucket End User Messaging sends MMS media from (HERALD_MEDIA_BUCKET), and
    # whether the sandbox fetches media as that carrier would (HERALD_SANDBOX_FETCH_MEDIA=1).
    media_bucket: str | None = None
    sandbox_fetches_media: bool = False
    # Whether a status callback or webhook attempt that succeeded is recorded with its
    # message (for the inbox) as well as every one that failed: HERALD_RECORD_ATTEMPTS=all
    # (the sandbox's default) or failures (End User Messaging's: one write less per status
    # change, docs/figures.md).
    record_every_attempt: bool = True


CARRIERS = ("sandbox", "end-user-messaging")


def delivery() -> Delivery:
    env = os.environ
    carrier = env.get("HERALD_CARRIER", "sandbox")
    if carrier not in CARRIERS:
        raise ValueError(f"HERALD_CARRIER is one of {', '.join(CARRIERS)}, not {carrier!r}")
    return Delivery(
        carrier=carrier,
        send_queue_url=env.get("HERALD_SEND_QUEUE_URL") or None,
        callback_queue_url=env.get("HERALD_CALLBACK_QUEUE_URL") or None,
        receipt_queue_url=env.get("HERALD_RECEIPT_QUEUE_URL") or None,
        kms_key_id=env.get("HERALD_KMS_KEY_ID") or None,
        allow_private_urls=env.get("HERALD_ALLOW_PRIVATE_URLS") == "1",
        lease_seconds=int(env.get("HERALD_LEASE_SECONDS", "60")),
        max_send_attempts=int(env.get("HERALD_MAX_SEND_ATTEMPTS", "6")),
        retry_base_seconds=int(env.get("HERALD_RETRY_BASE_SECONDS", "2")),
        sandbox_delay_seconds=int(env.get("HERALD_SANDBOX_DELAY_SECONDS", "1")),
        media_bucket=env.get("HERALD_MEDIA_BUCKET") or None,
        sandbox_fetches_media=env.get("HERALD_SANDBOX_FETCH_MEDIA") == "1",
        keyword_replies=env.get("HERALD_KEYWORD_REPLIES", "1" if carrier == "sandbox" else "0")
        == "1",
        record_every_attempt=env.get(
            "HERALD_RECORD_ATTEMPTS", "all" if carrier == "sandbox" else "failures"
        )
        != "failures",
    )
