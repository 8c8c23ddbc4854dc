"""bench/memory_dynamodb.py's smoke run (a few hundred items and calls), so that the script
printing what the in-memory DynamoDB costs per call cannot rot. Its figures are printed, not
asserted beyond their shape (docs/figures.md, "The in-memory DynamoDB")."""

import re


def test_the_memory_dynamodb_bench_prints_every_figure(bench):
    out = bench(
        "memory_dynamodb", "--items", "200", "--calls", "100", "--rounds", "5", "--repeat", "1"
    )
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 7, out
    number = r"[\d,]+"
    for line in rows[:5]:
        assert re.fullmatch(rf"\| [^|]+ \| {number} \| [\d,.]+ \| {number} times \|", line), line
    assert re.fullmatch(rf"\| [^|]+ \| {number} \| - \| - \|", rows[5]), rows[5]
    assert re.fullmatch(
        r"\| get_records wake latency, ms .* \| [\d.]+ / [\d.]+ \| - \| - \|", rows[6]
    )
