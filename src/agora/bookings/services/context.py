"""Everything needed to decide about one listing's capacity, loaded once.

`booking_context` reads the listing's resource assignment, vendor schedule and capacity
unit through the listing's relations: with a listing from
`agora.bookings.selectors.bookable_listing` (one query, those relations joined) it issues
no query at all. The parsed opening hours are cached by their content.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from agora.availability import Occupancy, Schedule, SlotRules
from agora.bookings.models import (
    OCCUPYING_STATUSES,
    Booking,
    BookingStatus,
    CapacityUnit,
    Resource,
    ResourceAssignment,
    TimeBlock,
    VendorSchedule,
)
from agora.bookings.rules import occupancies_from, overlapping, schedule_for, slot_rules_for
from agora.catalog.models import Listing


@dataclass(frozen=True)
class BookingContext:
    listing: Listing
    unit: CapacityUnit
    resource: Resource | None
    capacity: int
    schedule: Schedule
    rules: SlotRules


def capacity_unit_for(*, listing: Listing, resource: Resource | None) -> CapacityUnit:
    """The unit whose lock serialises bookings of `listing` (created on first use)."""
    lookup: dict[str, Listing | Resource] = (
        {"resource": resource} if resource is not None else {"listing": listing}
    )
    unit = CapacityUnit.objects.filter(**lookup).first()
    if unit is not None:
        return unit
    try:
        with transaction.atomic():
            return CapacityUnit.objects.create(vendor_id=listing.vendor_id, **lookup)
    except IntegrityError:  # another booker created it first
        return CapacityUnit.objects.get(**lookup)


def _related(instance: Any, name: str) -> Any:
    """`instance.<name>` for a one-to-one relation, or None when there is no such row (a
    query only when the relation was not loaded with the instance)."""
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


_SCHEDULES: dict[str, Schedule] = {}
_SCHEDULES_LOCK = threading.Lock()
_SCHEDULES_MAX = 2048


def cached_schedule(
    *, timezone: str, vendor_schedule: VendorSchedule | None, resource: Resource | None
) -> Schedule:
    """`schedule_for`, memoised on the stored hours themselves (any edit of the hours, the
    holidays or the time zone makes a new key): parsing is a fifth of a booking's CPU."""
    key = json.dumps(
        [
            timezone,
            resource.schedule if resource is not None else None,
            [vendor_schedule.weekly, vendor_schedule.overrides, vendor_schedule.holidays]
            if vendor_schedule is not None
            else None,
        ],
        sort_keys=True,
        default=str,
    )
    schedule = _SCHEDULES.get(key)
    if schedule is None:
        schedule = schedule_for(
            timezone=timezone, vendor_schedule=vendor_schedule, resource=resource
        )
        with _SCHEDULES_LOCK:
            if len(_SCHEDULES) >= _SCHEDULES_MAX:
                _SCHEDULES.clear()
            _SCHEDULES[key] = schedule
    return schedule


def booking_context(*, listing: Listing) -> BookingContext:
    assignment: ResourceAssignment | None = _related(listing, "resource_assignment")
    resource = assignment.resource if assignment else None
    vendor_schedule: VendorSchedule | None = _related(listing.vendor, "schedule")
    capacity = resource.capacity if resource else listing.capacity
    # Refusals first (not a service: 422; no opening hours: 409), so that a listing that
    # can never be booked gets no capacity unit.
    rules = slot_rules_for(listing, capacity=capacity)
    schedule = cached_schedule(
        timezone=listing.vendor.timezone, vendor_schedule=vendor_schedule, resource=resource
    )
    unit: CapacityUnit | None = _related(resource if resource else listing, "capacity_unit")
    return BookingContext(
        listing=listing,
        unit=unit if unit is not None else capacity_unit_for(listing=listing, resource=resource),
        resource=resource,
        capacity=capacity,
        schedule=schedule,
        rules=rules,
    )


def occupying_bookings(
    *, unit_ids: list[int], start: datetime, end: datetime, now: datetime
) -> QuerySet[Booking]:
    """Bookings that take capacity of these units during [start, end): the states of
    OCCUPYING_STATUSES, except holds already past their expiry."""
    return (
        Booking.objects.filter(
            unit_id__in=unit_ids, status__in=OCCUPYING_STATUSES, **overlapping(start, end)
        )
        .exclude(status=BookingStatus.HELD, hold_expires_at__lte=now)
        .only("id", "unit_id", "blocked_from", "blocked_until", "seats")
    )


def blocks_for(
    *, vendor_id: int, resource_id: int | None, start: datetime, end: datetime
) -> QuerySet[TimeBlock]:
    scope = Q(resource__isnull=True)
    if resource_id is not None:
        scope |= Q(resource_id=resource_id)
    return TimeBlock.objects.filter(scope, vendor_id=vendor_id, start__lt=end, end__gt=start)


def occupancies(
    context: BookingContext,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> list[Occupancy]:
    bookings = occupying_bookings(unit_ids=[context.unit.pk], start=start, end=end, now=now)
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    blocks = blocks_for(
        vendor_id=context.listing.vendor_id,
        resource_id=context.resource.pk if context.resource else None,
        start=start,
        end=end,
    )
    return occupancies_from(bookings, blocks, capacity=context.capacity)
