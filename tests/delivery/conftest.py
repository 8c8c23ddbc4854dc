"""Fixtures for the delivery tests: each runs on a fresh pipeline (tests/delivery/pipeline.py)
on one embedded AWS server per module; `account` and `api` are the pipeline's own."""

import pytest

from chalicelib import admin
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
