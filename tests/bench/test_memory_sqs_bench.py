"""bench/memory_sqs.py's smoke run (a few hundred messages), so that the script printing what
the in-memory SQS costs per call cannot rot. Its figures are printed, not asserted beyond
their shape (docs/figures.md, "The in-memory SQS")."""

import re


def test_the_memory_sqs_bench_prints_every_figure(bench):
    out = bench("memory_sqs", "--messages", "200", "--rounds", "5", "--repeat", "1")
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 6, out
    number = r"[\d,]+"
    for line in rows[:3]:
        assert re.fullmatch(rf"\| [^|]+ \| {number} \| {number} \| \d+ times \|", line), line
    for line in rows[3:5]:
        assert re.fullmatch(rf"\| [^|]+ \| {number} \| - \| - \|", line), line
    assert re.fullmatch(
        r"\| long poll wake latency, ms .* \| [\d.]+ / [\d.]+ \| - \| - \|", rows[5]
    )
