"""bench/local.py's smoke run (`--smoke`): seconds, so that `make bench-local` cannot rot. It
measures nothing here; it checks that every figure is printed and that what the benchmark
drives worked (no failed request, every message delivered, every callback signed)."""

import re

import pytest

pytestmark = pytest.mark.server


def test_the_local_benchmark_prints_every_figure(bench):
    out = bench("local", "--smoke")
    table = [line for line in out.splitlines() if line.startswith("| ")][1:]
    figures = {line.split(" | ")[0].removeprefix("| ").strip(): line for line in table}
    assert len(figures) == 19 and all(" | - |" not in line for line in table), out
    assert "| 0 |" in figures["create errors"]
    for name in ("burst of 30: delivered; callbacks", "its deliveries; callbacks"):
        line = figures[name]
        delivered, created = re.search(r"(\d+)/(\d+);", line).groups()
        assert delivered == created and "bad signatures 0" in line, line
        assert "callbacks delivered" in line and "sent" in line, line
    assert re.search(r"Stops: .*at the first answer", out), out
