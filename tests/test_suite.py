"""What holds for the suite itself."""

import ast
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
