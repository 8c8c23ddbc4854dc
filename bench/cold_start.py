"""The Lambda bundle's size and a cold-start proxy, measured rather than asserted.

    .venv/bin/python bench/cold_start.py [--runs 21] [--zip build/cloudformation/deployment.zip]

The proxy is what a cold start does before the first request is answered: in a fresh
process, `import app` plus the first DynamoDB client (`chalicelib.storage.client.client()`), run
from the unpacked deployment.zip the way Lambda runs it (no .pyc for the bundle, since
/var/task is read-only; boto3 from the environment, as the runtime provides it). It is set
against a bare `import boto3; boto3.client("dynamodb")` process. Runs alternate between the
two so that load from other processes on the machine hits both alike; medians are printed.
Without --zip and without build/, the app is packaged into a temporary directory first.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ZIP = ROOT / "build" / "cloudformation" / "deployment.zip"
REGION = "us-east-1"

# Prints the wall-clock and the CPU seconds the body took. CPU time is the steadier figure
# on a shared machine: other processes stretch the wall clock, not this process's CPU time.
_TIMED = """\
import time
wall, cpu = time.perf_counter(), time.process_time()
{body}
print(time.perf_counter() - wall, time.process_time() - cpu)
"""
HERALD = "import app\nfrom chalicelib import storage\nstorage.client.client()"
BARE = f"import boto3\nboto3.client('dynamodb', region_name={REGION!r})"


def _environment(bundle: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DYNAMODB_", "HERALD_", "PYTHON"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        HERALD_TABLE_NAME="herald-bench",
        PYTHONPATH=str(bundle),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _run(body: str, bundle: Path, env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds the body took in a fresh interpreter run in the bundle directory."""
    result = subprocess.run(
        [sys.executable, "-c", _TIMED.format(body=body)],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = result.stdout.split()
    return float(wall), float(cpu)


def measure(bundle: Path, runs: int) -> tuple[list[tuple], list[tuple]]:
    env = _environment(bundle)
    _run(HERALD, bundle, env), _run(BARE, bundle, env)  # warm the OS file cache
    herald, bare = [], []
    for _ in range(runs):
        herald.append(_run(HERALD, bundle, env))
        bare.append(_run(BARE, bundle, env))
    return herald, bare


def _zip_path(given: Path | None, temp: Path) -> Path:
    if given is not None:
        return given
    if DEFAULT_ZIP.exists():
        return DEFAULT_ZIP
    sys.path.insert(0, str(ROOT))
    from deploy import package

    wheelhouse = Path(sys.prefix) / "wheelhouse"
    outputs = package.package("dev", temp / "build", wheelhouse if wheelhouse.is_dir() else None)
    return outputs.zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/cold_start.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="fresh processes of each kind")
    parser.add_argument("--zip", type=Path, help="a deployment.zip (default: build/ or new)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as temp:
        zip_path = _zip_path(args.zip, Path(temp))
        bundle = Path(temp) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(bundle)
        herald, bare = measure(bundle, args.runs)
    size = zip_path.stat().st_size
    print(f"deployment.zip: {size} bytes ({size / 1024:.0f} KiB; target < 1024 KiB)")
    print(f"cold-start proxy, median of {args.runs} fresh processes each (ms):")
    print(f"  {'':42} {'wall':>7} {'CPU':>7}")
    herald_ms, bare_ms = _medians_ms(herald), _medians_ms(bare)
    print(f"  {'import app + storage.client.client()':42} {herald_ms[0]:7.1f} {herald_ms[1]:7.1f}")
    bare_label = "import boto3; boto3.client('dynamodb')"
    print(f"  {bare_label:42} {bare_ms[0]:7.1f} {bare_ms[1]:7.1f}")
    ratios = [h / b for h, b in zip(herald_ms, bare_ms, strict=True)]
    print(f"  {'ratio (target <= 1.10)':42} {ratios[0]:7.3f} {ratios[1]:7.3f}")
    return 0


def _medians_ms(samples: list[tuple[float, float]]) -> tuple[float, float]:
    walls, cpus = zip(*samples, strict=True)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


if __name__ == "__main__":
    sys.exit(main())
