"""Value types for a vendor's (or a resource's) opening hours, in its own local time.

Everything here is wall-clock time in the schedule's IANA time zone; turning it into UTC
instants — which is where daylight saving time bites — is `openings.py`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agora.availability.errors import ErrorItem, ScheduleError, error_item

MINUTES_PER_DAY = 24 * 60

# JSON day keys, in `date.weekday()` order (Monday is 0).
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def format_minute(minute: int) -> str:
    """Minutes since local midnight as "HH:MM"; 1440 is "24:00" (the end of the day)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class LocalInterval:
    """Open from `start_minute` to `end_minute` (exclusive) of one local date.

    Minutes count wall-clock time since local midnight, so 09:00 is 540 whatever the UTC
    offset that day. `end_minute` may be 1440 ("24:00"); an interval never crosses
    midnight — opening hours past midnight are a second interval on the next day.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ScheduleError.at([], f"start minute {self.start_minute} is not within a day")
        if not self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ScheduleError.at(
                [],
                f"end {format_minute(self.end_minute)} must be after start "
                f"{format_minute(self.start_minute)} and no later than 24:00",
            )

    @property
    def as_text(self) -> tuple[str, str]:
        return format_minute(self.start_minute), format_minute(self.end_minute)


def interval_sequence_errors(intervals: Sequence[LocalInterval]) -> list[ErrorItem]:
    """Errors (loc = [index]) unless the intervals are sorted and do not overlap.

    Touching intervals (09:00–12:00, 12:00–17:00) are allowed: each keeps its own slot
    grid, and a service may run from one into the next — which is how opening hours
    continue past midnight ("24:00" one day, "00:00" the next).
    """
    errors: list[ErrorItem] = []
    for index in range(1, len(intervals)):
        if intervals[index].start_minute < intervals[index - 1].end_minute:
            errors.append(
                error_item(
                    [index],
                    "intervals must be sorted by start time and must not overlap "
                    f"(starts before the previous one ends at "
                    f"{format_minute(intervals[index - 1].end_minute)})",
                )
            )
    return errors


def _checked_intervals(
    intervals: Iterable[LocalInterval], loc: Sequence[str | int]
) -> tuple[LocalInterval, ...]:
    as_tuple = tuple(intervals)
    errors = interval_sequence_errors(as_tuple)
    if errors:
        raise ScheduleError([{**item, "loc": [*loc, *item["loc"]]} for item in errors])
    return as_tuple


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """The regular week: for each weekday (Monday first) its sorted opening intervals."""

    by_weekday: tuple[tuple[LocalInterval, ...], ...] = ((),) * 7

    def __post_init__(self) -> None:
        if len(self.by_weekday) != 7:
            raise ScheduleError.at(["weekly"], "a week has exactly 7 days")
        checked = tuple(
            _checked_intervals(day, ["weekly", WEEKDAY_KEYS[weekday]])
            for weekday, day in enumerate(self.by_weekday)
        )
        object.__setattr__(self, "by_weekday", checked)

    @classmethod
    def from_days(cls, days: Mapping[str, Iterable[LocalInterval]]) -> WeeklySchedule:
        """Build from day keys ("mon".."sun"); missing days are closed."""
        unknown = sorted(set(days) - set(WEEKDAY_KEYS))
        if unknown:
            raise ScheduleError.at(["weekly", unknown[0]], "unknown day", "extra_forbidden")
        return cls(tuple(tuple(days.get(key, ())) for key in WEEKDAY_KEYS))

    def intervals_for(self, weekday: int) -> tuple[LocalInterval, ...]:
        return self.by_weekday[weekday]


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Replaces the weekly hours on one local date; no intervals means closed that day."""

    local_date: date
    intervals: tuple[LocalInterval, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", _checked_intervals(self.intervals, ["intervals"]))


def zone_for(key: str) -> ZoneInfo:
    """The IANA zone named `key`, or `ScheduleError` at ["timezone"]."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError.at(["timezone"], f"unknown IANA time zone {key!r}") from None


@dataclass(frozen=True)
class Schedule:
    """When a vendor or resource is open, in its IANA time zone.

    Which hours apply on a local date, most specific first: a date override (which may
    open a holiday, or close a normal day), else closed on a holiday, else the weekday's
    intervals.
    """

    timezone: str
    weekly: WeeklySchedule
    overrides: tuple[DateOverride, ...] = ()
    holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _override_by_date: dict[date, DateOverride] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", zone_for(self.timezone))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        by_date: dict[date, DateOverride] = {}
        for index, override in enumerate(self.overrides):
            if override.local_date in by_date:
                raise ScheduleError.at(
                    ["overrides", index, "date"],
                    f"{override.local_date.isoformat()} already has an override",
                )
            by_date[override.local_date] = override
        object.__setattr__(self, "_override_by_date", by_date)

    def intervals_on(self, local_date: date) -> tuple[LocalInterval, ...]:
        """The opening intervals of one local date, after overrides and holidays."""
        override = self._override_by_date.get(local_date)
        if override is not None:
            return override.intervals
        if local_date in self.holidays:
            return ()
        return self.weekly.intervals_for(local_date.weekday())
