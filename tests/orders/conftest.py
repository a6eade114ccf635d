"""Fixtures of the goods tests: two London vendors selling products, their staff, two
customers — each with an API client — and agora's clock stopped on Monday 5 January 2026
at 08:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from agora.core import clock
from tests.orders.helpers import NOW, Market, make_market
from tests.vendors.fixtures import _no_static_finders, mailbox

__all__ = ["_no_static_finders", "mailbox", "market", "now"]


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def market(db: Any, now: datetime) -> Market:
    return make_market()
