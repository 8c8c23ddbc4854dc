"""The benchmarks' smoke runs: each bench/ module run as a user runs it (`python -m
bench.<name>`, from the repository's root), with the smallest workload that still goes
through all of it, so that none can rot. What they measure is printed, not asserted (timed
assertions have no place in tests): a smoke run checks that the figures came out, in their
shape (docs/figures.md has the figures and the commands that made them)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench():
    """Run `python -m bench.<name> *args` to its end; its standard output."""

    def run(name: str, *args: str, timeout: float = 600) -> str:
        command = [sys.executable, "-m", f"bench.{name}", *args]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    return run
