"""Fixtures of the review tests: a vendor with its people and agora's clock stopped on
Monday 2 March 2026 at noon UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from agora.core import clock
from tests.reviews.helpers import NOW, Shop, make_shop
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders", "now", "shop"]


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def shop(db: Any, now: datetime) -> Shop:
    return make_shop()
