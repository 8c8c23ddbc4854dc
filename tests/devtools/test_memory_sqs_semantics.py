"""The in-memory SQS (devtools/memory_aws/sqs.py) where it answers as SQS does and moto
does not (each test says what moto does instead), and what only it has: retention, heaps
that do not keep deleted messages, long polls that sleep exactly until the next message is
due (on a fake clock: tests/devtools/sqs_sides.py)."""

import time

import pytest

from devtools.memory_aws import sqs_checks
from devtools.memory_aws.sqs import MemorySQS
from tests.devtools.sqs_sides import (
    ENDPOINT,
    START,
    arn,
    bodies,
    counts,
    memory_sqs,
    outcome,
    queue,
)

NOT_AVAILABLE = ("InvalidParameterValue", "InvalidParameterValue", "Sender", 400)


@pytest.fixture
def sqs():
    return memory_sqs()


def receive(sqs, url, **kwargs):
    return sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


def test_a_handle_from_an_earlier_receive_cannot_change_visibility(sqs):
    """moto takes any handle the message ever had; SQS only the latest."""
    url = queue(sqs, "jobs", VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [first] = receive(sqs, url)
    sqs.clock.advance(31)
    [second] = receive(sqs, url)
    change = sqs.change_message_visibility
    assert (
        outcome(change, QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
        == NOT_AVAILABLE
    )
    assert (
        outcome(change, QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
        == "ok"
    )
    assert [m["Body"] for m in receive(sqs, url)] == ["x"]
    # DeleteMessage takes an earlier receive's handle, as moto does (SQS: "might not delete").
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)  # fmt: skip


def test_a_message_visible_again_is_not_in_flight_and_a_deleted_one_is_gone(sqs):
    """moto changes a visible message's visibility, and calls a deleted one's handle invalid."""
    url = queue(sqs, "jobs", VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = receive(sqs, url)
    handle = message["ReceiptHandle"]
    sqs.clock.advance(31)
    change = sqs.change_message_visibility
    assert outcome(change, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=5) == (
        "AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight", "Sender", 400,
    )  # fmt: skip
    [message] = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert outcome(sqs.delete_message, QueueUrl=url, ReceiptHandle=message["ReceiptHandle"]) == "ok"
    handle = message["ReceiptHandle"]
    assert outcome(change, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=5) == NOT_AVAILABLE
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 5}]
    )
    assert [(f["Id"], f["Code"]) for f in changed["Failed"]] == [("a", "InvalidParameterValue")]


def test_a_visibility_cannot_reach_past_twelve_hours_after_the_receive(sqs):
    url = queue(sqs, "jobs", VisibilityTimeout=7200)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = receive(sqs, url)
    sqs.clock.advance(3600)
    change = sqs.change_message_visibility
    handle = message["ReceiptHandle"]
    assert outcome(change, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=39_600) == "ok"
    assert outcome(change, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=39_601)[0] == (
        "InvalidParameterValue"
    )
    assert outcome(change, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=-1)[0] == (
        "InvalidParameterValue"
    )


def test_what_sqs_refuses_and_moto_takes(sqs):
    url = queue(sqs, "jobs")
    send = sqs.send_message
    assert outcome(send, QueueUrl=url, MessageBody="")[0] == "MissingParameter"
    assert outcome(send, QueueUrl=url, MessageBody="a\x00b")[0] == "InvalidMessageContents"
    assert outcome(sqs.receive_message, QueueUrl=url, VisibilityTimeout=-1)[0] == (
        "InvalidParameterValue"
    )
    assert outcome(sqs.change_message_visibility_batch, QueueUrl=url, Entries=[])[0] == (
        "AWS.SimpleQueueService.EmptyBatchRequest"
    )
    attributes = sqs.set_queue_attributes
    assert outcome(attributes, QueueUrl=url, Attributes={"Nope": "1"})[0] == "InvalidAttributeName"
    assert outcome(attributes, QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})[0] == (
        "InvalidAttributeValue"
    )
    assert counts(sqs, url) == (0, 0, 0)


def test_a_batch_sends_its_good_entries_and_lists_the_others_as_failed(sqs):
    url = queue(sqs, "jobs", MaximumMessageSize=1024)
    entries = [
        {"Id": "good", "MessageBody": "fine"},
        {"Id": "empty", "MessageBody": ""},
        {"Id": "large", "MessageBody": "x" * 1025},
        {"Id": "late", "MessageBody": "x", "DelaySeconds": 901},
    ]
    sent = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert [s["Id"] for s in sent["Successful"]] == ["good"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in sent["Failed"]] == [
        ("empty", "MissingParameter", True),
        ("large", "InvalidParameterValue", True),
        ("late", "InvalidParameterValue", True),
    ]
    assert [m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10)] == ["fine"]


def test_fifo_queues_are_refused_as_unsupported(sqs):
    refused = ("AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation", "Sender", 400)
    assert outcome(sqs.create_queue, QueueName="jobs.fifo") == refused
    assert outcome(queue, sqs, "jobs", FifoQueue="true") == refused
    assert sqs.list_queues().get("QueueUrls") is None


def test_errors_are_the_modeled_exception_classes_a_client_has(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="nope")
    queue(sqs, "jobs", VisibilityTimeout=5)
    with pytest.raises(sqs.exceptions.QueueNameExists):
        queue(sqs, "jobs", VisibilityTimeout=6)
    assert sqs_checks.exceptions().from_code("ReceiptHandleIsInvalid").__name__ == (
        "ReceiptHandleIsInvalid"
    )


