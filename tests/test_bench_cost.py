"""bench/cost.py's smoke run (`--smoke`: four messages at each rate), so the benchmark that
prices a message cannot rot. Its figures are printed, not asserted against a budget
(docs/figures.md, "What a message costs"); what is checked is that it counted what a
message's life is made of, through botocore's hooks, on every function."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_cost_bench_prices_a_message_from_every_function():
    command = [sys.executable, "-m", "bench.cost", "--smoke"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for rate in ("high", "low"):
        for door in ("API Gateway REST API", "API Gateway HTTP API", "Lambda function URL"):
            assert re.search(
                rf"\*\*{rate} rate, front door {door}\*\*.*total \*\*\$[\d.]+\*\*", out
            )
    # Every function ran and its calls were seen on the hooks; every message was delivered.
    assert out.count("final statuses {'delivered': 4}") == 2
    for call in ("api_handler dynamodb:PutItem", "sender pinpoint-sms-voice-v2:SendTextMessage",
                 "receipts dynamodb:UpdateItem", "dispatcher sqs:SendMessageBatch"):  # fmt: skip
        assert out.count(call) == 2, call
    assert re.search(r"\| DynamoDB writes \| [\d.]+ WRU \(table [\d.]+, indexes [\d.]+\)", out)
