"""The README's twilio-python and twilio-node examples, run as a reader pastes them: each block
as it stands in README.md, against a live Herald (tests.conftest.live_herald, as `make run`
serves it) in place of http://127.0.0.1:8000, with ACCOUNT_SID and AUTH_TOKEN exported. The
Python one ends by sending through a Messaging Service; what it prints, and the message it
leaves delivered from the number the service chose, are what its comments promise."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from twilio.rest import Client

from tests.conftest import live_herald
from tests.system.test_sdk_numbers import node  # noqa: F401  (a fixture: node, or skip/fail)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PLACE = "http://127.0.0.1:8000"


def block(language: str) -> str:
    """The README's one fenced block in `language` that uses the SDK."""
    (found,) = [b for b in re.findall(rf"```{language}\n(.*?)```", README, re.S) if "twilio" in b]
    return found


@pytest.fixture(scope="module")
def herald():
    with live_herald() as (url, account):
        yield url, account


def run(command: list[str], herald) -> str:
    _, account = herald
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ACCOUNT_SID": account["account_sid"],
        "AUTH_TOKEN": account["auth_token"],
    }
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_python_example_sends_directly_and_through_a_service(herald):
    url, account = herald
    assert PLACE in block("python") and "messaging_service_sid=service.sid" in block("python")
    printed = run([sys.executable, "-c", block("python").replace(PLACE, url)], herald)
    lines = printed.splitlines()
    assert re.fullmatch(r"SM[0-9a-f]{32} queued", lines[0])
    assert lines[-1] == "accepted None"
    # "a second later: delivered +14155550111"
    client = Client(account["account_sid"], account["auth_token"])
    client.api.base_url = url
    deadline = time.monotonic() + 15
    while True:
        (sent,) = [m for m in client.messages.list(to="+14155550100") if m.messaging_service_sid]
        if sent.status == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (sent.status, sent.from_) == ("delivered", "+14155550111")


def test_the_node_example_sends(node, herald):  # noqa: F811
    url, _ = herald
    assert "client.messaging.baseUrl = 'http://127.0.0.1:8000/messaging'" in block("js")
    printed = run([node, "-e", block("js").replace(PLACE, url)], herald)
    first, count = printed.splitlines()
    assert re.fullmatch(r"SM[0-9a-f]{32} queued", first) and int(count) >= 1
