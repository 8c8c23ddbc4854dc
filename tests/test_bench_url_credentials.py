"""bench/url_credentials.py's smoke run (a few creates per figure), so the script that prints
what sealing URL credentials costs cannot rot. Its figures are printed, not asserted beyond
their shape (docs/figures.md, "Credentials in URLs")."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_url_credentials_bench_prints_its_tables():
    command = [sys.executable, "-m", "bench.url_credentials", "--runs", "3"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^\| create, StatusCallback with credentials \| \w+ \| \w+ \|$",
                     done.stdout, flags=re.MULTILINE), done.stdout  # fmt: skip
    assert re.search(r"^\| no StatusCallback \| [\d.]+ \| [\d.]+ \| 3 \|$", done.stdout, re.M)
