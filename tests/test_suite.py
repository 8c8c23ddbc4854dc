"""What holds for the suite itself."""

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_hypothesis_test_draws_the_same_examples_every_run():
    """Each @settings in the suite is derandomized with no example database, so CI sees the
    examples a developer saw, on every run and every machine."""
    unpinned = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "settings":
                given = {k.arg: k.value for k in node.keywords}
                if given.get("parent") is None and not node.args:
                    pinned = ast.literal_eval(given.get("derandomize", ast.Constant(False)))
                    no_database = isinstance(given.get("database"), ast.Constant)
                    if not (pinned and no_database and given["database"].value is None):
                        unpinned.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert unpinned == []


def test_every_test_has_an_id_of_its_own():
    """pytest-xdist (`make test`) hands tests to its workers by id: tests that share an id
    run once between them. schemathesis's tests, one per operation of a document, all had
    the function's name as id under pytest 9 (tests/conftest.py gives each its own)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         str(TESTS / "system" / "test_fuzz.py")],
        capture_output=True, text=True, timeout=120, cwd=TESTS.parent,
    )  # fmt: skip
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    assert len([i for i in ids if "_document[" in i]) > 30, listed.stdout + listed.stderr
    assert [i for i, n in Counter(ids).items() if n > 1] == []
