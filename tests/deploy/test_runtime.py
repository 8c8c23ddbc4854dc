"""The Python the functions run on: this interpreter's by default, another one Lambda runs when
packaging is given it (the bundle's bytecode compiled by it), never one Lambda or Herald cannot."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy import lambda_runtime, package
from tests.deploy.expected import STAGE, WHEELHOUSE
from tests.deploy.rendered import CloudFormation, Terraform


def test_the_runtime_is_this_interpreter_s_by_default(rendered):
    this = "python{}.{}".format(*sys.version_info[:2])
    assert rendered.runtimes() == {this}


def other_interpreter() -> tuple[str, tuple[int, int]] | None:
    """A Python other than this one that Lambda runs (3.12 to 3.14), when the machine has
    one: HERALD_LAMBDA_PYTHON, python3.1x on the PATH, or pyenv's. CI need not have any."""
    candidates = [os.environ.get("HERALD_LAMBDA_PYTHON")]
    candidates += [f"python3.{minor}" for minor in (14, 13, 12)]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.1[234]*/bin/python3"))
    for candidate in filter(None, candidates):
        try:
            found = lambda_runtime.runtime(candidate)
        except SystemExit:
            continue
        if found.version != sys.version_info[:2]:
            return candidate, found.version
    return None


def test_another_interpreter_retargets_the_runtime_and_compiles_the_bytecode(tmp_path):
    other = other_interpreter()
    if other is None:
        pytest.skip("no other Python 3.12-3.14 on this machine (HERALD_LAMBDA_PYTHON names one)")
    python, version = other
    built = package.package(STAGE, tmp_path, WHEELHOUSE, python=python)
    name = "python{}.{}".format(*version)
    sam = json.loads((built.cloudformation / "sam.json").read_text())
    tf = json.loads((built.terraform / "chalice.tf.json").read_text())
    assert CloudFormation(sam).runtimes() == Terraform(tf).runtimes() == {name}
    magic = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tag = "cpython-{}{}".format(*version)
    with zipfile.ZipFile(built.zip_path) as bundle:
        compiled = [n for n in bundle.namelist() if n.endswith(".pyc")]
        assert compiled and all(f".{tag}.pyc" in n for n in compiled)
        for pyc in compiled:
            assert bundle.read(pyc)[:4].hex() == magic
    assert (built.terraform / "deployment.zip").read_bytes() == built.zip_path.read_bytes()


def test_a_runtime_lambda_or_herald_cannot_run_is_refused(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\necho 3 10\n")
    fake.chmod(0o755)
    with pytest.raises(SystemExit, match=re.escape("one of 3.11, 3.12, 3.13, 3.14")):
        lambda_runtime.runtime(str(fake))
    with pytest.raises(SystemExit, match="cannot run"):
        lambda_runtime.runtime(str(tmp_path / "missing"))


def test_a_bundle_with_compiled_code_keeps_its_runtime(tmp_path):
    built = package.Outputs(tmp_path / "cloudformation", tmp_path / "terraform")
    built.cloudformation.mkdir()
    with zipfile.ZipFile(built.zip_path, "w") as bundle:
        bundle.writestr("app.py", "")
        bundle.writestr("speedups/_fast.cpython-311-aarch64-linux-gnu.so", b"\x7fELF")
    target = lambda_runtime.Runtime("python3.13", (3, 13))
    with pytest.raises(SystemExit, match="compiled for this interpreter"):
        lambda_runtime.retarget(built, target)
