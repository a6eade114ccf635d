"""Fixtures of the quote tests: the plumbers of `helpers.make_market` with agora's clock
stopped on Monday 5 January 2026 at 08:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from agora.core import clock
from tests.quotes.helpers import NOW, Market, make_market
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders", "market", "now"]


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def market(db: Any, now: datetime) -> Market:
    return make_market()
