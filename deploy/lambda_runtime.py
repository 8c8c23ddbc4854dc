"""The functions' Lambda runtime: the interpreter a bundle is built for (its version is the
runtime both templates name), the bytecode it compiles into the bundle, and the templates
re-pointed at its version when it is not the interpreter Chalice ran on (docs/deploy.md,
Python runtime).
"""

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deploy.package import Outputs

# What every cold start imports from the bundle: Herald and Chalice's run-time module.
# (phonenumbers is left as source: it is imported on first use, and its data is large.)
BYTECODE_TOPS = ("app.py", "chalicelib", "chalice")
# Chalice writes its zip entries with this fixed time; added entries follow suit so the
# bundle stays byte-identical for identical sources.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# The Python versions a bundle may target: Herald needs 3.11 (pyproject.toml), Chalice 1.34
# and Lambda run up to 3.14.
RUNTIMES = ((3, 11), (3, 12), (3, 13), (3, 14))
# Lambda's deprecation dates (AWS's runtime table, as cfn-lint 1.58 carries it): 3.13 and
# 3.14 are both supported until 2029-06-30.
DEPRECATED = {(3, 11): "2027-06-30", (3, 12): "2028-10-31", (3, 13): "2029-06-30"}
NEWEST_SUPPORTED_UNTIL_2029 = (3, 13)
# Files that are machine code for one interpreter: a bundle holding any keeps its runtime.
COMPILED_SUFFIXES = (".so", ".pyd")


@dataclass(frozen=True)
class Runtime:
    """The interpreter a bundle is built for: it compiles the bytecode, and its version is
    the functions' Lambda runtime."""

    python: str  # an executable
    version: tuple[int, int]

    @property
    def name(self) -> str:
        return "python{}.{}".format(*self.version)


def runtime(python: str | None = None) -> Runtime:
    """The Runtime of `python` (default: this interpreter), refused outside RUNTIMES."""
    if python is None:
        return Runtime(sys.executable, sys.version_info[:2])
    try:
        answer = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        version = tuple(int(part) for part in answer.stdout.split())
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        raise SystemExit(f"error: cannot run {python}: {error}") from None
    if version not in RUNTIMES:
        allowed = ", ".join("{}.{}".format(*v) for v in RUNTIMES)
        raise SystemExit(f"error: {python} is Python {version}; the runtime is one of {allowed}")
    return Runtime(python, version)


# Run by the target interpreter: compile each named source (relative to the directory given)
# to a checked-hash .pyc under its own cache tag; print {source: .pyc} as JSON.
_COMPILE = """\
import importlib.util, json, py_compile, sys
root, names = sys.argv[1], sys.argv[2:]
compiled = {}
for name in names:
    cached = importlib.util.cache_from_source(name)
    py_compile.compile(root + "/" + name, cfile=root + "/" + cached, dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    compiled[name] = cached
print(json.dumps(compiled))
"""


def add_bytecode(zip_path: Path, target: Runtime | None = None) -> None:
    """Add checked-hash .pyc files (PEP 552) for the modules every cold start imports,
    compiled by the target interpreter (default: this one).

    Lambda's /var/task is read-only, so without them Python compiles every bundled module
    on every cold start. A checked-hash .pyc is used only while the hash of its source
    matches, and only by the Python version it was compiled for (the functions' runtime is
    the target's version); otherwise Python reads the source as before.
    """
    target = target or runtime()
    with zipfile.ZipFile(zip_path) as bundle:
        sources = {
            info.filename: bundle.read(info)
            for info in bundle.infolist()
            if info.filename.endswith(".py") and info.filename.split("/")[0] in BYTECODE_TOPS
        }
    with (
        tempfile.TemporaryDirectory(prefix="herald-pyc-") as temp,
        zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as bundle,
    ):
        for name, source in sources.items():
            source_path = Path(temp) / name
            source_path.parent.mkdir(parents=True, exist_ok=True)
            source_path.write_bytes(source)
        answer = subprocess.run(
            [target.python, "-c", _COMPILE, temp, *sorted(sources)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        if answer.returncode != 0:
            raise RuntimeError(f"compiling the bundle with {target.python}:\n{answer.stderr}")
        for cached in sorted(json.loads(answer.stdout).values()):
            entry = zipfile.ZipInfo(cached, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            bundle.writestr(entry, (Path(temp) / cached).read_bytes())


def retarget(built: "Outputs", target: Runtime) -> None:
    """Point both templates' functions at `target`'s runtime instead of the one Chalice
    wrote (this interpreter's), once the bundle is known to hold no compiled code."""
    with zipfile.ZipFile(built.zip_path) as bundle:
        compiled = [n for n in bundle.namelist() if n.endswith(COMPILED_SUFFIXES)]
    if compiled:
        raise SystemExit(
            f"error: the bundle holds code compiled for this interpreter ({compiled[0]}, …): "
            f"package with {target.name}'s own chalice instead"
        )
    written = runtime().name
    sam_path = built.cloudformation / "sam.json"
    sam = json.loads(sam_path.read_text())
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            _replace_runtime(resource["Properties"], "Runtime", written, target.name)
    sam_path.write_text(json.dumps(sam, indent=2) + "\n")
    tf_path = built.terraform / "chalice.tf.json"
    tf = json.loads(tf_path.read_text())
    for function in tf["resource"]["aws_lambda_function"].values():
        _replace_runtime(function, "runtime", written, target.name)
    tf_path.write_text(json.dumps(tf, indent=2) + "\n")


def _replace_runtime(properties: dict, key: str, written: str, wanted: str) -> None:
    if properties.get(key) != written:
        raise RuntimeError(f"Chalice wrote runtime {properties.get(key)!r}, not {written!r}")
    properties[key] = wanted
