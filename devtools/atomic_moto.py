"""moto's server app (every service on one endpoint URL, as `moto_server` serves them) behind a
WSGI middleware that restores the atomicity the real services promise: the embedded AWS of
the live-server tests (devtools/services.py), and of `make run` for the services it does
not hold in memory.

moto's own server applies requests on concurrent threads with no lock: a ConditionExpression
is checked and the write applied in separate steps, a TransactWriteItems is applied one item
at a time, and a cancelled transaction puts back a copy of the whole table taken when it
began, erasing every write that landed meanwhile. Herald's idempotent create relies on
exactly these promises, so under load moto answered 503s, made duplicates and lost messages.

- DynamoDB (and DynamoDB Streams, whose records the writes append): every request runs under
  one process-wide lock, so each is atomic with respect to every other, as in DynamoDB.
  Under it a transaction saves and restores only its own items (`_install_item_level_rollback`):
  moto's whole-table copy took time in proportion to the table, and was never freed.
- SQS, and SNS and S3 (whose requests can deliver into SQS queues): moto's SQS is not safe
  either. ReceiveMessage tests a message's visibility and then marks it received, so two
  receivers can both get it; DeleteMessage rebuilds the queue's list and assigns it back,
  dropping a message a concurrent SendMessage appended. These requests run under a second
  lock, which a long-polling ReceiveMessage gives up while it waits for messages (see
  `_install_long_poll_release`), so a long poll blocks nobody.
- Everything else (KMS, …) runs concurrently, as moto serves it.

Left as moto has them: a FIFO long poll that waited can deliver from a message group another
receiver took meanwhile (moto notes the groups in flight once, before it polls); an SNS
HTTP(S) subscription is delivered inside Publish, under the SQS lock, so an endpoint that
calls this server's SQS, SNS or S3 before it answers waits until one side times out.

The locks are per process, not per server, because moto keeps its state in per-process
globals that every embedded server in the process shares.

How fast it answers (make run's throughput is mostly this server's): calls from this process
and from make run's HTTP child skip HTTP (devtools/direct_aws.py); JSON-protocol requests skip
Flask, and moto's costliest habits are cut (devtools/faster_moto.py); a Query reads a sorted
index, not the whole table (devtools/query_index.py); simple UpdateItems skip moto's
expression engine (devtools/fast_update.py); a worker's poll can wait for work
(devtools/long_polls.py). Each answers as moto does, and each is held to moto's own answers
by its tests.
"""

import io
import threading
import time
from http import HTTPStatus

from devtools import fast_update, faster_moto, long_polls, query_index

DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
SQS_TARGET = "AmazonSQS."
# Signing names of the services whose requests read or write SQS queues.
SQS_SIGNING_NAMES = frozenset({"sqs", "sns", "s3"})

DYNAMODB_LOCK = threading.Lock()
SQS_LOCK = threading.Lock()
_holds_sqs_lock = threading.local()
_holds_dynamodb_lock = threading.local()


def signing_name(environ: dict) -> str | None:
    """The service a SigV4 request was signed for (`Credential=AKID/date/region/sqs/...`)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    credential = authorization.partition("Credential=")[2].split(",")[0]
    if not credential:  # a presigned URL carries its credential in the query string
        query = environ.get("QUERY_STRING", "")
        credential = query.partition("X-Amz-Credential=")[2].split("&")[0].replace("%2F", "/")
    parts = credential.split("/")
    return parts[3].lower() if len(parts) == 5 else None


def lock_for(environ: dict) -> "threading.Lock | None":
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith(DYNAMODB_TARGETS):
        return DYNAMODB_LOCK
    if target.startswith(SQS_TARGET) or signing_name(environ) in SQS_SIGNING_NAMES:
        return SQS_LOCK
    return None


class AtomicRequests:
    """WSGI middleware: runs each request of a locked service whole under its lock.

    The body is read before the lock is taken and the answer is sent after it is released,
    so a slow client never holds the lock; inside it is only moto's own work.
    """

    def __init__(self, app, direct: bool = True):
        self.app = app
        self.direct = direct

    def __call__(self, environ, start_response):
        faster_moto.set_serving(True)
        try:
            return self._call(environ, start_response)
        finally:
            faster_moto.set_serving(False)

    def _call(self, environ, start_response):
        lock = lock_for(environ)
        if lock is None:
            answer = self.app(environ, start_response)
            try:  # read it now, while moto's speed-ups apply
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        length, stream = int(environ.get("CONTENT_LENGTH") or 0), environ["wsgi.input"]
        chunked = not length and environ.get("wsgi.input_terminated")
        raw = stream.read() if chunked else stream.read(length)
        # A stream reader's GetRecords may wait for a record (devtools/long_polls.py).
        wait = long_polls.stream_wait_seconds(environ) if lock is DYNAMODB_LOCK else 0.0
        deadline = time.monotonic() + wait
        while True:
            started, body, seen = self._locked(lock, environ, raw)
            if not wait or long_polls.found_records(started[0], body):
                break
            if time.monotonic() >= deadline:
                break
            long_polls.wait_for_record(seen, deadline - time.monotonic())
        start_response(*started[:3])
        return [body]

    def _locked(self, lock, environ, raw: bytes) -> tuple[list, bytes, int]:
        """Run the request (its body `raw`) under `lock`: (status, headers, exc_info; the
        body; how many stream records had been written when it ended)."""
        environ["wsgi.input"] = io.BytesIO(raw)
        started = []

        def capture(status, headers, exc_info=None):
            started[:] = [status, headers, exc_info]
            return lambda data: started.append(data)  # the legacy write() callable

        with lock:
            _holds_sqs_lock.value = lock is SQS_LOCK
            _holds_dynamodb_lock.value = lock is DYNAMODB_LOCK
            try:
                body = self._run(environ, capture, started)
            finally:
                _holds_sqs_lock.value = _holds_dynamodb_lock.value = False
            if lock is DYNAMODB_LOCK:  # the sorted indexes follow what it wrote
                action = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")[2]
                query_index.written(action, raw)
            return started[:3], body, long_polls.appended()

    def _run(self, environ, capture, started) -> bytes:
        """The body of the app's answer (the status and headers go to `capture`): straight
        from moto's view for a JSON-protocol request (devtools/faster_moto.py), through
        moto's whole WSGI app otherwise."""
        direct = faster_moto.dispatch(environ) if self.direct else None
        if direct is not None:
            status, headers, body = direct
            reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            capture(f"{status} {reason}", [(k, str(v)) for k, v in headers.items()])
            return body
        answer = self.app(environ, capture)
        try:
            return b"".join([*started[3:], *answer])
        finally:
            if hasattr(answer, "close"):
                answer.close()


