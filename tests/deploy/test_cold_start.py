"""What a cold start imports and how it makes its clients (the figures: bench/cold_start.py).

Lambda names each function's handler in _HANDLER; app.py registers the API's routes only for
app.app, so a delivery function never imports the web layer."""

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.storage import boto

ROOT = Path(__file__).resolve().parents[2]
DELIVERY = {
    "app.dispatcher": "dispatch",
    "app.sender": "worker",
    "app.receipt_handler": "receipts",
    "app.callback_sender": "callbacks",
    "app.scheduled_sends": "scheduler",
}
PROBE = """\
import json, sys
import app
{extra}
print(json.dumps({{
    "routes": len(app.app.routes),
    "modules": sorted(m for m in sys.modules if m.startswith("chalicelib")),
}}))
"""


def cold_start(handler: str, extra: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "_HANDLER"))}
    env.update(
        _HANDLER=handler,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        HERALD_TABLE_NAME="herald-test",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(extra=extra)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_the_api_function_registers_every_route():
    seen = cold_start("app.app")
    assert seen["routes"] >= 10
    assert "chalicelib.web.messages" in seen["modules"]


@pytest.mark.parametrize("handler", sorted(DELIVERY))
def test_a_delivery_function_imports_no_route_and_no_web_module(handler):
    seen = cold_start(handler, f"from chalicelib.delivery import {DELIVERY[handler]}")
    assert seen["routes"] == 0
    assert f"chalicelib.delivery.{DELIVERY[handler]}" in seen["modules"]
    web = [m for m in seen["modules"] if m.startswith(("chalicelib.web", "chalicelib.inbox"))]
    assert web == []


@pytest.fixture
def collector():
    """The collector as the test found it, whatever new_client did to it."""
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    gc.enable() if was_enabled else gc.disable()


def test_a_client_is_made_with_the_collector_paused_and_then_restored(collector, monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    gc.enable()
    gc.unfreeze()
    seen = []
    monkeypatch.setattr("boto3.client", lambda *a, **k: seen.append(gc.isenabled()) or "made")
    assert boto.new_client("sqs", {"connect_timeout": 2}, region_name="us-east-1") == "made"
    assert seen == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # off Lambda nothing is frozen


def test_on_lambda_what_the_client_made_is_frozen(collector, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "herald-dev-sender")
    gc.enable()
    gc.unfreeze()
    monkeypatch.setattr("boto3.client", lambda *a, **k: "made")
    boto.new_client("sqs", region_name="us-east-1")
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_a_failing_client_restores_the_collector_and_a_paused_one_stays_paused(
    collector, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ValueError("no such service")

    monkeypatch.setattr("boto3.client", refuse)
    gc.enable()
    with pytest.raises(ValueError):
        boto.new_client("nope")
    assert gc.isenabled()
    gc.disable()
    with pytest.raises(ValueError):
        boto.new_client("nope")
    assert not gc.isenabled()