def test_messages_past_the_retention_period_are_dropped_and_no_longer_counted(sqs):
    """moto skips them on a receive but still counts them."""
    url = queue(sqs, "jobs", MessageRetentionPeriod=60, VisibilityTimeout=10)
    sqs.send_message(QueueUrl=url, MessageBody="old")
    receive(sqs, url)
    sqs.clock.advance(30)
    sqs.send_message(QueueUrl=url, MessageBody="new", DelaySeconds=5)
    assert counts(sqs, url) == (1, 0, 1)
    sqs.clock.advance(31)
    assert counts(sqs, url) == (1, 0, 0)
    assert bodies(sqs.receive_message(QueueUrl=url)) == ["new"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    sqs.clock.advance(30)
    assert counts(sqs, url) == (0, 0, 0)


def test_deleted_messages_do_not_stay_in_the_queues_heaps(sqs):
    url = queue(sqs, "jobs", VisibilityTimeout=300)
    for _ in range(300):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x" * 100} for n in range(10)]
        )
        for message in receive(sqs, url, MaxNumberOfMessages=10):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    held = sqs._queues["jobs"]
    assert len(held.messages) == 0
    assert len(held._kept) + len(held._visible) + len(held._later) <= 192  # not 6,000


def test_a_long_poll_sleeps_once_until_its_deadline_or_the_next_message_due(sqs):
    url = queue(sqs, "jobs", VisibilityTimeout=30)
    assert receive(sqs, url, WaitTimeSeconds=20) == []
    assert sqs.clock.waits == [20]

    sqs.clock.waits.clear()
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=3)
    sqs.clock.advance(0.5)
    assert [m["Body"] for m in receive(sqs, url, WaitTimeSeconds=20)] == ["later"]
    assert sqs.clock.waits == [2.5]

    sqs.clock.waits.clear()
    assert receive(sqs, url, WaitTimeSeconds=20) == []
    assert sqs.clock.waits == [20]  # in flight for 30 s: past this poll's deadline

    sqs.clock.waits.clear()
    assert [m["Body"] for m in receive(sqs, url, WaitTimeSeconds=20)] == ["later"]
    assert sqs.clock.waits == [pytest.approx(10)]  # the 30 s since its receive, no more


def test_a_long_poll_answers_at_once_when_there_is_a_message(sqs):
    url = queue(sqs, "jobs", ReceiveMessageWaitTimeSeconds=20)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert [m["Body"] for m in receive(sqs, url)] == ["now"]
    assert sqs.clock.waits == [] and sqs.clock() == START
    assert receive(sqs, url) == []  # the queue's own wait: 20 s
    assert sqs.clock.waits == [20]


def test_a_dead_letter_queue_names_the_source_and_a_deleted_one_keeps_messages_home(sqs):
    dead = queue(sqs, "dead")
    policy = {"deadLetterTargetArn": arn(sqs, dead), "maxReceiveCount": 1}
    url = queue(sqs, "jobs", VisibilityTimeout=0, RedrivePolicy=policy)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    assert len(receive(sqs, url)) == 1 and receive(sqs, url) == []
    [moved] = receive(sqs, dead, AttributeNames=["All"])
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == arn(sqs, url)
    sqs.delete_queue(QueueUrl=dead)
    sqs.send_message(QueueUrl=url, MessageBody="b")
    assert [bodies({"Messages": receive(sqs, url)}) for _ in range(3)] == [["b"]] * 3


def test_an_answer_is_the_callers_to_change(sqs):
    url = queue(sqs, "jobs", VisibilityTimeout=0)
    attributes = {"a": {"DataType": "String", "StringValue": "v"}}
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    attributes["a"]["StringValue"] = "changed by the sender"
    [first] = receive(sqs, url, MessageAttributeNames=["All"])
    first["MessageAttributes"]["a"]["StringValue"] = "changed by the receiver"
    [again] = receive(sqs, url, MessageAttributeNames=["All"])
    assert again["MessageAttributes"] == {"a": {"DataType": "String", "StringValue": "v"}}
    assert again["MD5OfMessageAttributes"] == first["MD5OfMessageAttributes"]


def test_reset_forgets_every_queue(sqs):
    url = queue(sqs, "jobs")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.reset()
    assert sqs.list_queues().get("QueueUrls") is None
    assert (
        outcome(sqs.receive_message, QueueUrl=url)[0] == "AWS.SimpleQueueService.NonExistentQueue"
    )
    assert counts(sqs, queue(sqs, "jobs")) == (0, 0, 0)


def test_a_change_of_the_machines_clock_moves_no_visibility(monkeypatch):
    """make run's SQS keeps the wall clock's time from its start on the monotonic clock: an
    NTP step or a clock set forward an hour made every message in flight visible at once."""
    wall = [1_000_000_000.0]
    monkeypatch.setattr(time, "time", lambda: wall[0])
    sqs = MemorySQS(ENDPOINT)  # its own clock, not a test's
    url = queue(sqs, "jobs", VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    [message] = receive(sqs, url, AttributeNames=["SentTimestamp"])
    assert int(message["Attributes"]["SentTimestamp"]) // 1000 == 1_000_000_000
    wall[0] += 3600
    assert receive(sqs, url) == []
    assert sqs.clock() < 1_000_000_000 + 60
