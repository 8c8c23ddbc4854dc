"""moto's per-request costs, cut where a profile of `make run` found them, for requests the
embedded AWS serves (devtools/services.py) and nothing else: every change here answers as
moto does, only sooner. tests/devtools/test_faster_moto.py holds each to moto's own answer.

Where the time went (py-spy on `make run` under 16 clients, the embedded AWS's process):
- SQS, 57% of it: SendMessage read the queue's attributes to learn whether it deduplicates
  by content, and moto computes every attribute, counting the delayed, invisible and visible
  messages with three passes over the whole queue; each message's visibility test made three
  datetimes. So a queue with a backlog cost time in proportion to the backlog, per message.
- Serialising DynamoDB's answers, 17%: moto's generic serializer looks every member of every
  AttributeValue up through five alias rules; an item of 30 attributes took milliseconds
  (devtools/faster_dynamodb.py writes items directly). For every other structure (an SQS
  message, ...) the rules are worked out once per class of object, member and shape.
- Each request listed moto's package directory (some 180 stat calls) to find its service,
  and inspected the response class's methods again; then Flask routed it (its request and
  response objects, CORS, the domain dispatcher): 17%. `dispatch` hands a JSON-protocol
  request (DynamoDB, DynamoDB Streams, SQS: all Herald's calls but S3 and KMS) straight to
  the response class Flask would have chosen, as moto's Flask view does.
- DynamoDB's projections and expressions: devtools/faster_dynamodb.py.

Installed once per process by `install()`; each patch checks `serving()`, true only while
`AtomicRequests` runs a request, so moto in the same process under `mock_aws` (other tests)
runs exactly as it is.
"""

import functools
import threading
import time

_inside = threading.local()
_installed = threading.Lock()


def serving() -> bool:
    return getattr(_inside, "value", False)


def set_serving(value: bool) -> None:
    _inside.value = value


def install() -> None:
    with _installed:
        from moto.sqs import models

        if getattr(models, "herald_faster", False):
            return
        _module_list()
        _method_names()
        _sqs_clock()
        _sqs_send_reads_one_attribute()
        _sqs_delete_in_one_pass()
        _aliases_found_once()
        models.herald_faster = True
    from devtools import faster_dynamodb

    faster_dynamodb.install()


def _module_list() -> None:
    """moto.backends.list_of_moto_modules lists moto's directory on every request."""
    from moto import backends

    original = backends.list_of_moto_modules
    listed = tuple(original())

    def list_of_moto_modules():
        return iter(listed) if serving() else original()

    backends.list_of_moto_modules = list_of_moto_modules


def _method_names() -> None:
    from moto.core import responses

    original = responses.method_names_from_class
    cached = functools.lru_cache(maxsize=None)(original)

    def method_names_from_class(clazz):
        return cached(clazz) if serving() else original(clazz)

    responses.method_names_from_class = method_names_from_class


def _sqs_clock() -> None:
    """moto's unix_time goes through two datetimes; time.time() is the same number."""
    from moto.sqs import models

    unix_time, unix_time_millis = models.unix_time, models.unix_time_millis

    def fast_unix_time(dt=None):
        return time.time() if dt is None and serving() else unix_time(dt)

    def fast_unix_time_millis(dt=None):
        return time.time() * 1000.0 if dt is None and serving() else unix_time_millis(dt)

    models.unix_time, models.unix_time_millis = fast_unix_time, fast_unix_time_millis


_sending = threading.local()


