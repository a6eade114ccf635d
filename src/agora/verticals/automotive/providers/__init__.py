"""Vehicle data providers, chosen by `AGORA_VEHICLE_PROVIDER`: `offline` (the default, from
the shipped fixture) or `dvla_dvsa` (the DVLA and DVSA APIs, keys from the environment).

`current()` is the process's provider, built once from settings. Tests and benchmarks
put another in its place with `using(provider)` — a real DvlaDvsaProvider over an
`httpx.MockTransport`, so only the HTTP boundary is replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agora.verticals.automotive.providers.base import (
    VehicleDataProvider,
    VehicleDataUnavailable,
    VehicleNotFound,
)

__all__ = [
    "VehicleDataProvider",
    "VehicleDataUnavailable",
    "VehicleNotFound",
    "build",
    "current",
    "using",
]

_lock = threading.Lock()
_current: VehicleDataProvider | None = None
_override: VehicleDataProvider | None = None


def build(name: str) -> VehicleDataProvider:
    if name == "offline":
        from agora.verticals.automotive.providers.offline import OfflineProvider

        return OfflineProvider()
    if name == "dvla_dvsa":
        from agora.verticals.automotive.providers.dvla_dvsa import (
            DvlaDvsaConfig,
            DvlaDvsaProvider,
        )

        return DvlaDvsaProvider(DvlaDvsaConfig.from_settings())
    raise ImproperlyConfigured(f"AGORA_VEHICLE_PROVIDER={name!r}: use 'offline' or 'dvla_dvsa'.")


def current() -> VehicleDataProvider:
    global _current
    if _override is not None:
        return _override
    with _lock:
        if _current is None:
            _current = build(settings.AGORA_VEHICLE_PROVIDER)
        return _current


@contextmanager
def using(provider: VehicleDataProvider) -> Iterator[VehicleDataProvider]:
    """Make `provider` the current one for the block (tests, benchmarks)."""
    global _override
    previous, _override = _override, provider
    try:
        yield provider
    finally:
        _override = previous
