"""SQS in memory, for make run: an object with a boto3 SQS client's methods (the same names
and parameters), which returns the dicts botocore returns and raises the ClientErrors it
raises, with SQS's codes (devtools/memory_aws/sqs_checks.py).

Standard queues, as SQS serves what Herald relies on: at-least-once delivery; a received
message invisible for its visibility timeout, then visible again with ApproximateReceiveCount
one higher; the receive that would pass a redrive policy's maxReceiveCount moves it to the
dead-letter queue instead; delayed messages visible at their time; messages past the
retention period dropped; long polls woken by the message they wait for. Each queue keeps
its messages in heaps (devtools/memory_aws/sqs_queue.py): no operation scans a queue.

Receipt handles name their queue, message and receive: a handle from an earlier receive
of a message received again since is refused by ChangeMessageVisibility, as SQS refuses it
(DeleteMessage takes it, as moto does). `clock` (seconds since the epoch) and `waiting`
(how a long poll waits on a condition) are the tests' to replace.
"""

import base64
import json
import threading
import time

from botocore.exceptions import ClientError

from devtools.memory_aws import sqs_checks as checks
from devtools.memory_aws import sqs_messages as messages
from devtools.memory_aws.sqs_queue import Queue, wait_on


def steady_clock():
    """Seconds since the epoch that a change of the machine's clock does not move: the wall
    clock's reading at the start, advanced by the monotonic clock. On the wall clock, an
    NTP step or a laptop's clock set forward made every message in flight visible at once
    (and one set back hid them for as long)."""
    wall, steady = time.time(), time.monotonic()
    return lambda: wall + (time.monotonic() - steady)


def _meta() -> dict:
    return {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}


def _answer() -> dict:
    """An answer with nothing but botocore's ResponseMetadata."""
    return {"ResponseMetadata": _meta()}


