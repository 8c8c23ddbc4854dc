"""bench/local.py's smoke run (`--smoke`): seconds, so that `make bench-local` cannot rot. It
measures nothing here; it checks that every figure is printed and that what the benchmark
drives worked (no failed request, every message delivered, every callback signed)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent


def test_the_local_benchmark_prints_every_figure():
    done = subprocess.run(
        [sys.executable, "-m", "bench.local", "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")][1:]
    figures = {line.split(" | ")[0].removeprefix("| ").strip(): line for line in table}
    assert len(figures) == 19 and all(" | - |" not in line for line in table), done.stdout
    assert "| 0 |" in figures["create errors"]
    for name in ("burst of 30: delivered; callbacks", "its deliveries; callbacks"):
        line = figures[name]
        delivered, created = re.search(r"(\d+)/(\d+);", line).groups()
        assert delivered == created and "bad signatures 0" in line, line
        assert "callbacks delivered" in line and "sent" in line, line
    assert re.search(r"Stops: .*at the first answer", done.stdout), done.stdout
