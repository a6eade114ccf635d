"""Fixtures of the messaging tests: the world of `helpers.make_world` with agora's clock
stopped, and uploads written to a fresh media directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from agora.core import clock
from tests.messaging.helpers import NOW, World, make_world
from tests.vendors.fixtures import _no_static_finders, media_root

__all__ = ["_no_static_finders", "media_root", "now", "world"]


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def world(db: Any, now: datetime, media_root: Any) -> World:
    return make_world()
