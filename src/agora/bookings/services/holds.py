"""Taking capacity: holds and rescheduling. The invariant they keep: a capacity unit never
has more seats taken, at any instant, than it has (ARCHITECTURE.md invariant 1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from agora.accounts.models import User
from agora.availability import Occupancy, conflicting_seats, is_bookable_start
from agora.availability import conflicting_seats as count_seats
from agora.bookings import timers
from agora.bookings.errors import BookingError, BookingErrorCode, invalid_slot, slot_unavailable
from agora.bookings.models import (
    OCCUPYING_STATUSES,
    Booking,
    BookingStatus,
    CapacityUnit,
    PickupOption,
)
from agora.bookings.services.announce import announce, first_name
from agora.bookings.services.context import BookingContext, blocks_for, booking_context
from agora.bookings.states import BOOKING_LIFECYCLE
from agora.catalog.models import Listing
from agora.catalog.pricing import PriceRuleSpec, PricingError, resolve_price
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, InvalidTransition
from agora.core.locking import lock_row, retry_when_busy
from agora.core.money import Money

if TYPE_CHECKING:
    from agora.verticals.automotive.models import Vehicle


def _jsonable(pickup: dict[str, Any] | None) -> dict[str, Any] | None:
    if pickup is None:
        return None
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in pickup.items()}


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(
            "Times need a UTC offset, e.g. 2026-12-01T09:00:00+00:00.",
            errors=[{"loc": ["body", "start"], "msg": "needs an offset", "type": "datetime"}],
        )
    return value.astimezone(clock.now().tzinfo)


def _price(listing: Listing, options: dict[str, str]) -> Money:
    if not options:
        return listing.price
    rules = [
        PriceRuleSpec(r.dimension, r.option, r.adjustment, r.amount, r.multiplier_bp, r.label)
        for r in listing.price_rules.all()
    ]
    try:
        return resolve_price(base=listing.price, rules=rules, selection=options).total
    except PricingError as error:
        raise InvalidInput(
            str(error),
            errors=[
                {"loc": ["body", "options", error.dimension], "msg": str(error), "type": "enum"}
            ],
        ) from error


def _pickup_fee(listing: Listing, pickup: dict[str, Any]) -> Money:
    option = PickupOption.objects.filter(listing=listing).first()
    if option is None:
        raise InvalidInput(
            "This service does not offer pickup and drop.",
            errors=[{"loc": ["body", "pickup"], "msg": "not offered", "type": "value_error"}],
        )
    if pickup["pickup_before"] <= pickup["pickup_after"]:
        raise InvalidInput(
            "The pickup window must end after it starts.",
            errors=[
                {
                    "loc": ["body", "pickup", "pickup_before"],
                    "msg": "before start",
                    "type": "value_error",
                }
            ],
        )
    return Money(option.fee_amount, listing.currency)


def _expire_stale_holds(stale_ids: list[int]) -> None:
    """Holds past their expiry become `expired` now, inside the booker's locked
    transaction: the seat is free to this booker at once, whatever the sweeping task has
    done, and PostgreSQL's exclusion constraint sees it free too."""
    for booking in Booking.objects.filter(pk__in=stale_ids).order_by("pk"):
        try:
            BOOKING_LIFECYCLE.apply(
                booking, BookingStatus.EXPIRED, actor=None, reason="hold expired"
            )
        except InvalidTransition:
            # Moved since we read it: the sweeping task expired it, or its customer
            # cancelled it (neither takes the unit's lock). It no longer holds the seat
            # either way.
            continue


def _occupancies(
    context: BookingContext,
    *,
    blocked_from: datetime,
    blocked_until: datetime,
    now: datetime,
    exclude: int | None,
) -> tuple[list[Occupancy], list[int]]:
    """What takes the unit's capacity during the blocked span, in two queries (the
    bookings in an occupying state, the time blocks), and the ids of the holds among
    those bookings that are past their expiry — which take nothing."""
    bookings = Booking.objects.filter(
        unit_id=context.unit.pk,
        status__in=OCCUPYING_STATUSES,
        blocked_from__lt=blocked_until,
        blocked_until__gt=blocked_from,
    ).order_by()
    if exclude is not None:
        bookings = bookings.exclude(pk=exclude)
    live, stale = [], []
    for pk, status, expires, start, end, seats in bookings.values_list(
        "pk", "status", "hold_expires_at", "blocked_from", "blocked_until", "seats"
    ):
        if status == BookingStatus.HELD and expires is not None and expires <= now:
            stale.append(pk)
        else:
            live.append(Occupancy(start=start, end=end, seats=seats))
    blocks = blocks_for(
        vendor_id=context.listing.vendor_id,
        resource_id=context.resource.pk if context.resource else None,
        start=blocked_from,
        end=blocked_until,
    ).order_by()
    live.extend(
        Occupancy(start=block_start, end=block_end, seats=context.capacity)
        for block_start, block_end in blocks.values_list("start", "end")
    )
    return live, stale


