"""The Lambda bundle: the app and its run-time needs only, under 1 MB, pruned without losing a
call Herald makes, its bytecode checked against its source. Both outputs ship the same zip."""

import importlib.util
import subprocess
import sys
import zipfile

from deploy.lambda_runtime import BYTECODE_TOPS
from tests.deploy.expected import WHEELHOUSE


def run_time_tops() -> set[str]:
    """What the run-time requirements' wheels (in the wheelhouse) put at the bundle's top."""
    tops = set()
    for wheel in WHEELHOUSE.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            tops |= {name.split("/")[0] for name in archive.namelist()}
    return tops


def test_bundle_holds_only_the_app_and_its_run_time_needs(outputs):
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = bundle.namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops <= {"app.py", "__pycache__", "chalicelib", "chalice"} | run_time_tops()
    assert "app.py" in tops and "phonenumbers" in tops
    assert not {"boto3", "botocore"} & tops  # the Lambda runtime provides them
    assert outputs.zip_path.stat().st_size < 1024 * 1024
    terraform_zip = outputs.terraform / "deployment.zip"
    assert terraform_zip.read_bytes() == outputs.zip_path.read_bytes()


def test_the_pruned_bundle_keeps_every_phonenumbers_call_herald_makes(outputs, tmp_path):
    """deploy/prune.py leaves phonenumbers' short-number data out: parse, validate, format,
    region and type (all Herald calls) still work from the bundle itself."""
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = bundle.namelist()
        bundle.extractall(tmp_path)
    assert not [n for n in names if n.startswith("phonenumbers/shortdata/region_")]
    assert "phonenumbers/shortdata/__init__.py" in names
    assert not [n for n in names if n.endswith((".pyi", "/RECORD", "/METADATA"))]
    assert [n for n in names if "LICENSE" in n], "licences stay"
    check = (
        "import phonenumbers as p\n"
        "n = p.parse('+14155550100', None)\n"
        "assert p.is_valid_number(n) and p.region_code_for_number(n) == 'US'\n"
        "assert p.format_number(n, p.PhoneNumberFormat.E164) == '+14155550100'\n"
        "assert p.format_number(n, p.PhoneNumberFormat.NATIONAL) == '(415) 555-0100'\n"
        "assert p.number_type(p.parse('+447911123456', None)) == p.PhoneNumberType.MOBILE\n"
        "assert not p.is_valid_number(p.parse('+1555555', None))\n"
        f"assert p.__file__.startswith({str(tmp_path)!r})\n"
    )
    path = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
    result = subprocess.run(
        [sys.executable, "-I", "-c", path + check],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_bundle_bytecode_is_checked_hash_of_the_bundled_source(outputs):
    with zipfile.ZipFile(outputs.zip_path) as bundle:
        names = set(bundle.namelist())
        sources_ = {n for n in names if n.endswith(".py") and n.split("/")[0] in BYTECODE_TOPS}
        compiled = {n for n in names if n.endswith(".pyc")}
        assert compiled == {importlib.util.cache_from_source(n) for n in sources_}
        for source in sources_:
            pyc = bundle.read(importlib.util.cache_from_source(source))
            # PEP 552 header: magic, flags (0b11: hash-based, checked), source hash.
            assert pyc[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(pyc[4:8], "little") == 0b11
            assert pyc[8:16] == importlib.util.source_hash(bundle.read(source))