def _sqs_send_reads_one_attribute() -> None:
    """SendMessage (and a FIFO queue's add) reads `queue.attributes` for one attribute,
    ContentBasedDeduplication; while it sends, the queue answers that one without counting
    its messages. ReceiveMessage reads one too, for each message."""
    from moto.sqs.models import Queue, SQSBackend

    attributes, send_message = Queue.attributes, SQSBackend.send_message

    def queue_attributes(self):
        if getattr(_sending, "queue", None) is not self:
            return attributes.fget(self)
        if not self.fifo_queue:
            return {}
        value = self.content_based_deduplication
        value = str(value).lower() if isinstance(value, bool) else value
        return {"ContentBasedDeduplication": value}

    def send(self, queue_name, *args, **kwargs):
        if not serving():
            return send_message(self, queue_name, *args, **kwargs)
        _sending.queue = self.get_queue(queue_name)
        try:
            return send_message(self, queue_name, *args, **kwargs)
        finally:
            _sending.queue = None

    Queue.attributes = property(queue_attributes)
    SQSBackend.send_message = send

    # ReceiveMessage checks each message it hands out against the queue's retention period,
    # which moto read from all its attributes, counted three times over.
    retained = SQSBackend.is_message_valid_based_on_retention_period

    def is_retained(self, queue_name, message):
        if not serving():
            return retained(self, queue_name, message)
        period = self.get_queue(queue_name).message_retention_period
        return period + message.sent_timestamp / 1000 > time.time()

    SQSBackend.is_message_valid_based_on_retention_period = is_retained


def _sqs_delete_in_one_pass() -> None:
    """Queue.delete_message walked the queue twice, building a list of receipt handles for
    every message it passed; a receipt handle belongs to one message, found in one pass."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Queue

    delete_message = Queue.delete_message

    def delete(self, receipt_handle):
        if not serving():
            return delete_message(self, receipt_handle)
        if receipt_handle in self.deleted_messages:
            return None
        index = next(
            (
                index
                for index, message in enumerate(self._messages)
                if message.receipt_handle == receipt_handle
                or receipt_handle in message._old_receipt_handles
            ),
            None,
        )
        if index is None:
            raise ReceiptHandleIsInvalid()
        message = self._messages[index]
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        self._messages = self._messages[:index] + self._messages[index + 1 :]
        return None

    Queue.delete_message = delete


# X-Amz-Target prefix -> (moto module, response class): the view moto's Flask app routes "/" to.
DIRECT = {
    "DynamoDB_20120810.": ("moto.dynamodb.responses", "DynamoHandler"),
    "DynamoDBStreams_20120810.": ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
    "AmazonSQS.": ("moto.sqs.responses", "SQSResponse"),
}


def dispatch(environ: dict):
    """What moto's Flask view answers to a JSON-protocol request at "/": (status, headers,
    body), or None for any other request (moto's whole app takes it)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if environ.get("PATH_INFO") != "/" or environ.get("REQUEST_METHOD") != "POST":
        return None
    found = next((view for prefix, view in DIRECT.items() if target.startswith(prefix)), None)
    if found is None:
        return None
    import importlib

    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest

    module, name = found
    request = BackendRequest(environ)
    recorder._record_request(request)
    view = getattr(importlib.import_module(module), name).dispatch
    status, headers, body = view(request, request.raw_url, dict(request.headers))
    if isinstance(body, str):
        body = body.encode("utf-8")
    return status, headers, body


def _aliases_found_once() -> None:
    """The keys moto's serializer tries for a member depend on the object's class, the member
    and its shape (and the structure it is in): work them out once for each."""
    from moto.core.serialize import XFormedAttributePicker

    possible_keys = XFormedAttributePicker.get_possible_keys
    found: dict = {}

    def get_possible_keys(self, context):
        if not serving() or getattr(self, "alias_providers", None) is None:
            return possible_keys(self, context)
        shape = context.shape
        key = (
            type(context.obj), context.key, id(shape), id(getattr(shape, "parent", None)),
            tuple(self.alias_providers),
        )  # fmt: skip
        keys = found.get(key)
        if keys is None:
            keys = tuple(possible_keys(self, context))
            if len(found) < 65536:
                found[key] = keys
        return iter(keys)

    XFormedAttributePicker.get_possible_keys = get_possible_keys
