"""docs/messaging-services.md's walkthrough, typed as a newcomer types it: its sh block run
line by line in a shell of its own against `make run`'s server (python -m devtools.run, on a
free port instead of 8000), each `…` filled with what the line before printed, as the page
says. It must end with the message delivered from the number Herald chose."""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.make_run import SID, TOKEN, started

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "messaging-services.md"


@pytest.fixture(scope="module")
def herald(tmp_path_factory):
    with started(tmp_path_factory.mktemp("project")) as running:
        yield running


def walkthrough() -> list[str]:
    (block,) = re.findall(r"## From a fresh `make run`.*?```sh\n(.*?)```", DOC.read_text(), re.S)
    return [line for line in block.splitlines() if line.strip()]


def run(script: str, home: Path) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_walkthrough_sends_a_message_through_a_service(herald, tmp_path):
    lines = walkthrough()
    assert any("MessagingServiceSid=$SERVICE_SID" in line for line in lines)
    assert not any("From=" in line for line in lines if "Messages.json" in line)
    settings: list[str] = []  # exports and assignments, as the reader's shell keeps them
    printed: dict = {}
    answers: list[dict] = []
    for line in lines:
        line = line.replace("http://127.0.0.1:8000", herald.url)
        if line.startswith("#"):
            continue
        if line.startswith("export ACCOUNT_SID="):
            line = f"export ACCOUNT_SID={SID}  AUTH_TOKEN={TOKEN}"
        elif "…" in line:
            # `export NAME=XX…`: the "sid" the line before printed, which starts with XX.
            name, prefix = re.fullmatch(r"export (\w+)=(\w\w)…", line).groups()
            assert printed["sid"].startswith(prefix), (line, printed)
            line = f"export {name}={printed['sid']}"
        if line.startswith("curl"):
            printed = json.loads(run("\n".join([*settings, line]), tmp_path))
            answers.append(printed)
        else:
            settings.append(line)
    service, number, link, sent, fetched = answers
    assert service["sid"].startswith("MG") and link["service_sid"] == service["sid"]
    assert (sent["status"], sent["from"], sent["messaging_service_sid"]) == (
        "accepted", None, service["sid"],
    )  # fmt: skip
    # "A second later": the reader fetches again until it has settled.
    deadline = time.monotonic() + 30
    while fetched["status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.5)
        fetched = json.loads(run("\n".join([*settings, lines[-1].replace(
            "http://127.0.0.1:8000", herald.url)]), tmp_path))  # fmt: skip
    assert (fetched["status"], fetched["from"]) == ("delivered", number["phone_number"])
