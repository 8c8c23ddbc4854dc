"""What the in-memory SQS (devtools/memory_aws/sqs.py) costs per call: printed figures, not
a test.

    .venv/bin/python -m bench.memory_sqs [--messages 20000] [--rounds 200]

Prints, as Markdown, the operations make run's queues make, called on a MemorySQS in this
process (the best of `--repeat` runs), and the same on moto's SQS through a boto3 client
under mock_aws, once, on at most 500 messages (what a test in this process called before;
make run's HTTP hop costs more still), with the ratio:

1. sends a second: SendMessage of a job-sized JSON body, one thread; and SendMessageBatch
   of 10, counted in messages;
2. receive+delete a second: ReceiveMessage of 10 then DeleteMessageBatch, in messages,
   from a queue holding the messages;
   and the same again with 10,000 delayed messages and 1,000 in flight beside them, which
   must not slow a receive down;
3. 4 threads sending while 4 long-poll, receive and delete: messages a second end to end;
4. a long poll's wake latency: from the SendMessage call in one thread to the ReceiveMessage
   that waited for it returning in another, p50 and p99 over `--rounds` rounds.

Nothing reaches AWS; moto's figures are its in-process ones.
"""

import argparse
import statistics
import threading
import time

from bench.harness import offline

offline("herald-bench-memory-sqs")

from devtools.memory_aws.sqs import MemorySQS  # noqa: E402

BODY = '{"kind":"send","account_sid":"AC' + "0" * 32 + '","message_sid":"SM' + "0" * 32 + '"}'
COMMAND = ".venv/bin/python -m bench.memory_sqs"


def new_queue(sqs, name: str) -> str:
    return sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "300"})["QueueUrl"]


def per_second(count: int, call) -> float:
    started = time.perf_counter()
    call()
    return count / (time.perf_counter() - started)


def sends(sqs, count: int) -> float:
    url = new_queue(sqs, "sends")
    return per_second(
        count, lambda: [sqs.send_message(QueueUrl=url, MessageBody=BODY) for _ in range(count)]
    )


def batch_sends(sqs, count: int) -> float:
    url = new_queue(sqs, "batches")
    entries = [{"Id": str(n), "MessageBody": BODY} for n in range(10)]
    return per_second(
        count // 10 * 10,
        lambda: [sqs.send_message_batch(QueueUrl=url, Entries=entries) for _ in range(count // 10)],
    )


def drain(sqs, url: str, count: int) -> None:
    taken = 0
    while taken < count:
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(found)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        taken += len(found)


def receive_delete(sqs, count: int, name: str = "receives", backlog: bool = False) -> float:
    url = new_queue(sqs, name)
    if backlog:
        late = [{"Id": str(n), "MessageBody": BODY, "DelaySeconds": 900} for n in range(10)]
        for _ in range(1000):
            sqs.send_message_batch(QueueUrl=url, Entries=late)
        now = [{"Id": str(n), "MessageBody": BODY} for n in range(10)]
        for _ in range(100):
            sqs.send_message_batch(QueueUrl=url, Entries=now)
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)  # left in flight
    entries = [{"Id": str(n), "MessageBody": BODY} for n in range(10)]
    for _ in range(count // 10):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return per_second(count // 10 * 10, lambda: drain(sqs, url, count // 10 * 10))


def threaded(sqs, count: int) -> float:
    url = new_queue(sqs, "threads")
    each = count // 4
    done = threading.Semaphore(0)

    def send() -> None:
        for _ in range(each):
            sqs.send_message(QueueUrl=url, MessageBody=BODY)

    def work() -> None:
        while True:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            found = answer.get("Messages", [])
            if not found:
                return
            entries = [
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(found)
            ]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            for _ in found:
                done.release()

    threads = [threading.Thread(target=target) for target in [send] * 4 + [work] * 4]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for _ in range(each * 4):
        done.acquire()
    took = time.perf_counter() - started
    for thread in threads:  # the receivers end on a last long poll that finds nothing
        thread.join()
    return each * 4 / took


def wake_latency(sqs, rounds: int) -> tuple[float, float]:
    url = new_queue(sqs, "wakes")
    latencies = []

    def poll(waiting: threading.Event, returned: list) -> None:
        waiting.set()
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        returned.append(time.perf_counter())

    for _ in range(rounds):
        waiting, returned = threading.Event(), []
        thread = threading.Thread(target=poll, args=(waiting, returned))
        thread.start()
        waiting.wait()
        time.sleep(0.005)  # the poll is waiting on its condition by now
        sent = time.perf_counter()
        sqs.send_message(QueueUrl=url, MessageBody=BODY)
        thread.join()
        latencies.append((returned[0] - sent) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies), p99


def moto_sqs():
    import contextlib

    import boto3
    from moto import mock_aws

    stack = contextlib.ExitStack()
    stack.enter_context(mock_aws())
    return stack, boto3.client("sqs", region_name="us-east-1")


def row(name: str, ours: float, theirs: float | None) -> str:
    ratio = f"{ours / theirs:.0f} times" if theirs else "-"
    theirs_text = f"{theirs:,.0f}" if theirs else "-"
    return f"| {name} | {ours:,.0f} | {theirs_text} | {ratio} |"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    n, small = args.messages, min(500, max(10, args.messages // 10))

    def best(figure, *more) -> float:
        """timeit's way on a shared machine: the best of --repeat runs, each on a new SQS."""
        return max(figure(MemorySQS("http://127.0.0.1:4566"), n, *more) for _ in range(args.repeat))

    stack, moto = moto_sqs()
    with stack:
        lines = [
            row("sends a second (SendMessage)", best(sends), sends(moto, small)),
            row("sends a second (SendMessageBatch of 10)", best(batch_sends),
                batch_sends(moto, small)),
            row("receive+delete a second (10 at a time)", best(receive_delete),
                receive_delete(moto, small)),
            row("the same beside 10,000 delayed and 1,000 in flight",
                best(receive_delete, "backlog", True), None),
            row("4 threads sending, 4 long-polling: messages a second", best(threaded), None),
        ]  # fmt: skip
    p50, p99 = wake_latency(MemorySQS("http://127.0.0.1:4566"), args.rounds)
    print(f"In-memory SQS vs moto's in process ({COMMAND} --messages {n} --rounds {args.rounds}"
          f" --repeat {args.repeat}: the best of {args.repeat}; moto once, on {small} messages:"
          " its calls slow down as its queue grows)\n")  # fmt: skip
    print("| figure | MemorySQS | moto | ratio |")
    print("|---|---|---|---|")
    print("\n".join(lines))
    wake = f"long poll wake latency, ms (p50 / p99 of {args.rounds})"
    print(f"| {wake} | {p50:.3f} / {p99:.3f} | - | - |")


if __name__ == "__main__":
    main()
