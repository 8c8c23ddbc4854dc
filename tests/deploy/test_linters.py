"""cfn-lint and checkov on both outputs, and checkov's skips each said why, in the deploy guide."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.expected import CHECKOV_CONFIG, ROOT


def test_cfn_lint_reports_nothing(outputs):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(outputs.cloudformation / "sam.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("framework", ["cloudformation", "terraform_json"])
def test_checkov_passes_every_check_not_skipped(checkov_reports, framework):
    report = checkov_reports[framework]
    failed = [
        f"{check['check_id']} {check['resource']}" for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] >= 100


def checkov_skips() -> list[str]:
    lines = CHECKOV_CONFIG.read_text().splitlines()
    return [line for line in lines if re.match(r"\s*- CKV", line)]


def test_every_checkov_skip_has_a_reason():
    skips = checkov_skips()
    assert skips
    for line in skips:
        assert re.match(r"\s*- CKV2?_AWS_\d+\s+# \S.{20,}", line), line


def test_every_checkov_skip_is_in_the_deploy_guide_table():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    table = guide[guide.index("## checkov checks skipped") :]
    table = table[: table.index("\n## ")] if "\n## " in table else table
    for line in checkov_skips():
        check = line.split()[1]
        assert re.search(rf"\b{check}\b", table), check
