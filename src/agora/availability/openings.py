"""A schedule's opening intervals as UTC instants, date by local date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from agora.availability.schedule import Schedule
from agora.availability.wallclock import as_utc, first_instant_at_or_after


class OpeningInterval(NamedTuple):
    """Open from `start` to `end` (exclusive), both aware UTC datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class LocalOpening:
    """One declared interval on one local date, in wall-clock time and in UTC.

    The wall-clock start anchors the slot grid; the UTC bounds are where the service
    must fit. `wall_end` is the next day's midnight for an interval ending "24:00".
    """

    local_date: date
    wall_start: datetime
    wall_end: datetime
    start: datetime
    end: datetime


def local_openings(schedule: Schedule, from_utc: datetime, to_utc: datetime) -> list[LocalOpening]:
    """Every declared interval whose UTC span overlaps [from_utc, to_utc), unclipped.

    Unclipped because the slot grid is anchored at the interval's own start, even when
    that lies before the window. Sorted by start: wall times map to UTC monotonically.
    Boundaries follow `wallclock.first_instant_at_or_after`; an interval lying entirely
    inside a spring-forward gap has no instants and is left out.
    """
    from_utc = as_utc(from_utc, "from_utc")
    to_utc = as_utc(to_utc, "to_utc")
    if from_utc >= to_utc:
        return []
    zone = schedule.zone
    # Start a day early, defensively: a zone whose clock fell back across midnight would
    # show the previous date at instants after from_utc. One extra day costs nothing.
    local_date = from_utc.astimezone(zone).date() - timedelta(days=1)
    last_date = to_utc.astimezone(zone).date()
    openings: list[LocalOpening] = []
    while local_date <= last_date:
        midnight = datetime.combine(local_date, time())
        for interval in schedule.intervals_on(local_date):
            wall_start = midnight + timedelta(minutes=interval.start_minute)
            wall_end = midnight + timedelta(minutes=interval.end_minute)
            start = first_instant_at_or_after(wall_start, zone)
            end = first_instant_at_or_after(wall_end, zone)
            if start < end and start < to_utc and end > from_utc:
                openings.append(LocalOpening(local_date, wall_start, wall_end, start, end))
        local_date += timedelta(days=1)
    return openings


def opening_intervals(
    schedule: Schedule, from_utc: datetime, to_utc: datetime
) -> list[OpeningInterval]:
    """UTC spans during which the schedule is open that overlap [from_utc, to_utc).

    Each declared interval of each local date is one span (touching spans are not
    merged) and spans are not clipped to the window. See `wallclock` for how a boundary
    inside a DST gap or overlap is placed.
    """
    return [
        OpeningInterval(opening.start, opening.end)
        for opening in local_openings(schedule, from_utc, to_utc)
    ]
