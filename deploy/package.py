"""`make package`: CloudFormation (SAM) and Terraform for one Chalice stage, no AWS account.

    python -m deploy.package [--stage dev] [--out build] [--wheelhouse DIR] [--region R]
                             [--python PYTHON] [--front-door rest-api|http-api]

writes OUT/cloudformation/{sam.json,deployment.zip} and
OUT/terraform/{chalice.tf.json,versions.tf,deployment.zip}.

The functions' Lambda runtime is the version of PYTHON (default: the interpreter running
this), which also compiles the bundle's bytecode, so the two always match: Chalice writes the
running interpreter's version, and --python python3.13 (any 3.11 to 3.14) re-targets the
templates and compiles the .pyc files with that interpreter instead. Re-targeting is refused
when a dependency in the bundle holds compiled code (its wheel was chosen for this
interpreter); Herald's are pure Python.

Chalice runs on a copy of the app (app.py, chalicelib/, requirements.txt, .chalice/config.json)
so that nothing else in the work tree can reach the bundle and two runs never share
Chalice's cache. With --wheelhouse, pip installs the run-time requirements from that
directory only (`make wheelhouse` fills it), so packaging needs no network.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chalice.config import Config

from deploy import front_door as doors
from deploy import prune, shared
from deploy.cloudformation import stack
from deploy.lambda_runtime import (
    DEPRECATED,
    NEWEST_SUPPORTED_UNTIL_2029,
    add_bytecode,
    retarget,
    runtime,
)
from deploy.terraform import configuration

ROOT = Path(__file__).resolve().parent.parent
APP_FILES = ("app.py", "requirements.txt")
APP_DIRS = ("chalicelib", "vendor")
CONFIG = Path(".chalice") / "config.json"


@dataclass(frozen=True)
class Outputs:
    cloudformation: Path
    terraform: Path

    @property
    def directories(self) -> tuple[Path, Path]:
        return self.cloudformation, self.terraform

    @property
    def zip_path(self) -> Path:
        return self.cloudformation / "deployment.zip"


def read_config() -> dict:
    """.chalice/config.json."""
    return json.loads((ROOT / CONFIG).read_text(encoding="utf-8"))


def stage_config(
    stage: str, function: str = shared.API_FUNCTION, config: dict | None = None
) -> Config:
    """Chalice's own view of one function's settings in the stage (of `config`, by default
    .chalice/config.json), so lookups follow Chalice's rules; refuses a stage that gives
    any function a local-only variable."""
    config = read_config() if config is None else config
    if stage not in config.get("stages", {}) or stage == "local":
        raise SystemExit(f"error: no deployable stage {stage!r} in {CONFIG}")
    registered_from = set()
    for name in shared.FUNCTIONS:
        settings = Config(chalice_stage=stage, function_name=name, config_from_disk=config)
        leaked = sorted(filter(shared.is_local_only, settings.environment_variables or {}))
        if leaked:
            raise SystemExit(f"error: stage {stage!r} sets local-only variables {leaked}")
        variables = settings.environment_variables or {}
        registered_from.add(variables.get(shared.REGISTERED_FROM_VARIABLE, ""))
    if len(registered_from) > 1:
        # Set on the API alone, TwiML replies and keyword answers would skip the check.
        raise SystemExit(
            f"error: stage {stage!r} must give every function the same "
            f"{shared.REGISTERED_FROM_VARIABLE} (set it in the stage's environment_variables): "
            f"creates, TwiML replies and keyword answers all apply it"
        )
    return Config(chalice_stage=stage, function_name=function, config_from_disk=config)


def stage_carrier(stage: str, config: dict | None = None) -> str:
    """The stage's carrier (HERALD_CARRIER): the same for every function, and one there is."""
    named = {
        (stage_config(stage, name, config).environment_variables or {}).get(
            shared.CARRIER_VARIABLE, "sandbox"
        )
        for name in shared.FUNCTIONS
    }
    if len(named) != 1 or not named <= set(shared.CARRIERS):
        raise SystemExit(
            f"error: stage {stage!r} must give every function one {shared.CARRIER_VARIABLE} of "
            f"{', '.join(shared.CARRIERS)}; it gives {sorted(named)}"
        )
    (carrier,) = named
    return carrier


def function_settings(stage: str, config: dict | None = None) -> dict[str, shared.FunctionSettings]:
    """Timeout and log retention of every function in the stage."""
    settings = {}
    for name in shared.FUNCTIONS:
        config_ = stage_config(stage, name, config)
        if not config_.log_retention_in_days:
            raise SystemExit(f"error: stage {stage!r} sets no log_retention_in_days for {name}")
        settings[name] = shared.FunctionSettings(
            timeout=config_.lambda_timeout,
            log_retention_days=config_.log_retention_in_days,
        )
    return settings


def _stage_app(workdir: Path, config: dict) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in APP_FILES:
        shutil.copy2(ROOT / name, workdir / name)
    for name in APP_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, workdir / name, ignore=ignore)
    (workdir / CONFIG).parent.mkdir()
    (workdir / CONFIG).write_text(json.dumps(_without_log_retention(config), indent=2))


