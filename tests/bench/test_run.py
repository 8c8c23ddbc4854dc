"""bench/run.py's smoke run (`make bench`): two small accounts, a few requests per figure, on
moto and dynalite."""

import re


def test_the_request_bench_prints_calls_per_request_and_its_figures(bench):
    out = bench("run", "--sizes", "10,60", "--seconds", "0.05", "--count", "3")
    assert "### Benchmark figures" in out
    assert re.search(r"^\| create \| 2 \| 2 \| GetItem \+ PutItem \|", out, re.M), out[-3000:]
    # A From the container has not read lately: its owner item (never another account's
    # number), the opt-out, the message.
    create = r"^\| create, a From not read in 10 s \| 3 \| 3 \| GetItem \+ GetItem \+ PutItem \|"
    assert re.search(create, out, re.M), out[-3000:]
    assert re.search(r"^\| list page \(50 of 60\) \| \d+ \| \d+ \|", out, re.M)
