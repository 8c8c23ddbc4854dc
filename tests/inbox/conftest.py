"""Headless Chromium driven by Playwright for Python, for the inbox's browser tests.

Playwright's own browser download cannot reach its servers here, so it drives Debian's
chromium (`make test` installs it when /usr/bin/chromium is missing). Without the browser
or the package the tests are skipped with the reason; with CI=true that fails instead.
Playwright gives every launch a fresh, empty profile directory of its own.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium")
# Chromium's background connections are refused by this machine's closed network, many at
# a time; these flags keep it from making them (the headless flag is Playwright's).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium (tests/inbox)")


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session, closed at its end."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (make test installs requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no {CHROMIUM} (make test installs Debian's chromium package)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """build/screenshots: the tests' pictures of the main views (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.is_file():
        unavailable(f"no {AXE.relative_to(ROOT)} (make test runs npm ci)")
    return AXE
