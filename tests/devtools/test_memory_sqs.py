"""The in-memory SQS (devtools/memory_aws/sqs.py) answers as moto's SQS does: the same
requests on both, on fake clocks moved alike, observe the same bodies, digests, counts,
attributes and error codes (tests/devtools/sqs_sides.py). Each test also says what it
expects, so that it fails should both sides drift together.

Where the in-memory SQS answers as SQS does and moto does not, the test is in
test_memory_sqs_semantics.py."""

import hashlib
import json

from tests.devtools.sqs_sides import (
    ENDPOINT,
    arn,
    bodies,
    both,
    counts,
    outcome,
    queue,
    received,
)

ATTRIBUTES = {
    "colour": {"DataType": "String", "StringValue": "blue"},
    "size": {"DataType": "Number", "StringValue": "12"},
    "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    "pre.one": {"DataType": "String.custom", "StringValue": "1"},
}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_a_message_is_sent_received_and_deleted():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs")
        sent = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes=ATTRIBUTES)
        clock.advance(2)
        answer = sqs.receive_message(
            QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        seen = [received(answer), counts(sqs, url)]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=answer["Messages"][0]["ReceiptHandle"])
        again = sqs.receive_message(QueueUrl=url)
        return [sent["MD5OfMessageBody"], sent["MD5OfMessageAttributes"], *seen, again.keys(),
                counts(sqs, url)]  # fmt: skip

    found = both(scenario)
    assert found[0] == md5("hello")
    [message] = found[2]
    assert message["Body"] == "hello" and message["MD5OfBody"] == md5("hello")
    assert message["MD5OfMessageAttributes"] == found[1]
    assert message["MessageAttributes"] == ATTRIBUTES
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert message["Attributes"]["ApproximateFirstReceiveTimestamp"] == "1750000002000"
    assert found[3] == (0, 1, 0) and found[5] == (0, 0, 0)
    assert "Messages" not in found[4]


def test_receive_answers_the_system_and_message_attributes_asked_for():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs", VisibilityTimeout=0)
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ATTRIBUTES)
        asks = [
            {},
            {"AttributeNames": ["ApproximateReceiveCount"]},
            {"MessageSystemAttributeNames": ["SentTimestamp", "ApproximateReceiveCount"]},
            {"MessageAttributeNames": ["colour", "raw"]},
            {"MessageAttributeNames": ["pre.*"]},
            {"MessageAttributeNames": ["nothing-like-it"]},
        ]
        return [received(sqs.receive_message(QueueUrl=url, **ask)) for ask in asks]

    found = both(scenario)
    assert "Attributes" not in found[0][0] and "MessageAttributes" not in found[0][0]
    assert found[1][0]["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert found[2][0]["Attributes"] == {
        "SentTimestamp": "1750000000000",
        "ApproximateReceiveCount": "3",
    }
    assert set(found[3][0]["MessageAttributes"]) == {"colour", "raw"}
    assert set(found[4][0]["MessageAttributes"]) == {"pre.one"}
    assert "MessageAttributes" not in found[5][0]


def test_batches_send_and_delete_and_say_which_entries_failed():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs")
        entries = [{"Id": f"e{n}", "MessageBody": f"body {n}"} for n in range(10)]
        entries[3]["DelaySeconds"] = 60
        entries[4]["MessageAttributes"] = ATTRIBUTES
        sent = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        handles = [m["ReceiptHandle"] for m in answer["Messages"]]
        deletes = [{"Id": f"d{n}", "ReceiptHandle": h} for n, h in enumerate(handles)]
        deleted = sqs.delete_message_batch(
            QueueUrl=url, Entries=[*deletes, {"Id": "bad", "ReceiptHandle": "garbage"}]
        )
        return [
            [{k: v for k, v in s.items() if k != "MessageId"} for s in sent["Successful"]],
            sent["Failed"],
            sorted(bodies(answer)),
            sorted(entry["Id"] for entry in deleted["Successful"]),
            [(f["Id"], f["Code"], f["SenderFault"]) for f in deleted["Failed"]],
            counts(sqs, url),
        ]

    found = both(scenario)
    assert [s["Id"] for s in found[0]] == [f"e{n}" for n in range(10)]
    assert found[0][4]["MD5OfMessageAttributes"] and found[1] == []
    assert found[2] == sorted(f"body {n}" for n in range(10) if n != 3)
    assert found[4] == [("bad", "ReceiptHandleIsInvalid", True)]
    assert found[5] == (0, 0, 1)


def test_a_refused_batch_is_refused_whole_with_sqss_code():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs")
        one = {"Id": "a", "MessageBody": "x"}
        send = sqs.send_message_batch
        return [
            outcome(send, QueueUrl=url, Entries=[]),
            outcome(send, QueueUrl=url, Entries=[{**one, "Id": str(n)} for n in range(11)]),
            outcome(send, QueueUrl=url, Entries=[one, one]),
            outcome(send, QueueUrl=url, Entries=[{**one, "Id": "not ok"}]),
            outcome(sqs.delete_message_batch, QueueUrl=url, Entries=[]),
            counts(sqs, url),
        ]

    found = both(scenario)
    assert [code for code, *_ in found[:5]] == [
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "AWS.SimpleQueueService.EmptyBatchRequest",
    ]
    assert found[5] == (0, 0, 0)


