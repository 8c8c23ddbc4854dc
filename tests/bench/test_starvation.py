"""bench/starvation.py's smoke run: the baseline alone (no slow receiver), so the script that
measures one customer's slow URLs against another's callbacks cannot rot. Its figures are
printed, not asserted (docs/figures.md, "Starvation")."""

import re


def test_the_starvation_bench_measures_a_baseline(bench):
    out = bench("starvation", "--slow", "0", "--max-wait", "60")
    assert re.search(r"^\| 0 \| [\d.]+ s \| [\d.]+ s \|$", out, flags=re.MULTILINE), out
