"""bench/starvation.py's smoke run: the baseline alone (no slow receiver), so the script that
measures one customer's slow URLs against another's callbacks cannot rot. Its figures are
printed, not asserted (docs/figures.md, "Starvation")."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_starvation_bench_measures_a_baseline():
    command = [sys.executable, "-m", "bench.starvation", "--slow", "0", "--max-wait", "60"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^\| 0 \| [\d.]+ s \| [\d.]+ s \|$", done.stdout, flags=re.MULTILINE), (
        done.stdout
    )