def test_a_message_not_deleted_comes_back_after_its_visibility_timeout_counted_again():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs", VisibilityTimeout=30)
        sqs.send_message(QueueUrl=url, MessageBody="job")
        seen = []
        for _ in range(3):
            answer = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])
            seen.append(received(answer))
            seen.append(received(sqs.receive_message(QueueUrl=url)))
            seen.append(counts(sqs, url))
            clock.advance(31)
        return seen

    found = both(scenario)
    receives = [found[n][0]["Attributes"]["ApproximateReceiveCount"] for n in (0, 3, 6)]
    assert receives == ["1", "2", "3"]
    assert found[1] == found[4] == found[7] == []
    assert found[2] == (0, 1, 0)


def test_a_visibility_change_shows_a_message_sooner_or_later():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs", VisibilityTimeout=30)
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": n, "MessageBody": n} for n in ("a", "b")]
        )
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
        handles = {m["Body"]: m["ReceiptHandle"] for m in first}
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handles["a"], VisibilityTimeout=0)
        clock.advance(1)  # moto shows a message only once its time has passed
        seen = [bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2))]
        changed = sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "b", "ReceiptHandle": handles["b"], "VisibilityTimeout": 100},
                {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 5},
            ],
        )
        seen.append([s["Id"] for s in changed["Successful"]])
        seen.append([(f["Id"], f["Code"]) for f in changed["Failed"]])
        clock.advance(31)
        seen.append(sorted(bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2))))
        clock.advance(70)
        seen.append(sorted(bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2))))
        return seen

    found = both(scenario)
    assert found == [["a"], ["b"], [("bad", "ReceiptHandleIsInvalid")], ["a"], ["a", "b"]]


def test_delayed_messages_become_visible_at_their_time():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs")
        slow = queue(sqs, "slow", DelaySeconds=5)
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=10)
        sqs.send_message(QueueUrl=slow, MessageBody="queue's delay")
        seen = [counts(sqs, url), bodies(sqs.receive_message(QueueUrl=url))]
        seen.append(bodies(sqs.receive_message(QueueUrl=slow)))
        clock.advance(6)
        seen.append(bodies(sqs.receive_message(QueueUrl=slow)))
        seen.append(bodies(sqs.receive_message(QueueUrl=url)))
        clock.advance(5)
        seen.append(bodies(sqs.receive_message(QueueUrl=url)))
        return seen

    assert both(scenario) == [(0, 0, 1), [], [], ["queue's delay"], [], ["later"]]


def test_the_receive_past_max_receive_count_moves_the_message_to_the_dead_letter_queue():
    def scenario(sqs, clock):
        dead = queue(sqs, "jobs-dead")
        policy = {"deadLetterTargetArn": arn(sqs, dead), "maxReceiveCount": 2}
        url = queue(sqs, "jobs", VisibilityTimeout=30, RedrivePolicy=policy)
        sqs.send_message(QueueUrl=url, MessageBody="poison")
        sqs.send_message(QueueUrl=url, MessageBody="fine", DelaySeconds=60)
        seen = []
        for _ in range(3):
            clock.advance(31)
            answer = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])
            seen.append(received(answer))
        seen += [counts(sqs, url), counts(sqs, dead)]
        answer = sqs.receive_message(QueueUrl=dead, AttributeNames=["ApproximateReceiveCount"])
        return [*seen, received(answer), counts(sqs, dead)]

    found = both(scenario)
    assert [[m["Body"] for m in answer] for answer in found[:3]] == [
        ["poison"],
        ["poison"],
        ["fine"],
    ]
    assert found[3] == (0, 1, 0) and found[4] == (1, 0, 0)
    [moved] = found[5]
    assert moved["Body"] == "poison" and moved["Attributes"]["ApproximateReceiveCount"] == "3"
    assert found[6] == (0, 1, 0)


def test_a_purge_forgets_every_message():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs")
        for n in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=str(n), DelaySeconds=n * 10)
        sqs.receive_message(QueueUrl=url)
        before = counts(sqs, url)
        sqs.purge_queue(QueueUrl=url)
        clock.advance(60)
        return [before, counts(sqs, url), bodies(sqs.receive_message(QueueUrl=url))]

    assert both(scenario) == [(0, 1, 4), (0, 0, 0), []]


