"""Bookable slots: the local-time grid inside opening hours, minus what is taken.

A slot of a listing is an instant `start` (UTC) such that

1. on the slot grid: the local clock at `start` shows the opening interval's declared
   start plus a whole number of `step`s (counted in wall-clock time, so 09:00, 09:30, ...
   local every day across DST changes). In a spring-forward gap the grid times that
   never happen give no slot; in a fall-back overlap a grid time that happens twice
   gives two slots, an hour apart, if both fit;
2. the service fits in opening hours: `start` lies in the interval whose grid it is on,
   and [start, start + duration) (true elapsed time) lies within that interval's UTC
   span extended by any intervals that follow it without a gap — so a service may run
   past midnight from a "...–24:00" interval into the next day's "00:00–..." one.
   Buffers may reach outside opening hours: they only matter for conflicts;
3. start >= now + minimum_notice and start <= now + horizon;
4. start is in the requested window [from_utc, to_utc).

Its `remaining` is capacity minus the peak seats held by occupancies whose blocked span
overlaps the slot's blocked span [start - buffer_before, start + duration + buffer_after)
(see `capacity`), floored at 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from agora.availability.capacity import SeatProfile
from agora.availability.openings import LocalOpening, local_openings
from agora.availability.rules import Occupancy, SlotRules
from agora.availability.schedule import Schedule
from agora.availability.wallclock import as_utc, instants_showing

# Datetimes are discrete to the microsecond, so "start <= limit" is "start < limit + this".
_RESOLUTION = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable slot: [start, end) in UTC and the seats still free in it."""

    start: datetime
    end: datetime
    remaining: int


def slot_starts(
    schedule: Schedule,
    rules: SlotRules,
    *,
    now: datetime,
    from_utc: datetime,
    to_utc: datetime,
) -> list[datetime]:
    """Sorted UTC starts meeting conditions 1–4 of the module docstring (no capacity)."""
    now = as_utc(now, "now")
    earliest = max(as_utc(from_utc, "from_utc"), now + rules.minimum_notice)
    before = min(as_utc(to_utc, "to_utc"), now + rules.horizon + _RESOLUTION)
    if earliest >= before:
        return []
    starts: list[datetime] = []
    # A slot starting in [earliest, before) begins in an opening overlapping that window
    # and ends before `before + duration`; fetching openings up to there also tells
    # whether the run of touching openings it extends into continues far enough.
    openings = local_openings(schedule, earliest, before + rules.duration)
    for opening, run_end in zip(openings, _contiguous_run_ends(openings), strict=True):
        starts.extend(_grid_starts(opening, run_end, schedule, rules, earliest, before))
    # Sorting is needed: in a fall-back overlap a grid time's second occurrence comes
    # after later grid times' first ones.
    return sorted(starts)


def _contiguous_run_ends(openings: Sequence[LocalOpening]) -> list[datetime]:
    """For each opening, where the run of openings touching it end to start finishes."""
    run_ends: list[datetime] = []
    for index in range(len(openings) - 1, -1, -1):
        opening = openings[index]
        continues = index + 1 < len(openings) and openings[index + 1].start <= opening.end
        run_ends.append(run_ends[-1] if continues else opening.end)
    run_ends.reverse()
    return run_ends


def _grid_starts(
    opening: LocalOpening,
    run_end: datetime,
    schedule: Schedule,
    rules: SlotRules,
    earliest: datetime,
    before: datetime,
) -> Iterator[datetime]:
    last_fitting_start = run_end - rules.duration
    wall = opening.wall_start
    # Every instant of the opening shows a wall time before `wall_end` (see wallclock).
    while wall < opening.wall_end:
        for start in instants_showing(wall, schedule.zone):
            if (
                opening.start <= start < opening.end
                and start <= last_fitting_start
                and earliest <= start < before
            ):
                yield start
        wall += rules.step


def available_slots(
    schedule: Schedule,
    rules: SlotRules,
    occupancies: Iterable[Occupancy],
    *,
    now: datetime,
    from_utc: datetime,
    to_utc: datetime,
    include_full: bool = False,
) -> list[Slot]:
    """The listing's slots starting in [from_utc, to_utc), sorted, with seats remaining.

    `occupancies` are the resource's bookings and live holds (any order; only those
    near the window matter, so callers should load just those). Full slots (remaining
    0) are left out unless `include_full`, e.g. for a calendar that greys them out.
    Cost: O(S log S + B log B) for S slots and B occupancies.
    """
    starts = slot_starts(schedule, rules, now=now, from_utc=from_utc, to_utc=to_utc)
    blocked_spans = [rules.blocked_span(start, start + rules.duration) for start in starts]
    seats_in_use = SeatProfile(occupancies).peaks(blocked_spans)
    slots = [
        Slot(start=start, end=start + rules.duration, remaining=max(0, rules.capacity - used))
        for start, used in zip(starts, seats_in_use, strict=True)
    ]
    return slots if include_full else [slot for slot in slots if slot.remaining > 0]


def is_bookable_start(
    schedule: Schedule, rules: SlotRules, start_utc: datetime, *, now: datetime
) -> bool:
    """Whether `start_utc` is a slot start on the grid, in hours, notice and horizon.

    Capacity is not checked here — that needs the locked occupancies, see
    `conflicting_seats`. A booking request failing this gets 422 invalid_slot.
    """
    start = as_utc(start_utc, "start_utc")
    window = slot_starts(schedule, rules, now=now, from_utc=start, to_utc=start + _RESOLUTION)
    return start in window


@dataclass(frozen=True)
class AvailabilityCandidate:
    """One place a customer could book: a schedule, a listing's rules, what is taken."""

    schedule: Schedule
    rules: SlotRules
    occupancies: Sequence[Occupancy] = ()


def first_available(
    candidates: Sequence[AvailabilityCandidate],
    *,
    now: datetime,
    from_utc: datetime,
    to_utc: datetime,
    seats: int = 1,
    search_chunk: timedelta = timedelta(days=7),
) -> list[Slot | None]:
    """Each candidate's earliest slot in [from_utc, to_utc) with `seats` free, or None.

    Results line up with `candidates`, so "a slot at any workshop" is the earliest of
    them. Each candidate is searched a chunk at a time so that an early slot does not
    cost computing the whole horizon.
    """
    if seats < 1:
        raise ValueError(f"seats must be at least 1, not {seats}")
    if search_chunk <= timedelta(0):
        raise ValueError("search_chunk must be positive")
    return [
        _first_slot(
            candidate,
            now=now,
            from_utc=as_utc(from_utc, "from_utc"),
            to_utc=as_utc(to_utc, "to_utc"),
            seats=seats,
            search_chunk=search_chunk,
        )
        for candidate in candidates
    ]


def _first_slot(
    candidate: AvailabilityCandidate,
    *,
    now: datetime,
    from_utc: datetime,
    to_utc: datetime,
    seats: int,
    search_chunk: timedelta,
) -> Slot | None:
    now = as_utc(now, "now")
    rules = candidate.rules
    chunk_start = max(from_utc, now + rules.minimum_notice)
    search_end = min(to_utc, now + rules.horizon + _RESOLUTION)
    while chunk_start < search_end:
        chunk_end = min(chunk_start + search_chunk, search_end)
        slots = available_slots(
            candidate.schedule,
            rules,
            candidate.occupancies,
            now=now,
            from_utc=chunk_start,
            to_utc=chunk_end,
        )
        for slot in slots:
            if slot.remaining >= seats:
                return slot
        chunk_start = chunk_end
    return None
