"""How a listing's slots are cut and what already occupies its resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agora.availability.errors import ErrorItem, ScheduleError, error_item
from agora.availability.wallclock import as_utc

_ZERO = timedelta(0)
_ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotRules:
    """How one listing turns opening hours into bookable slots.

    - `duration`: true elapsed length of the service; it must fit inside opening hours
      (buffers need not — they only matter for conflicts, see `Occupancy`).
    - `step`: distance between candidate starts, counted in local wall-clock time from
      the start of each opening interval (09:00, 09:30, ... every day, DST or not).
    - `buffer_before` / `buffer_after`: time the resource stays blocked around the
      service (preparation, clean-up, travel).
    - `minimum_notice`: no slot starts sooner than this after "now".
    - `horizon`: no slot starts later than this after "now".
    - `capacity`: seats the resource offers at any one time (1 = exclusive).

    Invalid values raise `ScheduleError` with the field name as `loc`, so listing
    settings can be validated with the same rules.
    """

    duration: timedelta
    step: timedelta
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO
    minimum_notice: timedelta = _ZERO
    horizon: timedelta = timedelta(days=365)
    capacity: int = 1

    def __post_init__(self) -> None:
        errors: list[ErrorItem] = []
        if self.duration <= _ZERO:
            errors.append(error_item(["duration"], "must be positive"))
        if self.step < _ONE_MINUTE:
            # A finer grid than the schedule's minutes only multiplies slots.
            errors.append(error_item(["step"], "must be at least one minute"))
        for name in ("buffer_before", "buffer_after", "minimum_notice", "horizon"):
            if getattr(self, name) < _ZERO:
                errors.append(error_item([name], "must not be negative"))
        if self.capacity < 1:
            errors.append(error_item(["capacity"], "must be at least 1"))
        if errors:
            raise ScheduleError(errors)

    def blocked_span(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """The span a booking of [start, end) under these rules keeps its resource busy."""
        return start - self.buffer_before, end + self.buffer_after


@dataclass(frozen=True, slots=True)
class Occupancy:
    """An existing booking or live hold on the resource, in UTC, *without* buffers.

    It carries the buffers of the listing it was booked under, because listings sharing
    a resource may differ: a 15-minute clean-up after an MOT still blocks the bay for a
    tyre fitting with no buffers of its own. It blocks [start - buffer_before,
    end + buffer_after); a candidate slot conflicts with it when the slot's own blocked
    span (its rules' buffers) overlaps that span. Half-open spans: touching is no conflict.
    """

    start: datetime
    end: datetime
    seats: int = 1
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start, "Occupancy.start"))
        object.__setattr__(self, "end", as_utc(self.end, "Occupancy.end"))
        if self.end <= self.start:
            raise ValueError(f"occupancy ends ({self.end}) before it starts ({self.start})")
        if self.seats < 1:
            raise ValueError(f"occupancy takes at least one seat, not {self.seats}")
        if self.buffer_before < _ZERO or self.buffer_after < _ZERO:
            raise ValueError("occupancy buffers must not be negative")

    @property
    def blocked_start(self) -> datetime:
        return self.start - self.buffer_before

    @property
    def blocked_end(self) -> datetime:
        return self.end + self.buffer_after
