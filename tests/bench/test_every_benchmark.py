"""Every benchmark in bench/ has its smoke run here, so that none can rot unnoticed."""

import re

from tests.bench.conftest import ROOT


def benchmarks() -> set[str]:
    """bench/'s runnable modules: those with a main()."""
    return {
        path.stem
        for path in (ROOT / "bench").glob("*.py")
        if re.search(r"^def main\(", path.read_text(), re.M)
    }


def test_every_benchmark_has_a_smoke_run():
    found = benchmarks()
    assert {"run", "cost", "delivery", "storage_scale", "cold_start"} <= found
    smoked = {
        name
        for name in found
        for test in (ROOT / "tests" / "bench").glob("test_*.py")
        if re.search(rf'bench\(\s*"{name}"', test.read_text())
    }
    assert smoked == found
