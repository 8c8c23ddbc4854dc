"""One registry of Twilio error codes (chalicelib/twilio/codes.py): docs/errors.md lists every
code in it with the same meaning, and no module of the app or its templates writes a code as
a number, so a code can only be one the registry knows."""

import ast
import re
from pathlib import Path

import pytest

from chalicelib.twilio import codes

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
REGISTRY = ROOT / "chalicelib" / "twilio" / "codes.py"
# What runs, and what writes the templates (deploy/gateway_errors.py answers in Twilio's JSON).
SOURCES = sorted((*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "deploy").rglob("*.py")))
# Calls whose first argument is a Twilio code, and keywords that name one.
CODE_TAKERS = {"TwilioError", "Refused", "MediaRefused", "CreateRefusal", "Answer", "Behaviour"}
CODE_KEYWORDS = {"code", "error_code"}
LIST_HEADING = "## Every code and what it means"


def documented() -> dict[int, str]:
    """The `| code | meaning |` rows of docs/errors.md's list of every code."""
    text = DOC.read_text(encoding="utf-8")
    assert LIST_HEADING in text, f"docs/errors.md has no section {LIST_HEADING!r}"
    section = text.split(LIST_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d{5}) \| (.+?) \|$", section, re.M)
    listed = [int(code) for code, _ in rows]
    assert len(listed) == len(set(listed)), "a code is listed twice"
    return {int(code): meaning for code, meaning in rows}


def test_the_docs_list_every_code_with_the_registrys_meaning():
    listed = documented()
    assert sorted(set(codes.MESSAGES) - set(listed)) == [], "in the registry, not in the docs"
    assert sorted(set(listed) - set(codes.MESSAGES)) == [], "in the docs, not in the registry"
    differ = {c: (listed[c], codes.MESSAGES[c]) for c in listed if listed[c] != codes.MESSAGES[c]}
    assert differ == {}


def test_every_code_the_errors_page_mentions_is_in_the_registry():
    text = DOC.read_text(encoding="utf-8")
    mentioned = {int(code) for code in re.findall(r"(?<![\d+])\d{5}(?!\d)", text)}
    assert mentioned, "no code found: the pattern no longer reads the page"
    assert sorted(mentioned - set(codes.MESSAGES)) == []


def test_each_code_has_one_name_and_a_meaning():
    names = {
        name: value
        for name, value in vars(codes).items()
        if name.isupper() and isinstance(value, int)
    }
    assert sorted(names.values()) == sorted(codes.MESSAGES), "two names for one code, or none"
    assert all(10000 <= code <= 99999 for code in codes.MESSAGES)
    assert all(meaning.strip() for meaning in codes.MESSAGES.values())


def written_codes(path: Path, root: Path = ROOT) -> list[str]:
    """Where `path` writes a Twilio code as a number: a registry code anywhere in the code,
    or any five-digit number where a code goes (a call that takes one, `code=`)."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        numbers = []
        if isinstance(node, ast.Constant) and node.value in codes.MESSAGES:
            numbers.append(node)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CODE_TAKERS:
                numbers.extend(node.args[1:2] if name == "Answer" else node.args[:1])
            numbers.extend(k.value for k in node.keywords if k.arg in CODE_KEYWORDS)
        found.extend(
            f"{path.relative_to(root)}:{number.lineno}: {number.value}"
            for number in numbers
            if isinstance(number, ast.Constant)
            and type(number.value) is int
            and 10000 <= number.value <= 99999
        )
    return sorted(set(found))


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if p != REGISTRY],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_module_writes_a_code_as_a_number(path):
    assert written_codes(path) == [], "name it from chalicelib.twilio.codes"


def test_the_check_finds_a_code_written_as_a_number(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n"
        "    raise TwilioError(21211, 'registered, written as a number')\n"
        "    raise errors.TwilioError(21999, 'unregistered, where a code goes')\n"
        "    return Refused(error_code=31234, error_message='x')\n"
        "LIMIT = 10_000  # not a code\n"
    )
    found = written_codes(module, tmp_path)
    assert found == ["m.py:2: 21211", "m.py:3: 21999", "m.py:4: 31234"]
