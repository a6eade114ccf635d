"""Vehicle reads: a registration's profile (cached), and the garage as its owner sees it.

`vehicle_profile` is the one way to look a registration up. Answers are cached in
Django's cache (Redis when REDIS_URL is set, else per process): a full profile for
`AGORA_VEHICLE_CACHE_SECONDS` (an hour: MOT history changes on test day), a partial one
for a couple of minutes so the missing source is asked again soon, an unknown
registration for ten minutes. Concurrent lookups of one registration in a process wait
for the first instead of each calling the provider (a burst of lookups costs one call).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet

from agora.accounts.models import User
from agora.bookings.models import Booking
from agora.catalog.models import Category, Listing
from agora.catalog.selectors import public_listings
from agora.core import clock
from agora.core.pagination import Page, paginate
from agora.verticals.automotive import providers, registration
from agora.verticals.automotive.errors import (
    invalid_registration,
    vehicle_data_unavailable,
    vehicle_missing,
    vehicle_not_found,
)
from agora.verticals.automotive.models import JobStage, Vehicle
from agora.verticals.automotive.profile import VehicleProfile

UK = ZoneInfo("Europe/London")
PARTIAL_CACHE_SECONDS = 120
NOT_FOUND_CACHE_SECONDS = 600
_NOT_FOUND = {"not_found": True}

T = TypeVar("T")


def uk_today() -> date:
    """Today where MOT and tax dates are kept (UK civil dates)."""
    return clock.now().astimezone(UK).date()


def parse_registration(text: str, *, loc: list[str]) -> str:
    """The normal form of `text`, or 422 naming the field at `loc`."""
    try:
        return registration.parse(text)
    except registration.InvalidRegistration as error:
        raise invalid_registration(str(error), loc=loc) from error


@dataclass
class _Call:
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class SingleFlight:
    """Run `fn` once for callers of the same key arriving while it runs; all get its
    result (or its exception)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}

    def do(self, key: str, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.result
        try:
            call.result = fn()
            return call.result
        except BaseException as error:
            call.error = error
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()


_flights = SingleFlight()


def _cache_key(provider_name: str, normal: str) -> str:
    return f"vehicle:profile:v1:{provider_name}:{normal}"


def vehicle_profile(*, registration_number: str) -> VehicleProfile:
    """The profile of a registration in normal form. 404 vehicle_not_found, 503
    vehicle_data_unavailable."""
    provider = providers.current()
    key = _cache_key(provider.name, registration_number)
    cached = cache.get(key)
    if cached is None:
        cached = _flights.do(key, lambda: _fetch(provider, key, registration_number))
    if cached.get("not_found"):
        raise vehicle_not_found(registration.display(registration_number))
    return VehicleProfile.from_json(cached)


def _fetch(
    provider: providers.VehicleDataProvider, key: str, registration_number: str
) -> dict[str, Any]:
    cached = cache.get(key)  # filled while this caller waited to lead
    if cached is not None:
        return cached
    try:
        profile = provider.lookup(registration_number)
    except providers.VehicleNotFound:
        cache.set(key, _NOT_FOUND, NOT_FOUND_CACHE_SECONDS)
        return _NOT_FOUND
    except providers.VehicleDataUnavailable as error:
        raise vehicle_data_unavailable(retry_after=error.retry_after) from error
    stored = profile.to_json()
    ttl = PARTIAL_CACHE_SECONDS if profile.partial else settings.AGORA_VEHICLE_CACHE_SECONDS
    cache.set(key, stored, ttl)
    return stored


def forget_profile(*, registration_number: str) -> None:
    cache.delete(_cache_key(providers.current().name, registration_number))


# --- the garage ---------------------------------------------------------------------------


def _garage(owner: User) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(owner_id=owner.pk, removed_at__isnull=True)


def vehicles_for_owner(*, owner: User, cursor: str | None, limit: int = 20) -> Page[Vehicle]:
    return paginate(_garage(owner), ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def vehicles_all_for_owner(*, owner: User) -> list[Vehicle]:
    """Every vehicle in the garage, newest first (the booking form's choice)."""
    return list(_garage(owner).order_by("-created_at", "-id"))


def vehicle_get_for_owner(*, owner: User, vehicle_id: int) -> Vehicle:
    """One of the owner's saved vehicles; anyone else's, or one removed → 404."""
    vehicle = _garage(owner).filter(pk=vehicle_id).first()
    if vehicle is None:
        raise vehicle_missing()
    return vehicle


def vehicle_service_history(*, vehicle: Vehicle) -> list[Booking]:
    """The bookings made on Agora for the vehicle by its owner, newest first, in one query.
    Holds that lapsed are not history."""
    return list(
        Booking.objects.filter(vehicle_id=vehicle.pk, customer_id=vehicle.owner_id)
        .exclude(status="expired")
        .select_related("listing", "vendor")
        .order_by("-start", "-id")
    )


def garage_count(*, owner: User) -> int:
    return _garage(owner).count()


def garage_has(*, owner: User, registration_number: str) -> bool:
    return _garage(owner).filter(registration=registration_number).exists()


def listings_for_vehicle(
    *, profile: VehicleProfile, category_slug: str, limit: int = 12
) -> list[Listing]:
    """Public listings of the category (and below it) that serve the vehicle — by their
    `vehicle_types` attribute — cheapest first. Unknown category: none."""
    path = Category.objects.filter(slug=category_slug).values_list("path", flat=True).first()
    if path is None:
        return []
    candidates = (
        public_listings()
        .filter(Q(category__path=path) | Q(category__path__startswith=f"{path}/"))
        .select_related("vendor", "vendor__city")
        .order_by("price_amount", "id")[:200]
    )
    served = [
        listing
        for listing in candidates
        if profile.served_by((listing.attributes or {}).get("vehicle_types"))
    ]
    return served[:limit]


def job_stages(*, booking: Booking) -> list[JobStage]:
    """The job's stages, oldest first. Precondition: the caller may see the booking."""
    return list(JobStage.objects.filter(booking_id=booking.pk).order_by("at", "id"))
