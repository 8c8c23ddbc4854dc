"""The outputs of `make package` the deploy tests read: packaged once per carrier for the
whole session (the dev stage as it is, on the sandbox, and the same stage switched to End User
Messaging) into a temporary directory, with pip confined to the wheelhouse `make wheelhouse`
filled, so nothing here touches the network. Every test of the outputs runs on both carriers,
and a test that checks what both renderers write asks for `rendered`: it runs on each."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from deploy import package
from tests.deploy.expected import (
    CARRIERS,
    CHECKOV,
    CHECKOV_CONFIG,
    EXPECTED,
    STAGE,
    WHEELHOUSE,
    stage_on,
)
from tests.deploy.rendered import RENDERERS


def require(path: Path, make_target: str) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make {make_target}` (make test does)")


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    """Carrier -> its outputs, each packaged once, when a test first asks for it."""
    built: dict[str, package.Outputs] = {}

    def outputs_on(carrier: str) -> package.Outputs:
        if carrier not in built:
            require(WHEELHOUSE, "wheelhouse")
            build = tmp_path_factory.mktemp(f"build-{carrier}")
            built[carrier] = package.package(STAGE, build, WHEELHOUSE, config=stage_on(carrier))
        return built[carrier]

    return outputs_on


@pytest.fixture(scope="module", params=CARRIERS)
def carrier(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def outputs(packaged, carrier) -> package.Outputs:
    return packaged(carrier)


@pytest.fixture(scope="module")
def grants(carrier) -> dict:
    return EXPECTED[carrier][0]


@pytest.fixture(scope="module")
def variables(carrier) -> dict:
    return EXPECTED[carrier][1]


@pytest.fixture(scope="module")
def sam(outputs) -> dict:
    return json.loads((outputs.cloudformation / "sam.json").read_text())


@pytest.fixture(scope="module")
def tf(outputs) -> dict:
    return json.loads((outputs.terraform / "chalice.tf.json").read_text())


@pytest.fixture(params=sorted(RENDERERS))
def rendered(request, sam, tf):
    """One renderer's output, read in the expectation's words (tests/deploy/rendered.py)."""
    document = sam if request.param == "cloudformation" else tf
    return RENDERERS[request.param](document)


@pytest.fixture(scope="module")
def retention() -> int:
    return package.stage_config(STAGE).log_retention_in_days


@pytest.fixture(scope="module")
def checkov_reports(outputs) -> dict:
    """checkov's reports on the module's outputs, by framework."""
    require(CHECKOV, "checkov")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    env["BC_SKIP_MAPPING"] = "TRUE"  # never fetch check metadata from Prisma Cloud
    directory = outputs.cloudformation.parent
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(CHECKOV_CONFIG), "-o", "json", "-d", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return {report["check_type"]: report for report in reports}