def _check_capacity(
    context: BookingContext,
    *,
    start: datetime,
    end: datetime,
    seats: int,
    now: datetime,
    exclude: int | None,
) -> tuple[datetime, datetime]:
    """Precondition: the unit's row is locked. Returns the blocked span of [start, end)."""
    blocked_from, blocked_until = context.rules.blocked_span(start, end)
    taken, stale = _occupancies(
        context, blocked_from=blocked_from, blocked_until=blocked_until, now=now, exclude=exclude
    )
    if stale:
        _expire_stale_holds(stale)
    if conflicting_seats(context.rules, start, end, taken) + seats > context.capacity:
        raise slot_unavailable()
    return blocked_from, blocked_until


def _serialised_already() -> bool:
    """On SQLite a transaction begun IMMEDIATE is already the database's only writer."""
    return connection.vendor == "sqlite" and connection.in_atomic_block


def _refuse_if_full(context: BookingContext, *, start: datetime, seats: int) -> None:
    """A plain read, before any lock: a slot already full is refused at once (409).

    A refusal can never create an overlap, and it is true as of this read; only a request
    that sees room queues for the unit's lock and checks again under it. Where this
    transaction already is the only writer (SQLite inside a transaction) the check under
    the "lock" follows at once and this one is skipped.
    """
    if _serialised_already():
        return
    now = clock.now()
    end = start + context.rules.duration
    blocked_from, blocked_until = context.rules.blocked_span(start, end)
    taken, _ = _occupancies(
        context, blocked_from=blocked_from, blocked_until=blocked_until, now=now, exclude=None
    )
    if count_seats(context.rules, start, end, taken) + seats > context.capacity:
        raise slot_unavailable()


def _lock_unit(context: BookingContext) -> None:
    if not _serialised_already():
        lock_row(CapacityUnit.objects.filter(pk=context.unit.pk))


def _check_start(context: BookingContext, start: datetime, now: datetime) -> None:
    if not is_bookable_start(context.schedule, context.rules, start, now=now):
        raise invalid_slot(
            "That start is not a bookable slot: outside opening hours, off the slot grid, "
            "too soon or too far ahead. See GET /listings/{id}/slots."
        )


def booking_hold(
    *,
    customer: User,
    listing: Listing,
    start: datetime,
    notes: str = "",
    pickup: dict[str, Any] | None = None,
    options: dict[str, str] | None = None,
    vehicle_id: int | None = None,
) -> Booking:
    """Hold one seat of a slot for `AGORA_HOLD_MINUTES` while the customer pays.

    Precondition: `listing` is visible to `customer` (a public service listing). Taken or
    full → 409 slot_unavailable; not a slot → 422 invalid_slot; `vehicle_id` not one of
    the customer's saved vehicles → 404.
    """
    start = _utc(start)
    context = booking_context(listing=listing)
    price = _price(listing, options or {})
    if pickup is not None:
        price = price + _pickup_fee(listing, pickup)
    vehicle = _customer_vehicle(customer, vehicle_id) if vehicle_id is not None else None
    _check_start(context, start, clock.now())
    _refuse_if_full(context, start=start, seats=1)
    return _take_hold(
        context,
        customer=customer,
        start=start,
        price=price,
        notes=notes,
        pickup=pickup,
        vehicle=vehicle,
    )


def _customer_vehicle(customer: User, vehicle_id: int) -> Vehicle:
    """The customer's own saved vehicle; another customer's, or one removed → 404.

    Vehicles belong to the automotive vertical, which sits above bookings: it is asked
    here, at the one place a booking takes a vehicle, rather than imported at the top."""
    from agora.verticals.automotive.selectors import vehicle_get_for_owner

    return vehicle_get_for_owner(owner=customer, vehicle_id=vehicle_id)


