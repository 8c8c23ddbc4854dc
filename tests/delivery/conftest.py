"""Fixtures for the delivery tests: each runs on a fresh pipeline (tests/delivery/pipeline.py)
on one embedded AWS server per module; `account` and `api` are the pipeline's own."""

import time

import pytest

import admin
from chalicelib.runtime import clock, config
from devtools import services
from tests.conftest import Api
from tests.delivery.pipeline import pipeline_on


@pytest.fixture(scope="module")
def endpoint():
    with services.embedded_aws() as url:
        yield url


@pytest.fixture
def line(endpoint, monkeypatch):
    with pipeline_on(endpoint, monkeypatch) as pipeline:
        yield pipeline


@pytest.fixture
def account(line):
    return admin.create_account()


@pytest.fixture
def api(line, account):
    from chalice.test import Client

    with Client(line.app.app) as client:
        yield Api(client, account["account_sid"], account["auth_token"])


@pytest.fixture
def lease_expires(monkeypatch):
    """Call it to let the time pass after which a dead worker's claim and its job come back:
    the clock moves past the claim's lease, and the job's visibility timeout runs out."""
    offset = {"ms": 0}
    real = clock.now_ms
    monkeypatch.setattr(clock, "now_ms", lambda: real() + offset["ms"])

    def expire() -> None:
        offset["ms"] += (config.delivery().lease_seconds + 1) * 1000
        time.sleep(1.2)  # the jobs' visibility timeout on the test queues

    return expire
