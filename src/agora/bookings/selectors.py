"""Booking reads: slots, first availability, and bookings as their customer or their
vendor's staff may see them (anyone else: 404)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from agora.availability import (
    AvailabilityCandidate,
    Slot,
    available_slots,
    first_available,
)
from agora.bookings.models import (
    Booking,
    CapacityUnit,
    ResourceAssignment,
    TimeBlock,
    VendorSchedule,
)
from agora.bookings.rules import occupancies_from, schedule_for, slot_rules_for
from agora.bookings.services.context import (
    BookingContext,
    booking_context,
    occupancies,
    occupying_bookings,
)
from agora.catalog.models import Category, Listing, ListingKind, ListingStatus
from agora.catalog.selectors import public_listings
from agora.core import clock
from agora.core.audit import audit_trail
from agora.core.errors import InvalidInput, NotFound
from agora.core.pagination import Page, paginate
from agora.vendors.models import VendorStatus
from agora.vendors.selectors import staff_vendor_ids

MAX_SLOT_WINDOW = timedelta(days=62)
# How far from now a window may lie: beyond any listing's booking horizon (730 days at
# most), and far from the ends of the calendar, where date arithmetic overflows.
MAX_SLOT_DISTANCE = timedelta(days=5 * 365)


@dataclass(frozen=True)
class SlotsResult:
    timezone: str
    slots: list[Slot]


def _window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    start = start or now
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise InvalidInput(
            "from and to need a UTC offset.",
            errors=[{"loc": ["query", "from"], "msg": "needs an offset", "type": "datetime"}],
        )
    # Compared before any arithmetic: 9999-12-31 plus a week is no date at all.
    for name, value in (("from", start), ("to", end)):
        if value is not None and not now - MAX_SLOT_DISTANCE <= value <= now + MAX_SLOT_DISTANCE:
            raise InvalidInput(
                f"{name} must be within {MAX_SLOT_DISTANCE.days // 365} years of today.",
                errors=[
                    {"loc": ["query", name], "msg": "too far from today", "type": "value_error"}
                ],
            )
    end = end or start + timedelta(days=7)
    if end <= start:
        raise InvalidInput(
            "to must be after from.",
            errors=[{"loc": ["query", "to"], "msg": "must be after from", "type": "value_error"}],
        )
    if end - start > MAX_SLOT_WINDOW:
        raise InvalidInput(
            "Ask for at most 62 days at a time.",
            errors=[
                {"loc": ["query", "to"], "msg": "window longer than 62 days", "type": "value_error"}
            ],
        )
    return start, end


def listing_slots(
    *, listing: Listing, start: datetime | None, end: datetime | None, include_full: bool = False
) -> SlotsResult:
    """Slots of a service listing in [start, end) with seats remaining. Two queries for what
    is taken (bookings and blocks), however many slots there are."""
    now = clock.now()
    start, end = _window(start, end, now)
    context = booking_context(listing=listing)
    # Occupancies that can touch any slot of the window, buffers included.
    margin = context.rules.duration + context.rules.buffer_before + context.rules.buffer_after
    taken = occupancies(context, start=start - margin, end=end + margin, now=now)
    slots = available_slots(
        context.schedule,
        context.rules,
        taken,
        now=now,
        from_utc=start,
        to_utc=end,
        include_full=include_full,
    )
    return SlotsResult(timezone=context.schedule.timezone, slots=slots)


@dataclass(frozen=True)
class FirstSlot:
    listing: Listing
    slot: Slot


def first_available_slots(
    *,
    category: str,
    city: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int = 20,
) -> list[FirstSlot]:
    """The earliest free slot of each public service listing in a category (descendants
    included) and city, earliest first — "find a slot at any workshop". A fixed number of
    queries: listings, schedules, assignments, bookings and blocks each load once."""
    now = clock.now()
    start, end = _window(start, end, now)
    path = Category.objects.filter(slug=category).values_list("path", flat=True).first()
    if path is None:
        raise NotFound(f"No category {category!r}.")
    listings_qs = (
        public_listings()
        .filter(
            Q(category__path=path) | Q(category__path__startswith=f"{path}/"),
            kind=ListingKind.SERVICE,
        )
        .select_related("vendor", "vendor__city", "category")
    )
    if city:
        listings_qs = listings_qs.filter(vendor__city__slug=city)
    listings = list(listings_qs.order_by("id")[:200])
    free = first_free_slots(listings=listings, start=start, end=end, now=now)
    results = [FirstSlot(listing=x, slot=free[x.pk]) for x in listings if x.pk in free]
    results.sort(key=lambda item: (item.slot.start, item.listing.pk))
    return results[:limit]


def first_free_slots(
    *, listings: list[Listing], start: datetime, end: datetime, now: datetime | None = None
) -> dict[int, Slot]:
    """The earliest free slot in [start, end) of each of these service listings that has
    one. A fixed number of queries however many listings: schedules, assignments, capacity
    units, bookings and blocks each load once. Search asks this for availability-aware
    results; it never decides availability itself."""
    now = now or clock.now()
    listings = [x for x in listings if x.kind == ListingKind.SERVICE]
    if not listings:
        return {}
    vendor_ids = {listing.vendor_id for listing in listings}
    schedules = {s.vendor_id: s for s in VendorSchedule.objects.filter(vendor_id__in=vendor_ids)}
    assignments = {
        a.listing_id: a.resource
        for a in ResourceAssignment.objects.select_related("resource").filter(listing__in=listings)
    }
    units = CapacityUnit.objects.filter(
        Q(listing__in=listings) | Q(resource__in=list(assignments.values()))
    )
    unit_by_owner: dict[tuple[str, int], int] = {}
    for unit in units:
        if unit.listing_id:
            unit_by_owner[("listing", unit.listing_id)] = unit.pk
        if unit.resource_id:
            unit_by_owner[("resource", unit.resource_id)] = unit.pk
    horizon_end = end + timedelta(days=1)
    bookings_by_unit: dict[int, list[Booking]] = defaultdict(list)
    for booking in occupying_bookings(
        unit_ids=list(unit_by_owner.values()),
        start=start - timedelta(days=1),
        end=horizon_end,
        now=now,
    ):
        bookings_by_unit[booking.unit_id].append(booking)
    blocks = list(
        TimeBlock.objects.filter(
            vendor_id__in=vendor_ids, start__lt=horizon_end, end__gt=start - timedelta(days=1)
        )
    )
    candidates = []
    kept = []
    for listing in listings:
        schedule_row = schedules.get(listing.vendor_id)
        resource = assignments.get(listing.pk)
        if schedule_row is None and (resource is None or not resource.schedule):
            continue
        capacity = resource.capacity if resource else listing.capacity
        unit_id = unit_by_owner.get(
            ("resource", resource.pk) if resource else ("listing", listing.pk)
        )
        own_blocks = [
            b
            for b in blocks
            if b.vendor_id == listing.vendor_id
            and (b.resource_id is None or (resource and b.resource_id == resource.pk))
        ]
        candidates.append(
            AvailabilityCandidate(
                schedule=schedule_for(
                    timezone=listing.vendor.timezone,
                    vendor_schedule=schedule_row,
                    resource=resource,
                ),
                rules=slot_rules_for(listing, capacity=capacity),
                occupancies=occupancies_from(
                    bookings_by_unit.get(unit_id or -1, []), own_blocks, capacity=capacity
                ),
            )
        )
        kept.append(listing)
    found = first_available(candidates, now=now, from_utc=start, to_utc=end)
    return {listing.pk: slot for listing, slot in zip(kept, found, strict=True) if slot}


# --- bookings as people may see them ----------------------------------------------------------


def _bookings() -> QuerySet[Booking]:
    return Booking.objects.select_related("listing", "vendor", "customer", "vehicle")


def booking_get_for_customer(*, user: Any, booking_id: int) -> Booking:
    booking = _bookings().filter(pk=booking_id, customer_id=user.pk).first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def booking_get_for_staff(*, user: Any, booking_id: int) -> Booking:
    booking = _bookings().filter(pk=booking_id, vendor_id__in=staff_vendor_ids(user=user)).first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def booking_get_visible(*, user: Any, booking_id: int) -> Booking:
    """The booking if `user` is its customer or on its vendor's staff; else 404."""
    booking = (
        _bookings()
        .filter(
            Q(customer_id=user.pk) | Q(vendor_id__in=staff_vendor_ids(user=user)), pk=booking_id
        )
        .first()
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def bookings_for_user(
    *, user: Any, as_vendor: bool, status: str | None, cursor: str | None, limit: int = 20
) -> Page[Booking]:
    """The user's own bookings as customer, or their vendors' bookings as staff."""
    if as_vendor:
        bookings = _bookings().filter(vendor_id__in=staff_vendor_ids(user=user))
    else:
        bookings = _bookings().filter(customer_id=user.pk)
    if status:
        bookings = bookings.filter(status=status)
    return paginate(bookings, ordering=("-start", "-id"), cursor=cursor, limit=limit)


def agenda(*, vendor_id: int, day: date, timezone: str) -> list[Booking]:
    """A vendor's bookings starting on `day` in its own time zone (live ones only)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return list(
        _bookings()
        .filter(
            vendor_id=vendor_id,
            start__gte=start,
            start__lt=end,
            status__in=["pending", "accepted", "in_progress", "completed", "held"],
        )
        .order_by("start", "id")
    )


def vendor_bookings_between(*, vendor_id: int, start: datetime, end: datetime) -> list[Booking]:
    return list(
        _bookings()
        .filter(vendor_id=vendor_id, start__lt=end, end__gt=start)
        .exclude(status__in=["expired", "cancelled", "declined"])
        .order_by("start", "id")
    )


@dataclass(frozen=True)
class HistoryItem:
    status: str
    at: datetime
    actor_id: int | None
    reason: str
    data: dict[str, Any]


def booking_history(booking: Booking) -> list[HistoryItem]:
    items = []
    for entry in audit_trail(booking):
        if entry.action == "booking.rescheduled":
            status = "rescheduled"
        else:
            status = entry.data.get("to") or entry.action.removeprefix("booking.")
        items.append(
            HistoryItem(
                status=status,
                at=entry.at,
                actor_id=entry.actor_id,
                reason=entry.data.get("reason", ""),
                data=entry.data,
            )
        )
    return items


# What a hold reads (visibility, slot rules, price, the response's title) — a fifth of the
# columns of the six joined tables, which is most of the query's cost in the ORM. Reading
# any other field of these objects would cost a query each: the statement-count tests of
# tests/bookings/test_statements.py would show it.
_BOOKABLE_FIELDS = (
    "vendor_id",
    "kind",
    "title",
    "status",
    "price_amount",
    "currency",
    "duration_minutes",
    "capacity",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "horizon_days",
    "slot_step_minutes",
    "auto_accept",
    "vendor__status",
    "vendor__timezone",
    "vendor__currency",
    "vendor__tier",
    "vendor__schedule__weekly",
    "vendor__schedule__overrides",
    "vendor__schedule__holidays",
    "vendor__schedule__vendor_id",
    "capacity_unit__listing_id",
    "capacity_unit__resource_id",
    "resource_assignment__listing_id",
    "resource_assignment__resource__capacity",
    "resource_assignment__resource__schedule",
    "resource_assignment__resource__capacity_unit__resource_id",
)


def bookable_listing(*, user: Any, listing_id: int) -> Listing:
    """The listing as `listing_get_visible` would give it to `user` (same visibility, same
    NotFound), loaded for booking in one query: its vendor, the vendor's opening hours, its
    capacity unit and its resource assignment with the resource's unit — what
    `booking_context` needs — and nothing else (no images, variants, city or category)."""
    listing = (
        Listing.objects.select_related(
            "vendor",
            "vendor__schedule",
            "capacity_unit",
            "resource_assignment__resource__capacity_unit",
        )
        .only(*_BOOKABLE_FIELDS)
        .filter(pk=listing_id)
        .order_by()[:1]
    )
    found = next(iter(listing), None)
    if found is None:
        raise NotFound("No such listing.")
    if found.status == ListingStatus.ACTIVE and found.vendor.status == VendorStatus.ACTIVE:
        return found
    if getattr(user, "is_operator", False):
        return found
    if getattr(user, "is_authenticated", False) and found.vendor_id in staff_vendor_ids(user=user):
        return found
    raise NotFound("No such listing.")


def context_for(listing: Listing) -> BookingContext:
    return booking_context(listing=listing)
