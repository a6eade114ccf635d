"""The VehicleDataProvider interface and what a lookup can end in."""

from __future__ import annotations

from typing import Protocol

from agora.verticals.automotive.profile import VehicleProfile


class VehicleNotFound(Exception):
    """No source knows the registration."""


class VehicleDataUnavailable(Exception):
    """No source that could know the registration answered."""

    def __init__(self, reason: str, *, retry_after: int = 30) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class VehicleDataProvider(Protocol):
    """Vehicle data by registration.

    `lookup` takes a registration in normal form (agora.verticals.automotive.registration)
    and returns the merged profile — `unavailable_sources` naming any source that failed
    while another answered — or raises VehicleNotFound or VehicleDataUnavailable. It may
    be called from several threads at once.
    """

    name: str

    def lookup(self, registration: str) -> VehicleProfile: ...
