"""The public shell in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_renders_and_loads_its_assets(page: Any, screenshot: Any) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("pageerror", lambda error: failed.append(str(error)))

    page.goto("/")

    assert page.title() == "Agora — book local services and buy from independent shops"
    assert page.evaluate("typeof window.htmx") == "object"
    assert failed == []
    assert screenshot("home").stat().st_size > 0