def _without_log_retention(config: dict) -> dict:
    """The templates create every function's log group themselves, named before the
    function exists (Chalice's Terraform writer cannot express one, and its SAM log group
    is named after the function, so the function could not wait for it)."""
    if isinstance(config, dict):
        return {
            key: _without_log_retention(value)
            for key, value in config.items()
            if key != "log_retention_in_days"
        }
    return config


def _environment(region: str, wheelhouse: Path | None) -> dict:
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    # Packaging never calls AWS; dummy keys make sure it could not use real ones.
    env.update(
        AWS_ACCESS_KEY_ID="herald-package",
        AWS_SECRET_ACCESS_KEY="herald-package",
        AWS_DEFAULT_REGION=region,
        PYTHONDONTWRITEBYTECODE="1",
    )
    if wheelhouse is not None:
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse.resolve()))
    return env


def _chalice(args: list[str], workdir: Path, env: dict) -> None:
    chalice = Path(sys.executable).parent / "chalice"
    result = subprocess.run(
        [str(chalice), "package", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chalice package {' '.join(args)} failed:\n{result.stderr}")


def package_cloudformation(
    stage: str, workdir: Path, out: Path, env: dict, settings, carrier: str, front_door: str
) -> None:
    _chalice(["--stage", stage, str(out)], workdir, env)
    generated = out / "sam.json"
    template = json.loads(generated.read_text())
    converted = stack.convert(template, stage, settings, carrier)
    doors.cloudformation(converted, front_door)
    generated.write_text(json.dumps(converted, indent=2) + "\n")


def package_terraform(
    stage: str, workdir: Path, out: Path, env: dict, settings, carrier: str, front_door: str
) -> None:
    _chalice(["--stage", stage, "--pkg-format", "terraform", str(out)], workdir, env)
    generated = out / "chalice.tf.json"
    converted = configuration.convert(json.loads(generated.read_text()), stage, settings, carrier)
    doors.terraform(converted, front_door)
    generated.write_text(json.dumps(converted, indent=2) + "\n")
    (out / "versions.tf").write_text(configuration.versions_tf(carrier))


def package(
    stage: str,
    out: Path,
    wheelhouse: Path | None = None,
    region: str = "us-east-1",
    config: dict | None = None,
    python: str | None = None,
    front_door: str = doors.REST_API,
) -> Outputs:
    """Package `stage` of `config` (by default .chalice/config.json) into `out`, for the
    runtime of `python` (by default this interpreter), behind `front_door`."""
    target = runtime(python)
    doors.checked(front_door)
    config = read_config() if config is None else config
    settings = function_settings(stage, config)
    carrier = stage_carrier(stage, config)
    env = _environment(region, wheelhouse)
    with tempfile.TemporaryDirectory(prefix="herald-package-") as temp:
        workdir = Path(temp) / "app"
        workdir.mkdir()
        _stage_app(workdir, config)
        built = Outputs(Path(temp) / "cloudformation", Path(temp) / "terraform")
        package_cloudformation(
            stage, workdir, built.cloudformation, env, settings, carrier, front_door
        )
        # The second run reuses the bundle the first one built (Chalice caches it).
        package_terraform(stage, workdir, built.terraform, env, settings, carrier, front_door)
        if target.version != sys.version_info[:2]:
            retarget(built, target)
        prune.prune(built.zip_path)
        add_bytecode(built.zip_path, target)
        shutil.copyfile(built.zip_path, built.terraform / "deployment.zip")
        return _publish(built, Outputs(out / "cloudformation", out / "terraform"))


def _publish(built: Outputs, outputs: Outputs) -> Outputs:
    """Copy the generated files over, leaving everything else in place: a Terraform state,
    .terraform/, a backend.tf or a packaged template the user keeps there survive."""
    for source, target in zip(built.directories, outputs.directories, strict=True):
        target.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            shutil.copyfile(path, target / path.name)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.package", description=__doc__)
    parser.add_argument("--stage", default="dev", help="a Chalice stage of .chalice/config.json")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--wheelhouse", type=Path, help="install requirements from here only")
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="the region Chalice is told (the templates themselves are region-neutral)",
    )
    parser.add_argument(
        "--python",
        help="the interpreter whose version is the functions' runtime and that compiles "
        "their bytecode (3.11 to 3.14; default: this one)",
    )
    parser.add_argument(
        "--front-door",
        default=doors.REST_API,
        choices=doors.FRONT_DOORS,
        help="the API Gateway API in front of the API function (docs/deploy.md)",
    )
    args = parser.parse_args(argv)
    target = runtime(args.python)
    outputs = package(
        args.stage,
        args.out,
        args.wheelhouse,
        args.region,
        python=args.python,
        front_door=args.front_door,
    )
    size = outputs.zip_path.stat().st_size
    print(f"stage {args.stage} ({target.name}, {args.front_door}):")
    print(f"  {outputs.cloudformation}/sam.json")
    print(f"  {outputs.terraform}/chalice.tf.json, versions.tf")
    print(f"  deployment.zip: {size} bytes ({size / 1024:.0f} KiB)")
    if target.version < NEWEST_SUPPORTED_UNTIL_2029:
        print(
            f"note: Lambda deprecates {target.name} on {DEPRECATED.get(target.version, '?')}; "
            "make package LAMBDA_PYTHON=python3.13 re-targets the bundle (docs/deploy.md)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
