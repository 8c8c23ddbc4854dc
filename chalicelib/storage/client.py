"""The DynamoDB client and what its failures mean to Herald.

Every DynamoDB request goes through `call`, which names the table, maps the errors callers
cannot act on to Throttled (429 for the API) or Unavailable (503), and passes condition
failures through for the caller to interpret.
"""

import functools
import random
import time
import uuid
from dataclasses import dataclass

from chalicelib.runtime import config
from chalicelib.storage import boto, marshal

# Client errors that callers handle themselves rather than as an outage.
_PASSED_THROUGH = {"ConditionalCheckFailedException", "TransactionCanceledException"}
RETRYABLE_THROTTLES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}


class Missing(Exception):
    """The item is not there (or belongs to another account: the same thing)."""


@dataclass
class WrongState(Exception):
    """The item is there but a condition on its state failed; `item` is what it holds."""

    item: dict


class Exists(Exception):
    """A create found an item already under that key: `item`, what it holds (when known)."""

    def __init__(self, item=None):
        super().__init__("exists")
        self.item = item if isinstance(item, dict) else {}


class Throttled(Exception):
    """DynamoDB kept refusing for capacity after the client's own retries."""


class Unavailable(Exception):
    """DynamoDB failed in a way the caller can only retry later."""


@functools.cache
def client():
    # boto3 is imported here, not at module load: a Lambda cold start pays only when a
    # request actually needs DynamoDB.
    settings = config.load()
    return boto.new_client(
        "dynamodb",
        # A list page reads its shards in parallel (storage.listing).
        boto.short_retries(read_timeout=5, max_pool_connections=64),
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
    )


@functools.cache
def table() -> str:
    return config.load().table_name


@functools.cache
def _reads_back() -> bool:
    return config.load().read_back_refused_writes


def reset() -> None:
    """Forget the client and settings (tests switch endpoints between runs)."""
    client.cache_clear()
    table.cache_clear()
    _reads_back.cache_clear()


def call(operation: str, **kwargs) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    if "TransactItems" not in kwargs and "RequestItems" not in kwargs:
        kwargs["TableName"] = table()
    try:
        return getattr(client(), operation)(**kwargs)
    except ClientError as error:
        code = error_code(error)
        if code in _PASSED_THROUGH:
            raise
        if code in RETRYABLE_THROTTLES:
            raise Throttled(code) from error
        raise Unavailable(code) from error
    except BotoCoreError as error:
        raise Unavailable(type(error).__name__) from error


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def is_condition_failure(error: Exception) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def refused_item(error: Exception, key: dict) -> dict | None:
    """The item a refused conditional write saw; None when there was none.

    DynamoDB returns it with the error (ReturnValuesOnConditionCheckFailure), so a refusal
    costs no extra call, and a missing item and another account's cost the same. A server
    that ignores the parameter (dynalite; HERALD_READ_BACK_REFUSED_WRITES=1) is asked with
    one consistent read instead; that read only chooses the error code, the write was
    already refused atomically.
    """
    item = (getattr(error, "response", None) or {}).get("Item")
    if item:
        return marshal.from_attrs(item)
    return get(key) if _reads_back() else None


def get(key: dict, consistent: bool = True) -> dict | None:
    response = call("get_item", Key=key, ConsistentRead=consistent)
    item = response.get("Item")
    return marshal.from_attrs(item) if item else None


def put_new(item: dict) -> bool:
    """Put `item` (plain values) unless an item has its key: False when one has."""
    from botocore.exceptions import ClientError

    try:
        call(
            "put_item", Item=marshal.to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def transact(request: dict, wait_seconds: float) -> list[dict] | None:
    """Run a TransactWriteItems: None when it committed, or the cancellation reasons (one per
    item, in order) when a condition refused it.

    DynamoDB cancels a transaction that touches an item another one is writing
    (TransactionConflict); that one commits or fails within milliseconds, so the conflict is
    waited out with backoff for up to `wait_seconds` (a request with a ClientRequestToken
    gets a new one each time: a cancelled token is spent), then raises Unavailable.
    """
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + wait_seconds
    pause = 0.01
    while True:
        try:
            call("transact_write_items", **request)
            return None
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                return reasons
        if time.monotonic() + pause > deadline:
            raise Unavailable("TransactionConflict")
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.25)
        if "ClientRequestToken" in request:
            request = {**request, "ClientRequestToken": str(uuid.uuid4())}
