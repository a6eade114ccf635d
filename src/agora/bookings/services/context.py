"""Everything needed to decide about one listing's capacity, loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def booking_context(*, listing: Listing) -> BookingContext:
    assignment = (
        ResourceAssignment.objects.select_related("resource").filter(listing=listing).first()
    )
    resource = assignment.resource if assignment else None
    vendor_schedule = VendorSchedule.objects.filter(vendor_id=listing.vendor_id).first()
    capacity = resource.capacity if resource else listing.capacity
    # Refusals first (not a service: 422; no opening hours: 409), so that a listing that
    # can never be booked gets no capacity unit.
    rules = slot_rules_for(listing, capacity=capacity)
    schedule = schedule_for(
        timezone=listing.vendor.timezone, vendor_schedule=vendor_schedule, resource=resource
    )
    return BookingContext(
        listing=listing,
        unit=capacity_unit_for(listing=listing, resource=resource),
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
