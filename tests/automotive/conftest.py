"""Fixtures of the automotive tests: agora's clock on Tuesday 1 December 2026 at 08:00 UTC
(the offline fixture's recording day, so its dates read as recorded), an empty cache, and
the DVLA and DVSA APIs at the HTTP boundary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache

from agora.core import clock
from agora.verticals.automotive import providers
from agora.verticals.automotive.providers.dvla_dvsa import DvlaDvsaProvider
from tests.automotive.upstream import FakeTime, Upstream, make_provider
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders"]

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def live(upstream: Upstream, fake_time: FakeTime) -> Iterator[DvlaDvsaProvider]:
    """The dvla_dvsa provider over the recorded responses, as the current provider."""
    provider = make_provider(upstream, fake_time)
    with providers.using(provider):
        yield provider


@pytest.fixture
def offline_provider() -> Any:
    return providers.build("offline")
