"""Fixtures of the booking tests: a London workshop open Monday to Friday 09:00–17:00, the
people around it with their API clients, and agora's clock stopped on Monday 5 January 2026
at 08:00 UTC (London is on UTC in winter, so local and UTC times read the same)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from agora.core import clock
from tests.bookings.helpers import NOW, Shop, make_shop
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders", "now", "shop"]


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def shop(db: Any, now: datetime) -> Shop:
    return make_shop()
