"""Local wall-clock time ⇄ UTC instants, deliberately correct across DST changes.

Two facts about wall clocks drive everything here:

- In a spring-forward gap (Europe/London 2026-03-29, 01:00 → 02:00) some wall times never
  happen: no instant shows 01:30.
- In a fall-back overlap (Europe/London 2026-10-25, 02:00 → 01:00) some wall times
  happen twice: 01:30 BST and, an hour later, 01:30 GMT.

A schedule boundary ("open at 01:30") is read as *the first instant at which the local
clock shows that time or later*: in an overlap that is the first occurrence (fold=0); in
a gap it is the transition itself (01:30 on the spring-forward day opens at 02:00 BST,
the first valid instant). This reading is monotonic, so consecutive intervals never
overlap in UTC, and an interval keeps its true elapsed length (00:00–04:00 lasts 3 hours
on the spring-forward day and 5 on the fall-back day).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_ONE_SECOND = timedelta(seconds=1)


def as_utc(value: datetime, name: str) -> datetime:
    """`value` converted to UTC; a naive datetime is a bug, since its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """What the local clock shows at `instant`, as a naive datetime."""
    return instant.astimezone(zone).replace(tzinfo=None)


def instants_showing(wall: datetime, zone: ZoneInfo) -> tuple[datetime, ...]:
    """The UTC instants at which the local clock shows `wall` (naive), earliest first.

    None in a spring-forward gap, two in a fall-back overlap, otherwise one.
    """
    first_reading = wall.replace(tzinfo=zone, fold=0)
    second_reading = wall.replace(tzinfo=zone, fold=1)
    # Away from a transition both folds share one offset; skip the round trips (hot path).
    if first_reading.utcoffset() == second_reading.utcoffset():
        return (first_reading.astimezone(UTC),)
    found = {
        instant
        for instant in (first_reading.astimezone(UTC), second_reading.astimezone(UTC))
        if wall_time(instant, zone) == wall
    }
    return tuple(sorted(found))


def first_instant_at_or_after(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant at which the local clock shows `wall` (naive) or later.

    For a wall time that exists this is its first occurrence; for one inside a
    spring-forward gap it is the transition instant, where the clock jumps past it.
    """
    showing = instants_showing(wall, zone)
    if showing:
        return showing[0]
    # In a gap the two folds apply the offsets from either side of the transition, so
    # the transition lies between the two instants they give.
    earlier, later = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    return _transition_between(earlier, later, zone)


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The instant in (before, after] where the UTC offset changes.

    Precondition: both are whole-second UTC instants with different offsets in `zone` and
    exactly one transition between them (true of any real gap). Transitions happen on
    whole seconds, so bisecting down to one second finds it exactly.
    """
    offset_before = before.astimezone(zone).utcoffset()
    while after - before > _ONE_SECOND:
        middle = before + (after - before) // _ONE_SECOND // 2 * _ONE_SECOND
        if middle.astimezone(zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return after
