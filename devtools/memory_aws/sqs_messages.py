"""The messages of the in-memory SQS (devtools/memory_aws/sqs.py) as its API takes and
answers them: a message made of SendMessage's parameters, the answers of SendMessage and
ReceiveMessage, receipt handles, and why a ChangeMessageVisibility is refused.

A receipt handle names its queue, message and receive (base64 of `queue/id/receive`): one
of another queue, or not one of ours, is invalid; one of an earlier receive is stale.
"""

import base64
import binascii
import uuid

from devtools.memory_aws import sqs_checks as checks
from devtools.memory_aws.sqs_queue import Gone, Message, NotInFlight, Queue, Stale

SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def new_message(queue: Queue, entry: dict, now: float, operation: str) -> tuple[Message, int]:
    """A message of SendMessage's parameters (or a batch entry's), and its delay."""
    body = checks.body_checked(entry.get("MessageBody"), operation)
    attributes, size = checks.message_attributes(entry.get("MessageAttributes"), operation)
    most = queue.setting("MaximumMessageSize")
    if len(body.encode()) + size > most:
        raise checks.too_large(most, operation)
    delay = entry.get("DelaySeconds")
    delay = queue.setting("DelaySeconds") if delay is None else delay
    delay = checks.number(delay, "DelaySeconds", 0, checks.MAX_DELAY, operation)
    trace = (entry.get("MessageSystemAttributes") or {}).get("AWSTraceHeader")
    if trace:
        trace = {"AWSTraceHeader": {"StringValue": trace["StringValue"], "DataType": "String"}}
    attributes_md5 = checks.md5_of_attributes(attributes) if attributes else None
    body_md5 = checks.md5_of_body(body)
    return Message(str(uuid.uuid4()), body, body_md5, attributes, attributes_md5, now, trace), delay


def sent(message: Message) -> dict:
    """What SendMessage answers (and a SendMessageBatch's Successful entry holds)."""
    answer = {"MD5OfMessageBody": message.body_md5, "MessageId": message.id}
    if message.attributes_md5:
        answer["MD5OfMessageAttributes"] = message.attributes_md5
    if message.trace:
        answer["MD5OfMessageSystemAttributes"] = checks.md5_of_attributes(message.trace)
    return answer


def received(queue: Queue, taken: tuple, names: set, attribute_names, sender: str) -> dict:
    """A message as ReceiveMessage answers it, with the system attributes in `names` and
    the message attributes in `attribute_names`."""
    message, receive, first = taken
    handle = f"{queue.name}/{message.id}/{receive}".encode()
    answer = {
        "MessageId": message.id,
        "ReceiptHandle": base64.urlsafe_b64encode(handle).decode(),
        "MD5OfBody": message.body_md5,
        "Body": message.body,
    }
    if message.attributes and attribute_names:
        chosen = _chosen(message.attributes, attribute_names)
        if chosen:
            whole = len(chosen) == len(message.attributes)
            md5 = message.attributes_md5 if whole else checks.md5_of_attributes(chosen)
            answer["MD5OfMessageAttributes"] = md5
            answer["MessageAttributes"] = chosen
    if names:
        every = "All" in names
        values = {
            "SenderId": sender,
            "SentTimestamp": _ms(message.sent),
            "ApproximateReceiveCount": str(receive),
            "ApproximateFirstReceiveTimestamp": _ms(first),
            "AWSTraceHeader": message.trace and message.trace["AWSTraceHeader"]["StringValue"],
            "DeadLetterQueueSourceArn": message.source_arn,
        }
        answer["Attributes"] = {
            name: values[name]
            for name in SYSTEM_ATTRIBUTES
            if (every or name in names) and values[name] is not None
        }
    return answer


def held(queue: Queue, handle: str) -> tuple[str, int]:
    """(message id, receive) of a receipt handle of `queue`; ValueError if it is not one."""
    try:
        name, message_id, receive = base64.urlsafe_b64decode(handle.encode()).decode().split("/")
        if name == queue.name:
            return message_id, int(receive)
    except (binascii.Error, UnicodeError, ValueError, AttributeError):
        pass
    raise ValueError(handle)


def refusal(queue: Queue, handle: str, seconds, now: float) -> tuple[str, str] | None:
    """Make the message of `handle` visible in `seconds`: None, or why SQS refuses to
    (error shape, message)."""
    try:
        seconds = int(seconds)
        if not 0 <= seconds <= checks.MAX_VISIBILITY:
            raise ValueError(seconds)
    except (TypeError, ValueError):
        return "InvalidParameterValue", (
            f"Value {seconds} for parameter VisibilityTimeout is invalid. "
            f"Reason: Must be >= 0 and <= {checks.MAX_VISIBILITY}."
        )
    try:
        message_id, receive = held(queue, handle)
    except ValueError:
        return "ReceiptHandleIsInvalid", "The input receipt handle is invalid."
    try:
        queue.change_visibility(message_id, receive, seconds, now, checks.MAX_VISIBILITY)
    except (Gone, Stale):
        return "InvalidParameterValue", (
            f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
            "exist or is not available for visibility timeout change."
        )
    except NotInFlight:
        return "MessageNotInflight", "The message referred to isn't in flight."
    except ValueError:
        return "InvalidParameterValue", (
            f"Value {seconds} for parameter VisibilityTimeout is invalid. Reason: Total "
            f"VisibilityTimeout for the message is beyond the limit [{checks.MAX_VISIBILITY} "
            "seconds]"
        )
    return None


def _ms(seconds: float) -> str:
    return str(int(seconds * 1000))


def _chosen(attributes: dict, names) -> dict:
    """The message attributes ReceiveMessage's MessageAttributeNames ask for."""
    if "All" in names or ".*" in names:
        return {name: dict(value) for name, value in attributes.items()}
    prefixes = tuple(name[:-2] for name in names if name.endswith(".*"))
    return {
        name: dict(value)
        for name, value in attributes.items()
        if name in names or (prefixes and name.startswith(prefixes))
    }
