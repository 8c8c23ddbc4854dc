"""The in-memory SQS (devtools/memory_aws/sqs.py) under many threads, its long polls woken
from other threads, and the local event source (devtools/event_sources.QueueSource) fed by
it exactly as by moto's SQS."""

import hashlib
import threading
from collections import Counter

import pytest

from devtools.event_sources import QueueSource
from devtools.memory_aws.sqs import MemorySQS
from tests.devtools.sqs_sides import ENDPOINT, bodies, both, counts, queue


class Waits:
    """A long poll's waits on a real clock: (seconds asked, whether a notify woke it)."""

    def __init__(self):
        self.seen: list[tuple[float, bool]] = []
        self.started = threading.Event()

    def __call__(self, condition, seconds):
        self.started.set()  # the lock is held until condition.wait lets it go
        woken = condition.wait(seconds)
        self.seen.append((seconds, woken))
        return woken


def long_poll(meanwhile) -> tuple[dict, list[tuple[float, bool]]]:
    """A 20 s long poll on a new queue; `meanwhile(sqs, url)` called from another thread
    once it waits. The poll's answer, and its waits."""
    waits = Waits()
    sqs = MemorySQS(ENDPOINT, waiting=waits)
    url = queue(sqs, "jobs")
    answer: dict = {}
    thread = threading.Thread(
        target=lambda: answer.update(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20))
    )
    thread.start()
    waits.started.wait()
    meanwhile(sqs, url)
    thread.join()
    return answer, waits.seen


def test_many_threads_sending_and_receiving_get_every_message_exactly_once():
    sqs = MemorySQS(ENDPOINT)
    url = queue(sqs, "jobs", VisibilityTimeout=300)
    senders, each = 4, 250
    got, lock, stop = Counter(), threading.Lock(), threading.Event()

    def send(sender: int) -> None:
        for start in range(0, each, 10):
            if start % 20:
                for n in range(start, start + 10):
                    sqs.send_message(QueueUrl=url, MessageBody=f"{sender}-{n}")
            else:
                entries = [
                    {"Id": str(n), "MessageBody": f"{sender}-{n}"} for n in range(start, start + 10)
                ]
                assert sqs.send_message_batch(QueueUrl=url, Entries=entries)["Failed"] == []

    def work() -> None:
        while not stop.is_set():
            found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages = found.get("Messages", [])
            with lock:
                got.update(m["Body"] for m in messages)
            if messages:
                entries = [
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ]
                assert sqs.delete_message_batch(QueueUrl=url, Entries=entries)["Failed"] == []

    workers = [threading.Thread(target=work) for _ in range(4)]
    sending = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in workers + sending:
        thread.start()
    for thread in sending:
        thread.join()
    drained = threading.Event()
    while not drained.wait(0.01):  # until the workers have taken and deleted every message
        with lock:
            if sum(got.values()) >= senders * each and counts(sqs, url) == (0, 0, 0):
                drained.set()
    stop.set()
    for thread in workers:
        thread.join()
    assert got == Counter({f"{s}-{n}": 1 for s in range(senders) for n in range(each)})
    assert counts(sqs, url) == (0, 0, 0)


def test_a_long_poll_is_woken_by_a_send_from_another_thread():
    answer, waits = long_poll(lambda sqs, url: sqs.send_message(QueueUrl=url, MessageBody="hi"))
    assert bodies(answer) == ["hi"]
    assert waits == [(pytest.approx(20, abs=1), True)]


def test_a_long_poll_is_woken_to_wait_for_a_message_due_sooner_than_its_deadline():
    answer, waits = long_poll(
        lambda sqs, url: sqs.send_message(QueueUrl=url, MessageBody="soon", DelaySeconds=1)
    )
    assert bodies(answer) == ["soon"]
    (first, woken), (then, timed_out) = waits
    assert first == pytest.approx(20, abs=1) and woken
    assert 0 < then <= 1 and not timed_out


def test_a_long_poll_on_a_deleted_queue_ends_with_nothing():
    answer, waits = long_poll(lambda sqs, url: sqs.delete_queue(QueueUrl=url))
    assert "Messages" not in answer and [woken for _, woken in waits] == [True]


def _fed(sqs, clock, handler):
    """A QueueSource's poll of five jobs; the handler's records and what the queue kept."""
    url = queue(sqs, "herald-send", VisibilityTimeout=0)
    entries = [{"Id": str(n), "MessageBody": f'{{"job":{n}}}'} for n in range(5)]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    seen = []

    def recording(event, context):
        seen.extend(event["Records"])
        return handler(event, context)

    source = QueueSource(sqs=sqs, queue_url=url, handler=recording, name="worker")
    try:
        handled = source.poll()
    except RuntimeError as error:
        handled = str(error)
    clock.advance(1)
    kept = sorted(bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)))
    records = [
        {
            **{k: v for k, v in r.items() if k not in ("messageId", "receiptHandle")},
            "attributes": sorted(r["attributes"]),
        }
        for r in seen
    ]
    return handled, records, kept


def test_a_queue_source_hands_a_batch_over_and_deletes_the_jobs_done():
    def failing_two(event, context):
        failed = [r for r in event["Records"] if r["body"] in ('{"job":1}', '{"job":3}')]
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

    handled, records, kept = both(lambda sqs, clock: _fed(sqs, clock, failing_two))
    assert handled == 5 and kept == ['{"job":1}', '{"job":3}']
    assert [r["body"] for r in records] == [f'{{"job":{n}}}' for n in range(5)]
    assert all(r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest() for r in records)
    assert records[0]["attributes"] == [
        "ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SenderId", "SentTimestamp",
    ]  # fmt: skip
    assert records[0]["eventSource"] == "aws:sqs" and records[0]["messageAttributes"] == {}


def test_a_queue_source_whose_handler_raises_leaves_the_whole_batch():
    def raising(event, context):
        raise RuntimeError("the handler failed")

    handled, records, kept = both(lambda sqs, clock: _fed(sqs, clock, raising))
    assert handled == "the handler failed" and len(records) == 5
    assert kept == [f'{{"job":{n}}}' for n in range(5)]


def test_a_long_polling_queue_source_wakes_for_a_job_sent_from_another_thread():
    waits = Waits()
    sqs = MemorySQS(ENDPOINT, waiting=waits)
    url = queue(sqs, "herald-callbacks")
    done = []
    source = QueueSource(
        sqs=sqs, queue_url=url, handler=lambda event, context: done.extend(event["Records"]),
        name="callbacks", wait_seconds=20,
    )  # fmt: skip
    polled: list[int] = []
    thread = threading.Thread(target=lambda: polled.append(source.poll()))
    thread.start()
    waits.started.wait()
    sqs.send_message(QueueUrl=url, MessageBody="callback")
    thread.join()
    assert polled == [1] and [r["body"] for r in done] == ["callback"]
    assert counts(sqs, url) == (0, 0, 0) and [woken for _, woken in waits.seen] == [True]
