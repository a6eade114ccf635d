"""The week calendar as a grid of days × hours, in the vendor's own time zone.

Pure arrangement of already-loaded bookings and time blocks: no queries here. A booking
sits in the cell of the hour it starts and marks the following hours it covers as busy; a
block marks every hour it covers. DST days keep their wall-clock hours (the grid shows
local hours; an hour that does not exist that day simply holds nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agora.bookings.models import Booking, TimeBlock

FIRST_HOUR = 8
LAST_HOUR = 18  # the grid shows at least 08:00–18:59


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(monday, time.min, tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
    return start, end


@dataclass
class Cell:
    day: date
    hour: int
    bookings: list[Booking] = field(default_factory=list)
    blocks: list[TimeBlock] = field(default_factory=list)
    busy: bool = False

    @property
    def empty(self) -> bool:
        return not self.bookings and not self.blocks and not self.busy


@dataclass
class Row:
    hour: int
    cells: list[Cell]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


@dataclass
class DayColumn:
    day: date
    is_today: bool
    bookings: list[Booking]
    blocks: list[TimeBlock]


@dataclass
class WeekGrid:
    monday: date
    days: list[DayColumn]
    rows: list[Row]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


def _hours_covered(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, int]]:
    """Every (local day, local hour) the span [start, end) touches."""
    local = start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    stop = end.astimezone(zone)
    covered = []
    while local < stop:
        covered.append((local.date(), local.hour))
        local = (local + timedelta(hours=1)).astimezone(zone)
    return covered


def build_week(
    *,
    monday: date,
    today: date,
    timezone: str,
    bookings: list[Booking],
    blocks: list[TimeBlock],
) -> WeekGrid:
    zone = ZoneInfo(timezone)
    days = [monday + timedelta(days=i) for i in range(7)]
    first, last = FIRST_HOUR, LAST_HOUR
    placed: list[tuple[Booking, list[tuple[date, int]]]] = []
    for booking in bookings:
        covered = [c for c in _hours_covered(booking.start, booking.end, zone) if c[0] in days]
        placed.append((booking, covered))
        if covered:
            first = min(first, covered[0][1])
            last = max(last, covered[-1][1])
    blocked: list[tuple[TimeBlock, list[tuple[date, int]]]] = []
    for block in blocks:
        covered = [c for c in _hours_covered(block.start, block.end, zone) if c[0] in days]
        blocked.append((block, covered))
    cells = {(day, hour): Cell(day=day, hour=hour) for day in days for hour in range(24)}
    for booking, covered in placed:
        if not covered:
            continue
        cells[covered[0]].bookings.append(booking)
        for key in covered[1:]:
            cells[key].busy = True
    for block, covered in blocked:
        for key in covered:
            if first <= key[1] <= last:
                cells[key].blocks.append(block)
    columns = [
        DayColumn(
            day=day,
            is_today=day == today,
            bookings=[b for b, covered in placed if covered and covered[0][0] == day],
            blocks=[b for b, covered in blocked if any(c[0] == day for c in covered)],
        )
        for day in days
    ]
    rows = [
        Row(hour=hour, cells=[cells[(day, hour)] for day in days])
        for hour in range(first, last + 1)
    ]
    return WeekGrid(monday=monday, days=columns, rows=rows)
