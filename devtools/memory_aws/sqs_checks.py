"""What the in-memory SQS (devtools/memory_aws/sqs.py) refuses and how it says so: SQS's
errors as botocore presents them, the checks of queue attributes, message attributes and
batches, and the MD5 digests SQS answers with.

An error is the ClientError botocore raises for SQS's JSON protocol: `Code` is the query
code SQS sends in x-amzn-query-error (`AWS.SimpleQueueService.NonExistentQueue`),
`QueryErrorCode` the error's shape name (`QueueDoesNotExist`, what botocore picks the
modeled exception class by), `Type` "Sender". Modeled errors are raised as the class a
client's `exceptions` has (`sqs.exceptions.QueueDoesNotExist`), from SQS's own model.
"""

import functools
import hashlib
import json
import re
import struct

# Shape name -> (the code botocore presents, HTTP status): SQS's awsQueryError traits.
MODELED = {
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
}
MAX_BATCH = 10
MAX_BATCH_BYTES = 1_048_576
MAX_DELAY = 900
MAX_VISIBILITY = 43_200
MAX_WAIT = 20
# Integer queue attributes and their bounds; the defaults are SQS's.
BOUNDS = {
    "DelaySeconds": (0, MAX_DELAY),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, MAX_WAIT),
    "VisibilityTimeout": (0, MAX_VISIBILITY),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
TEXTS = ("Policy", "RedriveAllowPolicy", "KmsMasterKeyId")
FIFO_ATTRIBUTES = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
# What GetQueueAttributes answers, in this order, and the names it takes besides.
QUEUE_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "DelaySeconds",
    "LastModifiedTimestamp",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "QueueArn",
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
)
READABLE = frozenset((*QUEUE_ATTRIBUTES, "FifoQueue", *FIFO_ATTRIBUTES))
QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")
BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")
ATTRIBUTE_NAME = re.compile(r"(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)\Z")
# Characters a message may hold (SQS: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@functools.cache
def exceptions():
    """The modeled exception classes, as a boto3 SQS client's `exceptions` has them."""
    import botocore.session
    from botocore.errorfactory import ClientExceptionsFactory

    model = botocore.session.get_session().get_service_model("sqs")
    return ClientExceptionsFactory().create_client_exceptions(model)


def error(shape: str, message: str, operation: str) -> Exception:
    """The ClientError botocore raises for SQS's error `shape` (or an unmodeled code)."""
    code, status = MODELED.get(shape, (shape, 400))
    response = {
        "Error": {"Message": message, "Code": code, "QueryErrorCode": shape, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
    }
    return exceptions().from_code(shape)(response, operation)


def invalid(message: str, operation: str) -> Exception:
    return error("InvalidParameterValue", message, operation)


def failure(entry_id: str, code: str, message: str) -> dict:
    """A batch's entry that failed, as the batch's `Failed` lists it."""
    return {"Id": entry_id, "SenderFault": True, "Code": code, "Message": message}


def number(value, name: str, low: int, high: int, operation: str) -> int:
    try:
        found = int(value)
    except (TypeError, ValueError):
        found = None
    if found is None or not low <= found <= high:
        raise invalid(
            f"Value {value} for parameter {name} is invalid. "
            f"Reason: must be between {low} and {high}, if provided.",
            operation,
        )
    return found


def batch(entries, kind: str, operation: str) -> list[dict]:
    """A batch's entries, refused whole as SQS refuses them: none, too many, an Id twice
    or an Id SQS does not take."""
    entries = list(entries or [])
    if not entries:
        raise error(
            "EmptyBatchRequest",
            f"There should be at least one {kind}RequestEntry in the request.",
            operation,
        )
    if len(entries) > MAX_BATCH:
        raise error(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are 10. You have sent {len(entries)}.",
            operation,
        )
    seen = set()
    for entry in entries:
        if entry["Id"] in seen:
            raise error("BatchEntryIdsNotDistinct", f"Id {entry['Id']} repeated.", operation)
        seen.add(entry["Id"])
        if not BATCH_ID.match(entry["Id"]):
            raise error(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long.",
                operation,
            )
    return entries


def queue_attributes(given: dict | None, operation: str) -> dict[str, str]:
    """The attributes a CreateQueue or SetQueueAttributes sets, as GetQueueAttributes
    answers them; RedrivePolicy as SQS writes it (the dead-letter queue is the caller's)."""
    normal = {}
    for name, value in (given or {}).items():
        if name in BOUNDS:
            low, high = BOUNDS[name]
            try:
                found = int(value)
            except (TypeError, ValueError):
                found = None
            if found is None or not low <= found <= high:
                raise error(
                    "InvalidAttributeValue", f"Invalid value for the parameter {name}.", operation
                )
            normal[name] = str(found)
        elif name == "RedrivePolicy":
            normal[name] = redrive_policy(value, operation)
        elif name in TEXTS:
            normal[name] = str(value)
        elif name == "SqsManagedSseEnabled":
            normal[name] = str(value).lower()
        elif (name == "FifoQueue" and str(value).lower() == "true") or name in FIFO_ATTRIBUTES:
            raise error(
                "UnsupportedOperation",
                "FIFO queues are not served by Herald's in-memory SQS.",
                operation,
            )
        elif name != "FifoQueue":
            raise error("InvalidAttributeName", f"Unknown Attribute {name}.", operation)
    return normal


def redrive_policy(value, operation: str) -> str:
    """'' (none) or the policy as SQS answers it: compact JSON, maxReceiveCount a number."""
    if value in ("", {}, None):
        return ""
    try:
        policy = json.loads(value) if isinstance(value, str) else dict(value)
        arn, most = policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])
    except (ValueError, TypeError, KeyError):
        policy = None
    if policy is None or not isinstance(arn, str) or not 1 <= most <= 1000:
        raise error(
            "InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy.", operation
        )
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": most}, separators=(",", ":"))


