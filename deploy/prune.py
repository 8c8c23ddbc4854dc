"""What the Lambda bundle leaves out: files that no function ever reads.

The bundle must stay under 1 MB (a cold start pays for every byte Lambda unpacks), and the
wheels bring files Herald never loads:

- phonenumbers' short-number data (`shortdata/region_*.py`, 243 files, ~110 KB in the zip):
  it backs phonenumbers.shortnumberinfo, which Herald never calls; parsing, validating,
  formatting, regions and number types use `data/` only. `shortdata/__init__.py` stays, so
  the package imports as before (its loaders are only called by the short-number API).
  tests/deploy/test_bundle.py checks, from the unpacked bundle, every phonenumbers call
  Herald makes.
- typing stubs (`*.pyi`, `py.typed`) and the wheels' install records (`RECORD`,
  `METADATA`, `INSTALLER`, `REQUESTED`, `direct_url.json`): nothing reads them at run time.
  Licence files are kept.
"""

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

PRUNED = re.compile(
    r"^phonenumbers/shortdata/region_[A-Za-z0-9_]+\.py$"
    r"|\.pyi$"
    r"|(^|/)py\.typed$"
    r"|^[^/]+\.dist-info/(RECORD|METADATA|INSTALLER|REQUESTED|direct_url\.json)$"
)


def prune(zip_path: Path) -> int:
    """Rewrite the bundle without the files above, entries otherwise as they were (same
    order, times and compression, so identical sources give an identical bundle); the
    bytes saved."""
    before = zip_path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="herald-prune-") as temp:
        pruned = Path(temp) / "bundle.zip"
        with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(pruned, "w") as target:
            for info in source.infolist():
                if not PRUNED.search(info.filename):
                    target.writestr(info, source.read(info), info.compress_type)
        shutil.copyfile(pruned, zip_path)
    return before - zip_path.stat().st_size
