"""bench/cost.py's smoke run (`--smoke`: four messages at each rate), so the benchmark that
prices a message cannot rot. Its figures are printed, not asserted against a budget
(docs/figures.md, "What a message costs"); what is checked is that it counted what a
message's life is made of, through botocore's hooks, on every function."""

import re


def test_the_cost_bench_prices_a_message_from_every_function(bench):
    out = bench("cost", "--smoke")
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
