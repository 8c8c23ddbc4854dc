"""The Lambda bundle's size and a cold-start proxy, measured rather than asserted.

    .venv/bin/python bench/cold_start.py [--runs 21] [--zip build/cloudformation/deployment.zip]
        [--explain]

The proxy is what a cold start does before the first request is answered: in a fresh
process, `import app` plus the first DynamoDB client (`chalicelib.storage.client.client()`), run
from the unpacked deployment.zip the way Lambda runs it (no .pyc for the bundle, since
/var/task is read-only; boto3 from the environment, as the runtime provides it). It is set
against a bare `import boto3; boto3.client("dynamodb")` process. Runs alternate between the
two so that load from other processes on the machine hits both alike; medians are printed.
Without --zip and without build/, the app is packaged into a temporary directory first.

The same proxy for each delivery function (FUNCTIONS): `import app`, the handler's module
(app.py imports it on the function's first event) and the AWS clients the function makes on
its first event (chalicelib's own factories: storage.client.client() for DynamoDB,
storage.queues._client() for SQS, storage.tokens._client() for KMS), against a bare process that
imports boto3 and makes the same clients. All six functions run the one deployment.zip
(each is the same bundle with another handler), so its size is printed once.

--explain shows where the extra time goes for each function over the target (--explain-all:
for every function), from inside the unpacked bundle: the garbage collections each of the
two proxy processes makes and what they cost (gc.callbacks); `python -X importtime -c
"import boto3; <the bare clients>; import app; <the rest>"`, so that only what Herald adds
is listed (median self time per module over --explain-runs runs, with the collector
disabled so that a collection's pause is not billed to whichever module happened to
trigger it); and the dataclasses Herald's part builds, each timed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
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

# How chalicelib makes each client on a function's first event.
HERALD_CLIENTS = {
    "dynamodb": "from chalicelib import storage\nstorage.client.client()",
    "sqs": "from chalicelib.storage import queues\nqueues._client()",
    "kms": "from chalicelib.storage import tokens\ntokens._client()",
}


@dataclass(frozen=True)
class Function:
    name: str  # the Lambda function's name in app.py
    handler: str  # its handler, as the templates name it
    module: str | None  # the chalicelib.delivery module the handler imports on first use
    clients: tuple[str, ...]  # the clients its first event makes

    @property
    def herald(self) -> str:
        lines = ["import app"]
        if self.module:
            lines.append(f"from chalicelib.delivery import {self.module}")
        return "\n".join([*lines, *(HERALD_CLIENTS[c] for c in self.clients)])

    @property
    def bare(self) -> str:
        made = (f"boto3.client({c!r}, region_name={REGION!r})" for c in self.clients)
        return "\n".join(["import boto3", *made])

    @property
    def label(self) -> str:
        parts = ["import app"]
        if self.module:
            parts.append(f"delivery.{self.module}")
        return " + ".join([*parts, *self.clients])


FUNCTIONS = (
    Function("api_handler", "app.app", None, ("dynamodb",)),
    Function("dispatcher", "app.dispatcher", "dispatch", ("sqs",)),
    Function("sender", "app.sender", "worker", ("dynamodb", "sqs")),
    Function("receipts", "app.receipt_handler", "receipts", ("dynamodb",)),
    Function("callbacks", "app.callback_sender", "callbacks", ("dynamodb", "kms")),
    Function("scheduler", "app.scheduled_sends", "scheduler", ("dynamodb",)),
)
TARGET = 1.10


def _environment(bundle: Path, handler: str) -> dict:
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
        # Lambda names each function's handler here, and app.py registers the API's routes
        # only for app.app: without it every delivery function would be measured with them.
        _HANDLER=handler,
        AWS_LAMBDA_FUNCTION_NAME=f"herald-bench-{handler.removeprefix('app.')}",
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


def measure(
    bundle: Path, runs: int, function: Function | None = None
) -> tuple[list[tuple], list[tuple]]:
    """The API function's proxy (HERALD against BARE), or the given function's."""
    herald_body, bare_body = (function.herald, function.bare) if function else (HERALD, BARE)
    env = _environment(bundle, function.handler if function else "app.app")
    _run(herald_body, bundle, env), _run(bare_body, bundle, env)  # warm the OS file cache
    herald, bare = [], []
    for _ in range(runs):
        herald.append(_run(herald_body, bundle, env))
        bare.append(_run(bare_body, bundle, env))
    return herald, bare


# --- --explain: what Herald's part of a proxy imports, and the collections it triggers ---

_GC_PROBE = """\
import gc, time
pauses, started = [], []
def note(phase, info):
    if phase == "start":
        started[:] = [time.perf_counter()]
    else:
        pauses.append((info["generation"], time.perf_counter() - started[0]))
gc.callbacks.append(note)
{body}
print(*(f"{{g}}:{{s}}" for g, s in pauses))
"""


# Times each class the dataclass decorator builds in Herald's part (the collector off):
# dataclasses.dataclass writes and exec()s each class's methods, a measurable import cost.
_CLASS_PROBE = """\
import gc, json, sys, time
gc.disable()
{bare}
import dataclasses
built, real = [], dataclasses._process_class
def timed(cls, *args, **kwargs):
    started = time.perf_counter()
    try:
        return real(cls, *args, **kwargs)
    finally:
        built.append((f"{{cls.__module__}}.{{cls.__qualname__}}", time.perf_counter() - started))
