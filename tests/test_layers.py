"""The layering the code promises (docs/development.md): only the web layer imports chalice,
only storage and the carrier adapters import boto3 or botocore. Checked on the source, so a
new module that reaches past its layer fails here rather than in a review."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chalicelib"
ALLOWED = {
    "chalice": ("web/",),
    "boto3": ("storage/", "carriers/"),
    "botocore": ("storage/", "carriers/"),
}


def imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_what_its_layer_may(path):
    relative = path.relative_to(PACKAGE).as_posix()
    reached = {
        top for top in imported_tops(path) & ALLOWED.keys() if not relative.startswith(ALLOWED[top])
    }
    assert not reached, f"chalicelib/{relative} imports {sorted(reached)}"


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from botocore.exceptions import ClientError\n")
    assert imported_tops(module) == {"botocore"}


def test_the_layers_it_allows_exist():
    assert len(MODULES) > 50
    for prefixes in ALLOWED.values():
        for prefix in prefixes:
            assert (PACKAGE / prefix).is_dir()
