"""make run's entry point (devtools/run.py) exits with the code its main chose. The stops
themselves, at every moment of start-up, are tests/system/test_make_run.py's."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A stop that came while an import defined a dataclass: the KeyboardInterrupt passes through
# code made by exec, and main catches it, stops everything and returns 0.
STOPPED_IN_EXEC = """
import sys
from devtools import run

def main():
    try:
        exec("raise KeyboardInterrupt")
    except KeyboardInterrupt:
        print("stopping Herald", flush=True)
    return 0

run.main = main
if sys.argv[1] == "entry":
    run.entry()
sys.exit(main())
"""


def _exit_code(tmp_path: Path, how: str) -> tuple[int, str]:
    """Run as make run runs (`python -m`: a `-c` script's sys.exit takes another path)."""
    (tmp_path / "stopped_in_exec.py").write_text(STOPPED_IN_EXEC)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]))
    done = subprocess.run(
        [sys.executable, "-m", "stopped_in_exec", how],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_a_stop_caught_after_passing_through_exec_still_exits_0(tmp_path):
    """CPython 3.11 ends such a process by SIGINT (-2) though the interrupt was caught:
    make run's start-up stops failed so about one time in six under load."""
    assert _exit_code(tmp_path, "sys.exit") == (-2, "stopping Herald\n")  # worked around
    assert _exit_code(tmp_path, "entry") == (0, "stopping Herald\n")