class MemorySQS:
    def __init__(
        self,
        endpoint_url: str,
        region: str = "us-east-1",
        account: str = "000000000000",
        clock=None,
        waiting=wait_on,
    ):
        self.endpoint_url, self.region, self.account = endpoint_url.rstrip("/"), region, account
        self.clock, self.waiting = clock or steady_clock(), waiting
        self._queues: dict[str, Queue] = {}
        self._lock = threading.Lock()  # creating and deleting queues

    @property
    def exceptions(self):
        """The modeled exceptions, as `boto3.client("sqs").exceptions` has them."""
        return checks.exceptions()

    def reset(self) -> None:
        """Forget every queue and message."""
        with self._lock:
            queues, self._queues = list(self._queues.values()), {}
        for queue in queues:
            queue.close()

    # --- queues ------------------------------------------------------------------------------

    def _queue(self, url: str, operation: str) -> Queue:
        queue = self._queues.get(str(url).rstrip("/").rsplit("/", 1)[-1])
        if queue is None:
            raise checks.error(
                "QueueDoesNotExist", "The specified queue does not exist.", operation
            )
        return queue

    def _by_arn(self, arn: str) -> Queue | None:
        name = arn.rpartition(":")[2]
        queue = self._queues.get(name)
        return queue if queue is not None and queue.arn == arn else None

    def _check_redrive(self, attributes: dict, operation: str) -> None:
        policy = attributes.get("RedrivePolicy")
        if policy:
            arn = json.loads(policy)["deadLetterTargetArn"]
            if self._by_arn(arn) is None:
                raise checks.error("QueueDoesNotExist", f"Could not find DLQ for {arn}", operation)

    def create_queue(self, QueueName: str, Attributes: dict | None = None, tags=None):
        operation = "CreateQueue"
        if QueueName.endswith(".fifo"):
            raise checks.error(
                "UnsupportedOperation",
                "FIFO queues are not served by Herald's in-memory SQS.",
                operation,
            )
        if not checks.QUEUE_NAME.match(QueueName):
            raise checks.invalid(
                "Can only include alphanumeric characters, hyphens, or "
                "underscores. 1 to 80 in length",
                operation,
            )
        given = checks.queue_attributes(Attributes, operation)
        with self._lock:
            self._check_redrive(given, operation)
            queue = self._queues.get(QueueName)
            if queue is None:
                arn = f"arn:aws:sqs:{self.region}:{self.account}:{QueueName}"
                url = f"{self.endpoint_url}/{self.account}/{QueueName}"
                attributes = {**checks.DEFAULTS, **{k: v for k, v in given.items() if v}}
                queue = self._queues[QueueName] = Queue(
                    QueueName, arn, url, attributes, self.clock()
                )
            elif any(queue.attributes.get(k, "") != v for k, v in given.items()):
                raise checks.error(
                    "QueueNameExists", "The specified queue already exists.", operation
                )
        return {"QueueUrl": queue.url, "ResponseMetadata": _meta()}

    def get_queue_url(self, QueueName: str, QueueOwnerAWSAccountId: str | None = None):
        queue = self._queue(QueueName, "GetQueueUrl")
        return {"QueueUrl": queue.url, "ResponseMetadata": _meta()}

    def list_queues(
        self, QueueNamePrefix: str = "", NextToken: str | None = None, MaxResults: int | None = None
    ):
        """The queues by name; with MaxResults, a page and the NextToken of the next."""
        operation = "ListQueues"
        queues = dict(self._queues)
        names = sorted(name for name in queues if name.startswith(QueueNamePrefix))
        if NextToken:
            try:
                after = base64.urlsafe_b64decode(NextToken.encode()).decode()
            except (ValueError, UnicodeError):
                raise checks.invalid("Invalid NextToken value.", operation) from None
            names = [name for name in names if name > after]
        most = 1000
        answer = _answer()
        if MaxResults is not None:
            most = checks.number(MaxResults, "MaxResults", 1, 1000, operation)
            if len(names) > most:
                answer["NextToken"] = base64.urlsafe_b64encode(names[most - 1].encode()).decode()
        urls = [queues[name].url for name in names[:most]]
        return {"QueueUrls": urls, **answer} if urls else answer

    def delete_queue(self, QueueUrl: str):
        queue = self._queue(QueueUrl, "DeleteQueue")
        with self._lock:
            if self._queues.get(queue.name) is queue:
                del self._queues[queue.name]
        queue.close()
        return _answer()

    def purge_queue(self, QueueUrl: str):
        self._queue(QueueUrl, "PurgeQueue").purge()
        return _answer()

    def get_queue_attributes(self, QueueUrl: str, AttributeNames=None):
        operation = "GetQueueAttributes"
        queue = self._queue(QueueUrl, operation)
        names = list(AttributeNames or [])
        for name in names:
            if name != "All" and name not in checks.READABLE:
                raise checks.error("InvalidAttributeName", f"Unknown Attribute {name}.", operation)
        if not names:
            return _answer()
        visible, in_flight, delayed = queue.tally(self.clock())
        found = {
            **queue.attributes,
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "CreatedTimestamp": str(int(queue.created)),
            "LastModifiedTimestamp": str(int(queue.modified)),
            "QueueArn": queue.arn,
        }
        wanted = checks.QUEUE_ATTRIBUTES if "All" in names else names
        attributes = {name: found[name] for name in wanted if name in found}
        return {"Attributes": attributes, "ResponseMetadata": _meta()}

    def set_queue_attributes(self, QueueUrl: str, Attributes: dict):
        operation = "SetQueueAttributes"
        queue = self._queue(QueueUrl, operation)
        given = checks.queue_attributes(Attributes, operation)
        with self._lock:
            self._check_redrive(given, operation)
            with queue.lock:
                for name, value in given.items():
                    if value:
                        queue.attributes[name] = value
                    else:
                        queue.attributes.pop(name, None)
                queue.modified = self.clock()
        return _answer()

    # --- messages ----------------------------------------------------------------------------

    def send_message(
        self,
        QueueUrl: str,
        MessageBody: str,
        DelaySeconds: int | None = None,
        MessageAttributes=None,
        MessageSystemAttributes=None,
        MessageDeduplicationId=None,
        MessageGroupId=None,
    ):
        queue = self._queue(QueueUrl, "SendMessage")
        given = {
            "MessageBody": MessageBody,
            "DelaySeconds": DelaySeconds,
            "MessageAttributes": MessageAttributes,
            "MessageSystemAttributes": MessageSystemAttributes,
        }
        message, delay = messages.new_message(queue, given, self.clock(), "SendMessage")
        queue.add([(message, delay)], self.clock())
        return {**messages.sent(message), "ResponseMetadata": _meta()}

    def send_message_batch(self, QueueUrl: str, Entries: list):
        operation = "SendMessageBatch"
        queue = self._queue(QueueUrl, operation)
        entries = checks.batch(Entries, "SendMessageBatch", operation)
        total = sum(len(str(entry.get("MessageBody", "")).encode()) for entry in entries)
        if total > checks.MAX_BATCH_BYTES:
            raise checks.error(
                "BatchRequestTooLong",
                f"Batch requests cannot be longer than {checks.MAX_BATCH_BYTES} bytes. "
                f"You have sent {total} bytes.",
                operation,
            )
        made, successful, failed = [], [], []
        for entry in entries:
            try:
                message, delay = messages.new_message(queue, entry, self.clock(), operation)
            except ClientError as refused:
                error = refused.response["Error"]
                failed.append(checks.failure(entry["Id"], error["Code"], error["Message"]))
                continue
            made.append((message, delay))
            successful.append({"Id": entry["Id"], **messages.sent(message)})
        if made:
            queue.add(made, self.clock())
        return {"Successful": successful, "Failed": failed, "ResponseMetadata": _meta()}

    def receive_message(
        self,
        QueueUrl: str,
        AttributeNames=(),
        MessageSystemAttributeNames=(),
        MessageAttributeNames=(),
        MaxNumberOfMessages: int = 1,
        VisibilityTimeout: int | None = None,
        WaitTimeSeconds: int | None = None,
        ReceiveRequestAttemptId: str | None = None,
    ):
        operation = "ReceiveMessage"
        queue = self._queue(QueueUrl, operation)
        count = checks.number(MaxNumberOfMessages, "MaxNumberOfMessages", 1, 10, operation)
        if WaitTimeSeconds is None:
            WaitTimeSeconds = queue.setting("ReceiveMessageWaitTimeSeconds")
        wait = checks.number(WaitTimeSeconds, "WaitTimeSeconds", 0, checks.MAX_WAIT, operation)
        if VisibilityTimeout is None:
            VisibilityTimeout = queue.setting("VisibilityTimeout")
        visibility = checks.number(
            VisibilityTimeout, "VisibilityTimeout", 0, checks.MAX_VISIBILITY, operation
        )
        deadline = self.clock() + wait
        while True:
            target, most = self._dead_letters(queue)
            left = max(0.0, deadline - self.clock())
            taken, dead = queue.receive(count, visibility, left, self.clock, most, self.waiting)
            if dead:  # outside this queue's lock: two queues may redrive to each other
                target.adopt(dead, queue.arn, self.clock())
            if taken or not dead or self.clock() >= deadline:
                break
        names = {*AttributeNames, *MessageSystemAttributeNames}
        answers = [
            messages.received(queue, one, names, MessageAttributeNames, self.account)
            for one in taken
        ]
        return {"Messages": answers, "ResponseMetadata": _meta()} if answers else _answer()

    def _dead_letters(self, queue: Queue) -> tuple[Queue | None, int | None]:
        """The queue's dead-letter queue and maxReceiveCount, (None, None) if it has none."""
        redrive = queue.attributes.get("RedrivePolicy")
        if not redrive:
            return None, None
        policy = json.loads(redrive)
        target = self._by_arn(policy["deadLetterTargetArn"])
        if target is None or target is queue:  # messages stay rather than go round
            return None, None
        return target, policy["maxReceiveCount"]

    def delete_message(self, QueueUrl: str, ReceiptHandle: str):
        operation = "DeleteMessage"
        queue = self._queue(QueueUrl, operation)
        try:
            handle = messages.held(queue, ReceiptHandle)
        except ValueError:
            message = "The input receipt handle is invalid."
            raise checks.error("ReceiptHandleIsInvalid", message, operation) from None
        queue.delete([handle])
        return _answer()

    def delete_message_batch(self, QueueUrl: str, Entries: list):
        operation = "DeleteMessageBatch"
        queue = self._queue(QueueUrl, operation)
        handles, successful, failed = [], [], []
        for entry in checks.batch(Entries, "DeleteMessageBatch", operation):
            handle = entry["ReceiptHandle"]
            try:
                handles.append(messages.held(queue, handle))
                successful.append({"Id": entry["Id"]})
            except ValueError:
                why = f'The input receipt handle "{handle}" is not a valid receipt handle.'
                failed.append(checks.failure(entry["Id"], "ReceiptHandleIsInvalid", why))
        queue.delete(handles)
        return {"Successful": successful, "Failed": failed, "ResponseMetadata": _meta()}

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int):
        operation = "ChangeMessageVisibility"
        queue = self._queue(QueueUrl, operation)
        refused = messages.refusal(queue, ReceiptHandle, VisibilityTimeout, self.clock())
        if refused:
            raise checks.error(*refused, operation)
        return _answer()

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list):
        operation = "ChangeMessageVisibilityBatch"
        queue = self._queue(QueueUrl, operation)
        successful, failed = [], []
        for entry in checks.batch(Entries, "ChangeMessageVisibilityBatch", operation):
            seconds = entry.get("VisibilityTimeout", 0)
            refused = messages.refusal(queue, entry["ReceiptHandle"], seconds, self.clock())
            if refused:
                code = checks.MODELED.get(refused[0], refused)[0]
                failed.append(checks.failure(entry["Id"], code, refused[1]))
            else:
                successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed, "ResponseMetadata": _meta()}