def test_queue_attributes_are_set_read_and_compared_on_a_second_create():
    def scenario(sqs, clock):
        dead = queue(sqs, "dead")
        policy = {"deadLetterTargetArn": arn(sqs, dead), "maxReceiveCount": 5}
        settings = {"VisibilityTimeout": 45, "DelaySeconds": 3, "MessageRetentionPeriod": 600,
                    "ReceiveMessageWaitTimeSeconds": 2, "RedrivePolicy": policy}  # fmt: skip
        url = queue(sqs, "jobs", **settings)
        every = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        named = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
        return [
            url,
            {k: v for k, v in every.items() if not k.endswith("Timestamp")},
            named["Attributes"],
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"]),
            queue(sqs, "jobs", VisibilityTimeout=7),
            sqs.create_queue(QueueName="jobs")["QueueUrl"],
            outcome(queue, sqs, "jobs", VisibilityTimeout=8),
            outcome(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["Nope"]),
            sqs.get_queue_attributes(QueueUrl=url).get("Attributes"),
        ]

    def comparable(found):
        found[1]["RedrivePolicy"] = json.loads(found[1]["RedrivePolicy"])
        found[3] = found[3]["Attributes"]
        return found

    found = both(lambda sqs, clock: comparable(scenario(sqs, clock)))
    assert found[0] == found[4] == found[5] == f"{ENDPOINT}/123456789012/jobs"
    assert found[1]["VisibilityTimeout"] == "45" and found[1]["DelaySeconds"] == "3"
    assert found[1]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert found[1]["QueueArn"] == "arn:aws:sqs:us-east-1:123456789012:jobs"
    assert found[2] == {"VisibilityTimeout": "45"} and found[3] == {"VisibilityTimeout": "7"}
    assert found[6] == ("QueueAlreadyExists", "QueueNameExists", "Sender", 400)
    assert found[7][0] == "InvalidAttributeName" and found[8] is None


def test_unknown_queues_and_receipt_handles_are_refused_with_sqss_codes():
    def scenario(sqs, clock):
        url = queue(sqs, "jobs")
        sqs.send_message(QueueUrl=url, MessageBody="x")
        gone, one = f"{url}-gone", {"Id": "a", "MessageBody": "x"}
        calls = [
            (sqs.get_queue_url, {"QueueName": "jobs-gone"}),
            (sqs.send_message, {"QueueUrl": gone, "MessageBody": "x"}),
            (sqs.send_message_batch, {"QueueUrl": gone, "Entries": [one]}),
            (sqs.receive_message, {"QueueUrl": gone}),
            (sqs.delete_message, {"QueueUrl": gone, "ReceiptHandle": "x"}),
            (sqs.change_message_visibility, {"QueueUrl": gone, "ReceiptHandle": "x",
                                             "VisibilityTimeout": 1}),
            (sqs.get_queue_attributes, {"QueueUrl": gone, "AttributeNames": ["All"]}),
            (sqs.set_queue_attributes, {"QueueUrl": gone, "Attributes": {"DelaySeconds": "1"}}),
            (sqs.purge_queue, {"QueueUrl": gone}),
            (sqs.delete_queue, {"QueueUrl": gone}),
            (sqs.delete_message, {"QueueUrl": url, "ReceiptHandle": "garbage"}),
            (sqs.change_message_visibility, {"QueueUrl": url, "ReceiptHandle": "garbage",
                                             "VisibilityTimeout": 1}),
            (sqs.receive_message, {"QueueUrl": url, "MaxNumberOfMessages": 11}),
            (sqs.receive_message, {"QueueUrl": url, "WaitTimeSeconds": 21}),
            (sqs.send_message, {"QueueUrl": url, "MessageBody": "x", "DelaySeconds": 901}),
        ]  # fmt: skip
        missing = {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:gone",
                   "maxReceiveCount": 2}  # fmt: skip
        orphan = outcome(queue, sqs, "orphan", RedrivePolicy=missing)
        return [*(outcome(call, **kwargs) for call, kwargs in calls), orphan]

    found = both(scenario)
    missing = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "Sender", 400)
    assert found[:10] == [missing] * 10 and found[15] == missing
    assert found[10:12] == [("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "Sender", 400)] * 2
    assert [code for code, *_ in found[12:15]] == ["InvalidParameterValue"] * 3


def test_a_deleted_queue_is_gone_and_listed_no_more():
    def scenario(sqs, clock):
        urls = [queue(sqs, name) for name in ("send", "send-dead", "callbacks")]
        listed = [
            sorted(sqs.list_queues()["QueueUrls"]),
            sorted(sqs.list_queues(QueueNamePrefix="send")["QueueUrls"]),
        ]
        pages, token = [], {}
        while True:
            page = sqs.list_queues(MaxResults=2, **token)
            pages.append(len(page["QueueUrls"]))
            listed.append(page["QueueUrls"])
            if "NextToken" not in page:
                break
            token = {"NextToken": page["NextToken"]}
        sqs.delete_queue(QueueUrl=urls[0])
        return [
            listed[0],
            listed[1],
            [pages, sorted(url for page in listed[2:] for url in page)],
            sorted(sqs.list_queues()["QueueUrls"]),
            outcome(sqs.get_queue_url, QueueName="send"),
            "QueueUrls" in sqs.list_queues(QueueNamePrefix="nothing"),
        ]

    found = both(scenario)
    url = f"{ENDPOINT}/123456789012/"
    assert found[0] == [url + "callbacks", url + "send", url + "send-dead"]
    assert found[1] == [url + "send", url + "send-dead"]
    assert found[2] == [[2, 1], found[0]]  # moto pages in the order made, we by name
    assert found[3] == [url + "callbacks", url + "send-dead"]
    assert found[4][0] == "AWS.SimpleQueueService.NonExistentQueue" and found[5] is False
