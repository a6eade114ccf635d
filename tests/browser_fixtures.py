"""Real-browser fixtures: Playwright driving the machine's Chromium against a live server.

A pytest plugin of the whole suite (tests/conftest.py), so every browser test in any
folder shares the one session-scoped Playwright: a second `sync_playwright()` in the same
thread would fail. Never downloads a browser. Without /usr/bin/chromium the tests fail
where a test run says which database it expects (`make test`, CI: AGORA_EXPECT_DB) or CI is
set, and skip with a loud reason elsewhere. Screenshots land in test-results/<test name>/.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS_DIR = Path(__file__).resolve().parents[1] / "test-results"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") or os.environ.get("AGORA_EXPECT_DB"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
        message = f"!!! BROWSER TESTS SKIPPED: {CHROMIUM} is missing (apt-get install chromium) !!!"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    # Playwright's sync API keeps an event loop in this thread for the whole session; the ORM
    # calls tests and fixtures make around it are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Django keeps each test database's seed snapshot (for serialized rollback) on the
    # connection object, and Playwright's sync API moves the tests into another context
    # with other connection objects: carry the snapshot over, or a transactional browser
    # test after the first finds the flushed tables never restored (no cities).
    snapshots = {
        alias: connections[alias].__dict__.get("_test_serialized_contents") for alias in connections
    }
    with sync_playwright() as playwright:
        for alias, snapshot in snapshots.items():
            if snapshot is not None:
                connections[alias]._test_serialized_contents = snapshot  # type: ignore[attr-defined]
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page: Any, live_server: Any) -> Callable[[Any], None]:
    """Give the browser a session for ``user`` without typing the password."""

    def sign_in_as(user: Any) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in_as


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a full-page screenshot under test-results/<test name>/<step>.png."""
    folder = RESULTS_DIR / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)

    def take(step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