def _install_long_poll_release() -> None:
    """Make moto's long-poll wait give up the SQS lock while it sleeps.

    ReceiveMessage with a wait time loops: scan the queue, then `Queue.wait_for_messages(1)`
    until a message comes or the time is up. Releasing the lock around that wait lets other
    requests (the SendMessage it waits for, above all) run; every scan still runs under the
    lock. Installed once; outside a locked request (in-process `mock_aws`) it is moto's own.
    """
    from moto.sqs.models import Queue

    original = Queue.wait_for_messages
    if getattr(original, "releases_sqs_lock", False):
        return

    def wait_for_messages(self, timeout):
        if not getattr(_holds_sqs_lock, "value", False):
            return original(self, timeout)
        timeout = long_polls.until_next_due(self, timeout)
        _holds_sqs_lock.value = False
        SQS_LOCK.release()
        try:
            return original(self, timeout)
        finally:
            SQS_LOCK.acquire()
            _holds_sqs_lock.value = True

    wait_for_messages.releases_sqs_lock = True
    Queue.wait_for_messages = wait_for_messages


def _install_item_level_rollback() -> None:
    """Make a TransactWriteItems under the DynamoDB lock save and restore only its items.

    moto saves a deep copy of every table a transaction names before applying it, and puts
    the copy back if the transaction is cancelled. That costs time in proportion to the
    table (all accounts, all messages) and memory forever: moto's models record every
    instance ever made, copies included. Under the lock nothing else writes meanwhile, so
    saving the transaction's own items (and each table's stream length) is the same
    rollback: the table copy becomes the table itself, and on any failure the saved items
    are put back. Outside a locked request (in-process `mock_aws`) moto runs as it is.
    """
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "saves_items_only", False):
        return

    class TablesAsThemselves:
        """`copy` for moto.dynamodb.models: a table 'copies' to itself in a transaction."""

        def __getattr__(self, name):
            return getattr(copy, name)

        def deepcopy(self, value, memo=None):
            if isinstance(value, Table) and getattr(_holds_dynamodb_lock, "value", False):
                return value
            return copy.deepcopy(value, memo)

    def transact_write_items(self, transact_items):
        if not getattr(_holds_dynamodb_lock, "value", False):
            return original(self, transact_items)
        try:
            saved = _touched_items(self, transact_items)
        except Exception:  # a shape this does not know: moto copies the tables itself
            _holds_dynamodb_lock.value = False
            try:
                return original(self, transact_items)
            finally:
                _holds_dynamodb_lock.value = True
        try:
            return original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item, stream_length in reversed(saved):
                _put_back(table, hash_key, range_key, item, stream_length)
            raise

    transact_write_items.saves_items_only = True
    models.copy = TablesAsThemselves()
    models.DynamoDBBackend.transact_write_items = transact_write_items


def _touched_items(backend, transact_items) -> list[tuple]:
    """(table, hash key, range key, a copy of the item or None, stream length) for each
    item the transaction names, as it is before the transaction."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        for operation in entry.values():
            table = backend.tables.get(operation.get("TableName"))
            key = operation.get("Item") or operation.get("Key") or {}
            if table is None or table.hash_key_attr not in key:
                continue  # moto refuses it before writing anything
            hash_key = DynamoType(key[table.hash_key_attr])
            range_attr = table.range_key_attr
            range_key = DynamoType(key[range_attr]) if range_attr in key else None
            if table.has_range_key and range_key is None:
                continue
            item = table.get_item(hash_key, range_key)
            stream = table.stream_shard
            saved.append(
                (table, hash_key, range_key, copy.deepcopy(item), stream and len(stream.items))
            )
    return saved


def _put_back(table, hash_key, range_key, item, stream_length) -> None:
    if range_key is not None:
        if item is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item
    if stream_length is not None and table.stream_shard is not None:
        del table.stream_shard.items[stream_length:]


def moto_app(atomic: bool = True):
    """moto's WSGI app for every service, wrapped in `AtomicRequests` unless `atomic` is off."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    if not atomic:
        return app
    _install_long_poll_release()
    _install_item_level_rollback()
    faster_moto.install()
    long_polls.install()
    query_index.install()
    fast_update.install()
    return AtomicRequests(app)
