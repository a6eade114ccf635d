"""Holds at a time and price agreed in a quote, rather than on a listing's slot grid.

A vendor's quote names its own start, duration and price, so the booking does not come
from `GET /listings/{id}/slots`: it may start off the grid or outside the published hours
(the vendor proposed it) and it costs what the quote says. It still takes capacity exactly
like any hold — the listing's capacity unit is locked, its occupancy checked inside the
lock, PostgreSQL's exclusion constraint as the last word — so an accepted quote can never
double-book the vendor's unit (ARCHITECTURE.md invariant 1). Paying it is the ordinary
`booking_pay`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agora.accounts.models import User
from agora.availability import Schedule, SlotRules, WeeklySchedule
from agora.bookings.errors import invalid_slot
from agora.bookings.models import Booking, Resource, ResourceAssignment
from agora.bookings.services import holds
from agora.bookings.services.context import (
    BookingContext,
    _related,
    capacity_unit_for,
)
from agora.catalog.models import Listing
from agora.core import clock
from agora.core.money import Money

# A quoted job is at most two weeks of work.
MAX_QUOTED_DURATION = timedelta(days=14)


def _quoted_context(listing: Listing, duration: timedelta) -> BookingContext:
    assignment: ResourceAssignment | None = _related(listing, "resource_assignment")
    resource: Resource | None = assignment.resource if assignment else None
    capacity = resource.capacity if resource else listing.capacity
    rules = SlotRules(
        duration=duration,
        step=timedelta(minutes=1),
        buffer_before=timedelta(minutes=listing.buffer_before_minutes),
        buffer_after=timedelta(minutes=listing.buffer_after_minutes),
        capacity=capacity,
    )
    # Opening hours are not consulted (the vendor chose the time): the context carries
    # an always-closed week, which nothing on this path reads.
    schedule = Schedule(timezone=listing.vendor.timezone, weekly=WeeklySchedule())
    return BookingContext(
        listing=listing,
        unit=capacity_unit_for(listing=listing, resource=resource),
        resource=resource,
        capacity=capacity,
        schedule=schedule,
        rules=rules,
    )


def booking_hold_quoted(
    *,
    customer: User,
    listing: Listing,
    start: datetime,
    duration: timedelta,
    price: Money,
    notes: str = "",
) -> Booking:
    """Hold the listing's unit for [start, start + duration) at `price`.

    Precondition: the caller decided the customer may book this (an accepted quote).
    Taken or full → 409 slot_unavailable; a start in the past or a duration out of
    range → 422 invalid_slot.
    """
    start = holds._utc(start)
    if start <= clock.now():
        raise invalid_slot("The start has passed; agree a new time with the vendor.")
    if not timedelta(minutes=1) <= duration <= MAX_QUOTED_DURATION:
        raise invalid_slot("A quoted job lasts from a minute to fourteen days.")
    context = _quoted_context(listing, duration)
    return holds._take_hold(
        context, customer=customer, start=start, price=price, notes=notes, pickup=None
    )
