"""bench/delivery.py's smoke run: six messages through `serve_herald` for the latency, twenty
send jobs for the worker's throughput on one core, ten under cProfile."""

import re


def test_the_delivery_bench_prints_latency_throughput_and_profile(bench):
    out = bench(
        "delivery", "--messages", "6", "--rate", "10", "--high-rate", "0",
        "--throughput-messages", "20", "--throughput-rounds", "1", "--profile-messages", "10",
    )  # fmt: skip
    assert re.search(r"^\| 10 \| 6 \| 6 \| [\d.]+ \|", out, re.M), out  # all 6 delivered
    assert re.search(r"^\| created → stream reader read it \| [\d.]+ \|", out, re.M)
    # The worker's CPU, split on botocore's hooks: every part of it positive.
    row = re.search(r"^\| 1 \| 20 \| [\d.]+ \| (?:[\d.]+ \| ){4}([\d.]+) \| ([\d.]+) \| "
                    r"([\d.]+) \| \d+ \| sent 20 \|$", out, re.M)  # fmt: skip
    assert row, out
    assert all(float(part) > 0 for part in row.groups())
    assert "handler: dynamodb GetItem 1.00" in out
    assert re.search(r"^\| Herald \(chalicelib, app.py\) \| [\d.]+% \|", out, re.M)
