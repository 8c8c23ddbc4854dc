"""bench/url_credentials.py's smoke run (a few creates per figure), so the script that prints
what sealing URL credentials costs cannot rot. Its figures are printed, not asserted beyond
their shape (docs/figures.md, "Credentials in URLs")."""

import re


def test_the_url_credentials_bench_prints_its_tables(bench):
    out = bench("url_credentials", "--runs", "3")
    assert re.search(r"^\| create, StatusCallback with credentials \| \w+ \| \w+ \|$",
                     out, flags=re.MULTILINE), out  # fmt: skip
    assert re.search(r"^\| no StatusCallback \| [\d.]+ \| [\d.]+ \| 3 \|$", out, re.M)