@retry_when_busy()
def _take_hold(
    context: BookingContext,
    *,
    customer: User,
    start: datetime,
    price: Money,
    notes: str,
    pickup: dict[str, Any] | None,
    vehicle: Vehicle | None = None,
) -> Booking:
    _lock_unit(context)
    now = clock.now()
    end = start + context.rules.duration
    blocked_from, blocked_until = _check_capacity(
        context, start=start, end=end, seats=1, now=now, exclude=None
    )
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                listing=context.listing,
                vendor_id=context.listing.vendor_id,
                customer=customer,
                unit=context.unit,
                exclusive_unit_id=context.unit.pk if context.capacity == 1 else None,
                status=BookingStatus.HELD,
                start=start,
                end=end,
                blocked_from=blocked_from,
                blocked_until=blocked_until,
                hold_expires_at=now + timedelta(minutes=settings.AGORA_HOLD_MINUTES),
                price_amount=price.amount,
                currency=price.currency,
                notes=notes,
                pickup=_jsonable(pickup),
                vehicle=vehicle,
                created_at=now,
            )
    except IntegrityError as error:
        # PostgreSQL's exclusion constraint: the schema itself refused an overlap.
        raise slot_unavailable() from error
    audit_log(
        actor=customer,
        action="booking.held",
        target=booking,
        data={"to": BookingStatus.HELD, "start": start.isoformat()},
    )
    timers.after_hold(booking=booking)
    return booking


RESCHEDULABLE = frozenset({BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.ACCEPTED})


def booking_reschedule(*, actor: User, booking: Booking, start: datetime) -> Booking:
    """Move a booking to another slot with the same guarantees as a new booking; the old
    and new times stay in its history."""
    start = _utc(start)
    if (
        booking.status == BookingStatus.HELD
        and booking.hold_expires_at
        and booking.hold_expires_at <= clock.now()
    ):
        raise BookingError(
            "The hold has expired; book the slot again.", code=BookingErrorCode.HOLD_EXPIRED
        )
    if booking.status not in RESCHEDULABLE:
        raise InvalidTransition(
            f"A {booking.status} booking cannot be rescheduled.",
            extra={"from": booking.status, "to": "rescheduled"},
        )
    context = booking_context(listing=booking.listing)
    _check_start(context, start, clock.now())
    return _move(context, actor=actor, booking_id=booking.pk, start=start)


@retry_when_busy()
def _move(context: BookingContext, *, actor: User, booking_id: int, start: datetime) -> Booking:
    lock_row(CapacityUnit.objects.filter(pk=context.unit.pk))
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status not in RESCHEDULABLE:
        raise InvalidTransition(f"A {booking.status} booking cannot be rescheduled.")
    now = clock.now()
    end = start + context.rules.duration
    blocked_from, blocked_until = _check_capacity(
        context, start=start, end=end, seats=booking.seats, now=now, exclude=booking.pk
    )
    previous, previous_end = booking.start, booking.end
    try:
        with transaction.atomic():
            Booking.objects.filter(pk=booking.pk).update(
                start=start, end=end, blocked_from=blocked_from, blocked_until=blocked_until
            )
    except IntegrityError as error:
        raise slot_unavailable() from error
    booking.start, booking.end = start, end
    booking.blocked_from, booking.blocked_until = blocked_from, blocked_until
    audit_log(
        actor=actor,
        action="booking.rescheduled",
        target=booking,
        data={
            "from_start": previous.isoformat(),
            "to_start": start.isoformat(),
            "status": booking.status,
        },
    )
    # A hold moved before it is paid is nobody else's news yet.
    if booking.status != BookingStatus.HELD:
        by_customer = actor.pk == booking.customer_id
        announce(
            "booking.rescheduled",
            booking,
            listing=context.listing,
            vendor=context.listing.vendor,
            previous_start=previous.isoformat(),
            previous_end=previous_end.isoformat(),
            by="customer" if by_customer else "vendor",
            **({"customer_name": first_name(actor.name)} if by_customer else {}),
        )
        timers.schedule_next_reminder(booking=booking)
    return booking
