"""From stored rows to the pure values agora.availability computes with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from agora.availability import Occupancy, Schedule, ScheduleError, SlotRules, parse_schedule
from agora.bookings.errors import BookingError, BookingErrorCode
from agora.bookings.models import Booking, Resource, TimeBlock, VendorSchedule
from agora.catalog.models import Listing

DEFAULT_STEP_MINUTES = 30


def _holidays(raw: Iterable[str]) -> list[date]:
    return [date.fromisoformat(value) for value in raw]


def schedule_for(
    *, timezone: str, vendor_schedule: VendorSchedule | None, resource: Resource | None
) -> Schedule:
    """The opening hours that bound a listing's slots: its resource's own hours when it has
    them, else its vendor's. A vendor without hours has no slots (409 schedule_missing)."""
    if resource is not None and resource.schedule:
        payload = resource.schedule
        holidays = vendor_schedule.holidays if vendor_schedule else []
    elif vendor_schedule is not None:
        payload = {"weekly": vendor_schedule.weekly, "overrides": vendor_schedule.overrides}
        holidays = vendor_schedule.holidays
    else:
        raise BookingError(
            "This vendor has not published opening hours yet.",
            code=BookingErrorCode.SCHEDULE_MISSING,
        )
    try:
        return parse_schedule(payload, timezone=timezone, holidays=_holidays(holidays))
    except ScheduleError as error:  # stored schedules were validated; this is a bug
        raise RuntimeError(f"stored schedule is invalid: {error}") from error


def slot_rules_for(listing: Listing, *, capacity: int) -> SlotRules:
    if not listing.duration_minutes:
        raise BookingError(
            "Only services with a duration can be booked.",
            code=BookingErrorCode.NOT_BOOKABLE,
            status=422,
        )
    duration = timedelta(minutes=listing.duration_minutes)
    return SlotRules(
        duration=duration,
        step=timedelta(
            minutes=listing.slot_step_minutes or min(DEFAULT_STEP_MINUTES, listing.duration_minutes)
        ),
        buffer_before=timedelta(minutes=listing.buffer_before_minutes),
        buffer_after=timedelta(minutes=listing.buffer_after_minutes),
        minimum_notice=timedelta(minutes=listing.min_notice_minutes),
        horizon=timedelta(days=listing.horizon_days),
        capacity=capacity,
    )


def occupancies_from(
    bookings: Iterable[Booking], blocks: Iterable[TimeBlock], *, capacity: int
) -> list[Occupancy]:
    """Occupancies for the availability maths. A booking's stored blocked span already
    includes its own listing's buffers; a manual time block takes the whole capacity."""
    result = [Occupancy(start=b.blocked_from, end=b.blocked_until, seats=b.seats) for b in bookings]
    result.extend(Occupancy(start=block.start, end=block.end, seats=capacity) for block in blocks)
    return result


def overlapping(start: datetime, end: datetime) -> dict[str, datetime]:
    """Lookup kwargs for rows whose blocked span overlaps [start, end) (half-open)."""
    return {"blocked_from__lt": end, "blocked_until__gt": start}