dataclasses._process_class = timed
started = time.perf_counter()
{rest}
print(json.dumps([time.perf_counter() - started, built]))
"""


def dataclass_cost(bundle: Path, function: Function, runs: int) -> tuple[float, list]:
    """(median ms of Herald's part, [(class, median ms)]) for the dataclasses it builds."""
    import json

    env = _environment(bundle, function.handler)
    body = _CLASS_PROBE.format(bare=function.bare, rest=function.herald)
    parts, per_class = [], {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", body],
            cwd=bundle, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        part, built = json.loads(result.stdout)
        parts.append(part * 1000)
        for name, seconds in built:
            per_class.setdefault(name, []).append(seconds * 1000)
    classes = sorted(
        ((name, statistics.median(values)) for name, values in per_class.items()),
        key=lambda row: row[1],
        reverse=True,
    )
    return statistics.median(parts), classes


def importtime(bundle: Path, function: Function, runs: int) -> list[tuple[str, float, float]]:
    """(module, median self ms, median cumulative ms) for each module the Herald part
    imports after the bare part, with the collector off; most expensive first."""
    env = _environment(bundle, function.handler)
    marker = "herald-bench: Herald's part starts"
    body = (
        f"import gc, sys\ngc.disable()\n{function.bare}\n"
        f"print({marker!r}, file=sys.stderr, flush=True)\n{function.herald}"
    )
    samples: dict[str, list[tuple[float, float]]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", body],
            cwd=bundle, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        for line in result.stderr.split(marker, 1)[-1].splitlines():
            if not line.startswith("import time:") or line.count("|") != 2:
                continue
            first, cumulative_us, name = line.split("|")
            self_us = first.removeprefix("import time:").strip()
            if not self_us.isdigit():
                continue  # the header line
            samples.setdefault(name.strip(), []).append(
                (int(self_us) / 1000, int(cumulative_us) / 1000)
            )
    rows = []
    for name, values in samples.items():
        selfs, cumulatives = zip(*values, strict=True)
        # A module imported in only some runs (rare) counts as 0 in the others.
        selfs = list(selfs) + [0.0] * (runs - len(selfs))
        cumulatives = list(cumulatives) + [0.0] * (runs - len(cumulatives))
        rows.append((name, statistics.median(selfs), statistics.median(cumulatives)))
    return sorted(rows, key=lambda row: row[1], reverse=True)


def collections(bundle: Path, body: str, runs: int, handler: str) -> dict[int, tuple[float, float]]:
    """{generation: (median count, median ms)} of the garbage collections a fresh process
    running `body` as the function `handler` makes (gc.callbacks)."""
    env = _environment(bundle, handler)
    counts: dict[int, list] = {0: [], 1: [], 2: []}
    pauses: dict[int, list] = {0: [], 1: [], 2: []}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _GC_PROBE.format(body=body)],
            cwd=bundle, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        per: dict[int, list] = {0: [], 1: [], 2: []}
        for item in result.stdout.split():
            generation, seconds = item.split(":")
            per[int(generation)].append(float(seconds) * 1000)
        for generation, values in per.items():
            counts[generation].append(len(values))
            pauses[generation].append(sum(values))
    return {
        generation: (statistics.median(counts[generation]), statistics.median(pauses[generation]))
        for generation in counts
    }


def explain(bundle: Path, functions: list[Function], runs: int) -> None:
    print()
    print(f"### Where the extra time goes (--explain, medians of {runs} runs)")
    for function in functions:
        herald_gc = collections(bundle, function.herald, runs, function.handler)
        bare_gc = collections(bundle, function.bare, runs, function.handler)
        modules = importtime(bundle, function, runs)
        imported = sum(self_ms for _, self_ms, _ in modules)
        part_ms, classes = dataclass_cost(bundle, function, runs)
        by_package: dict[str, float] = {}
        for name, self_ms, _ in modules:
            package = ".".join(name.split(".")[:2])
            by_package[package] = by_package.get(package, 0.0) + self_ms
        print()
        print(
            f"**{function.name}**: garbage collections in the two proxy processes "
            "(gc.callbacks), then the modules Herald's part imports when it runs after "
            f"the bare part (`{function.bare.replace(chr(10), '; ')}`; then "
            f"`{function.herald.replace(chr(10), '; ')}`), with the collector off: "
            f"{imported:.1f} ms of self time in all."
        )
        print()
        print("| collections | Herald: count | Herald: ms | bare: count | bare: ms |")
        print("|---|---|---|---|---|")
        for generation in (0, 1, 2):
            (h_count, h_ms), (b_count, b_ms) = herald_gc[generation], bare_gc[generation]
            print(
                f"| generation {generation} | {h_count:g} | {h_ms:.1f} | {b_count:g} | {b_ms:.1f} |"
            )
        print()
        print("| module (imported by Herald's part) | self ms | cumulative ms |")
        print("|---|---|---|")
        for name, self_ms, cumulative_ms in modules[:15]:
            print(f"| `{name}` | {self_ms:.1f} | {cumulative_ms:.1f} |")
        print()
        grouped = sorted(by_package.items(), key=lambda item: item[1], reverse=True)
        print(
            "Self time by package: "
            + ", ".join(f"`{package}` {ms:.1f}" for package, ms in grouped if ms >= 0.3)
            + " ms."
        )
        print()
        built_ms = sum(ms for _, ms in classes)
        print(
            f"Dataclasses built by Herald's part: {len(classes)}, {built_ms:.1f} ms of its "
            f"{part_ms:.1f} ms (collector off; dataclasses writes and exec()s each class's "
            "methods): " + ", ".join(f"`{name}` {ms:.2f}" for name, ms in classes) + "."
        )


def _zip_path(given: Path | None, temp: Path) -> Path:
    if given is not None:
        return given
    if DEFAULT_ZIP.exists():
        return DEFAULT_ZIP
    from deploy import package

    wheelhouse = Path(sys.prefix) / "wheelhouse"
    outputs = package.package("dev", temp / "build", wheelhouse if wheelhouse.is_dir() else None)
    return outputs.zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/cold_start.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="fresh processes of each kind")
    parser.add_argument("--zip", type=Path, help="a deployment.zip (default: build/ or new)")
    parser.add_argument(
        "--functions",
        default=",".join(f.name for f in FUNCTIONS),
        help="the functions to measure (comma-separated; api_handler is always measured)",
    )
    parser.add_argument("--explain", action="store_true", help="importtime and GC, see above")
    parser.add_argument("--explain-all", action="store_true", help="explain every function")
    parser.add_argument("--explain-runs", type=int, default=7)
    args = parser.parse_args(argv)
    chosen = [f for f in FUNCTIONS if f.name in args.functions.split(",")]
    delivery = [f for f in chosen if f.name != "api_handler"]
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as temp:
        zip_path = _zip_path(args.zip, Path(temp))
        bundle = Path(temp) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(bundle)
        herald, bare = measure(bundle, args.runs)
        per_function = {"api_handler": (herald, bare)}
        for function in delivery:
            per_function[function.name] = measure(bundle, args.runs, function)
        size = zip_path.stat().st_size
        print(f"deployment.zip: {size} bytes ({size / 1024:.0f} KiB; target < 1024 KiB)")
        print(f"cold-start proxy, median of {args.runs} fresh processes each (ms):")
        print(f"  {'':42} {'wall':>7} {'CPU':>7}")
        herald_ms, bare_ms = _medians_ms(herald), _medians_ms(bare)
        label = "import app + storage.client.client()"
        print(f"  {label:42} {herald_ms[0]:7.1f} {herald_ms[1]:7.1f}")
        bare_label = "import boto3; boto3.client('dynamodb')"
        print(f"  {bare_label:42} {bare_ms[0]:7.1f} {bare_ms[1]:7.1f}")
        ratios = [h / b for h, b in zip(herald_ms, bare_ms, strict=True)]
        print(f"  {'ratio (target <= 1.10)':42} {ratios[0]:7.3f} {ratios[1]:7.3f}")
        over = _function_table(zip_path, chosen, per_function, args.runs)
        if args.explain or args.explain_all:
            explain(bundle, chosen if args.explain_all else over, args.explain_runs)
    return 0


def _function_table(zip_path: Path, chosen: list, per_function: dict, runs: int) -> list:
    """The per-function Markdown table; the functions whose CPU or wall ratio is over TARGET."""
    size = zip_path.stat().st_size
    print()
    print("### Cold start per function")
    print()
    print(
        f"One bundle for all six functions: {zip_path.name}, {size:,} bytes "
        f"({size / 1024:.0f} KiB); each function is the same zip with its own handler. "
        f"Median of {runs} fresh processes each, alternating Herald and bare, in the unpacked "
        "bundle; the ratio is Herald / bare (target <= 1.10)."
    )
    print()
    print(
        "| function | handler | Herald proxy | bare boto3 clients | wall ms Herald | "
        "wall ms bare | wall ratio | CPU ms Herald | CPU ms bare | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    over = []
    for function in chosen:
        herald, bare = per_function[function.name]
        herald_ms, bare_ms = _medians_ms(herald), _medians_ms(bare)
        ratios = [h / b for h, b in zip(herald_ms, bare_ms, strict=True)]
        if max(ratios) > TARGET:
            over.append(function)
        marks = [f"**{r:.3f}**" if r > TARGET else f"{r:.3f}" for r in ratios]
        print(
            f"| {function.name} | `{function.handler}` | {function.label} | "
            f"{', '.join(function.clients)} | {herald_ms[0]:.1f} | {bare_ms[0]:.1f} | "
            f"{marks[0]} | {herald_ms[1]:.1f} | {bare_ms[1]:.1f} | {marks[1]} |"
        )
    return over


def _medians_ms(samples: list[tuple[float, float]]) -> tuple[float, float]:
    walls, cpus = zip(*samples, strict=True)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


if __name__ == "__main__":
    sys.exit(main())
