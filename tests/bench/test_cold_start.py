"""bench/cold_start.py's smoke run: one fresh process of each kind, from a bundle packaged for
the run."""

import re


def test_the_cold_start_bench_measures_every_function(bench):
    out = bench("cold_start", "--runs", "1")
    for function, handler in (
        ("api_handler", "app.app"),
        ("sender", "app.sender"),
        ("receipts", "app.receipt_handler"),
        ("callbacks", "app.callback_sender"),
        ("scheduler", "app.scheduled_sends"),
    ):
        assert re.search(rf"^\| {function} \| `{re.escape(handler)}` \|", out, re.M), function