def message_attributes(given: dict | None, operation: str) -> tuple[dict, int]:
    """A message's attributes as SQS keeps them, and their size in bytes."""
    kept, size = {}, 0
    if len(given or {}) > 10:
        raise invalid(
            f"Number of message attributes [{len(given)}] exceeds the allowed maximum [10].",
            operation,
        )
    for name, value in (given or {}).items():
        lowered = name.lower()
        if not ATTRIBUTE_NAME.match(name) or lowered.startswith(("aws.", "amazon.")):
            raise invalid(f"The message attribute name '{name}' is invalid.", operation)
        data_type = value.get("DataType") or ""
        kind = data_type.split(".", 1)[0]
        if kind not in ("String", "Number", "Binary"):
            raise invalid(
                f"The message attribute '{name}' has an invalid message attribute type, "
                "the set of supported type prefixes is Binary, Number, and String.",
                operation,
            )
        if kind == "Binary":
            raw = value.get("BinaryValue")
            raw = raw.encode() if isinstance(raw, str) else raw
            entry = {"BinaryValue": raw, "DataType": data_type}
        else:
            raw = value.get("StringValue")
            entry = {"StringValue": raw, "DataType": data_type}
        if not raw:
            raise invalid(
                f"The message attribute '{name}' must contain non-empty message "
                f"attribute value for message attribute type '{kind}'.",
                operation,
            )
        kept[name] = entry
        size += len(name.encode()) + len(data_type.encode()) + len(_bytes(raw))
    return kept, size


def body_checked(body, operation: str) -> str:
    if not isinstance(body, str) or not body:
        raise error(
            "MissingParameter", "The request must contain the parameter MessageBody.", operation
        )
    if FORBIDDEN.search(body):
        raise error("InvalidMessageContents", "Invalid characters found.", operation)
    return body


def too_large(most: int, operation: str) -> Exception:
    return invalid(
        f"One or more parameters are invalid. Reason: Message must be shorter than {most} bytes.",
        operation,
    )


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: dict) -> str:
    """SQS's digest of message attributes: each (name, type, transport, value), length-
    prefixed, in order of name."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        for part in (name, value["DataType"]):
            _add(digest, part.encode())
        if "BinaryValue" in value:
            digest.update(b"\x02")
            _add(digest, value["BinaryValue"])
        else:
            digest.update(b"\x01")
            _add(digest, value["StringValue"].encode())
    return digest.hexdigest()


def _add(digest, data: bytes) -> None:
    digest.update(struct.pack("!I", len(data)))
    digest.update(data)


def _bytes(value) -> bytes:
    return value.encode() if isinstance(value, str) else value
