"""Property tests: random schedules, rules, bookings, windows and zones against oracles.

The oracles are written independently of the implementation: UTC boundaries come from
scanning the clock in 15-minute steps (no `fold`, no gap bisection), the instants of a
grid time from trying each UTC offset seen that day, and seats in use from a brute-force
count at every point where usage can change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.availability import (
    AvailabilityCandidate,
    Occupancy,
    Schedule,
    SlotRules,
    available_slots,
    conflicting_seats,
    first_available,
    is_bookable_start,
    parse_schedule,
    schedule_to_payload,
)
from agora.availability.schedule import WEEKDAY_KEYS, format_minute
from tests.availability.builders import minutes, utc

ZONES = ["Europe/London", "Australia/Sydney", "America/New_York", "Asia/Kolkata", "UTC"]
# Zones with an instant to centre windows on: their 2026 DST changes, and ordinary days.
ZONE_MOMENTS = [
    ("Europe/London", utc(2026, 3, 29, 1)),  # forward
    ("Europe/London", utc(2026, 10, 25, 1)),  # back
    ("Australia/Sydney", utc(2026, 4, 4, 16)),  # back
    ("Australia/Sydney", utc(2026, 10, 3, 16)),  # forward
    ("America/New_York", utc(2026, 3, 8, 7)),  # forward
    ("America/New_York", utc(2026, 11, 1, 6)),  # back
    ("Asia/Kolkata", utc(2026, 7, 15, 12)),
    ("UTC", utc(2026, 7, 15, 12)),
]
QUARTER_HOUR = timedelta(minutes=15)
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

Intervals = list[tuple[int, int]]


@st.composite
def day_intervals(draw: st.DrawFn, min_size: int = 0) -> Intervals:
    """Sorted, non-overlapping (possibly touching) intervals, often reaching 00:00/24:00."""
    intervals: Intervals = []
    cursor = 0
    # Gaps are often 0 so intervals touch, within a day and (via 24:00) across midnight.
    gaps = st.one_of(st.just(0), st.integers(0, 60))
    pieces = st.lists(st.tuples(gaps, st.integers(1, 120)), min_size=min_size, max_size=3)
    for gap, length in draw(pieces):
        start = cursor + 5 * gap
        if start >= 1440:
            break
        end = min(1440, start + 5 * length)
        intervals.append((start, end))
        cursor = end
    return intervals


WEEKLY = st.fixed_dictionaries({day: day_intervals(min_size=1) for day in WEEKDAY_KEYS})
OVERRIDES_BY_SHIFT = st.dictionaries(st.integers(-1, 4), day_intervals(), max_size=3)
HOLIDAY_SHIFTS = st.sets(st.integers(-1, 4), max_size=2)
DST_ZONE_MOMENT = st.sampled_from(ZONE_MOMENTS[:6])
ANY_ZONE_MOMENT = st.one_of(
    st.sampled_from(ZONE_MOMENTS),
    st.tuples(st.sampled_from(ZONES), st.sampled_from([moment for _, moment in ZONE_MOMENTS])),
)


@dataclass
class Scenario:
    timezone: str
    weekly: dict[str, Intervals]
    overrides: dict[date, Intervals]
    holidays: set[date]
    rules: SlotRules
    occupancies: list[Occupancy]
    now: datetime
    from_utc: datetime
    to_utc: datetime

    def schedule(self) -> Schedule:
        payload = {
            "weekly": {day: _as_text(intervals) for day, intervals in self.weekly.items()},
            "overrides": [
                {"date": day.isoformat(), "intervals": _as_text(intervals)}
                for day, intervals in self.overrides.items()
            ],
        }
        return parse_schedule(payload, timezone=self.timezone, holidays=self.holidays)

    def declared(self, local_date: date) -> Intervals:
        if local_date in self.overrides:
            return self.overrides[local_date]
        if local_date in self.holidays:
            return []
        return self.weekly.get(WEEKDAY_KEYS[local_date.weekday()], [])


def _as_text(intervals: Intervals) -> list[list[str]]:
    return [[format_minute(start), format_minute(end)] for start, end in intervals]


@functools.cache  # building strategies is slow; the same few are drawn from over and over
def _some_minutes(low: int, high: int, *, often: int | None = None) -> st.SearchStrategy[timedelta]:
    """Whole minutes in [low, high], drawing `often` about half the time when given."""
    any_value = st.integers(low, high).map(minutes)
    return any_value if often is None else st.one_of(st.just(minutes(often)), any_value)


@st.composite
def scenarios(
    draw: st.DrawFn, *, capacity: int | None = None, around_dst: bool = False
) -> Scenario:
    """A random world; `around_dst` pins the window to the night of a DST change."""
    if around_dst:
        timezone, moment = draw(DST_ZONE_MOMENT)
        from_utc = moment - draw(_some_minutes(0, 18 * 60))
        to_utc = from_utc + draw(_some_minutes(6 * 60, 2 * 1440, often=1440))
    else:
        timezone, moment = draw(ANY_ZONE_MOMENT)
        from_utc = moment + draw(_some_minutes(-2 * 1440, 720))
        to_utc = from_utc + draw(_some_minutes(0, 3 * 1440, often=3 * 1440))
    first_local_date = from_utc.astimezone(ZoneInfo(timezone)).date()
    # Mostly open days; overrides and holidays (days after the window's first) close some.
    weekly = draw(WEEKLY)
    overrides = {
        first_local_date + timedelta(days=shift): intervals
        for shift, intervals in draw(OVERRIDES_BY_SHIFT).items()
    }
    holidays = {first_local_date + timedelta(days=shift) for shift in draw(HOLIDAY_SHIFTS)}
    rules = SlotRules(
        duration=draw(_some_minutes(1, 240)),
        step=draw(_some_minutes(5, 120)),
        buffer_before=draw(_some_minutes(0, 60)),
        buffer_after=draw(_some_minutes(0, 60)),
        minimum_notice=draw(_some_minutes(0, 36 * 60, often=0)),
        horizon=draw(_some_minutes(0, 5 * 1440, often=60 * 1440)),
        capacity=capacity if capacity is not None else draw(st.integers(1, 3)),
    )
    window_minutes = (to_utc - from_utc) // minutes(1)
    occupancies = []
    for _ in range(draw(st.integers(0, 10))):
        start = from_utc + draw(_some_minutes(-180, window_minutes + 180))
        occupancies.append(
            Occupancy(
                start,
                start + draw(_some_minutes(1, 300)),
                seats=draw(st.integers(1, 3)),
                buffer_before=draw(_some_minutes(0, 60)),
                buffer_after=draw(_some_minutes(0, 60)),
            )
        )
    now = from_utc + draw(_some_minutes(-1440, 360))
    return Scenario(
        timezone, weekly, overrides, holidays, rules, occupancies, now, from_utc, to_utc
    )


# --- oracles ---------------------------------------------------------------------------


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def oracle_first_at_or_after(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose local clock reads `wall_time` or later, by scanning.

    Steps along UTC quarter hours; every offset change of the test zones falls on one,
    so within a step the clock runs linearly from the reading at its start.
    """
    probe = (wall_time - timedelta(hours=12)).replace(tzinfo=UTC, minute=0)
    while True:
        reading = wall(probe, zone)
        if reading >= wall_time:  # reached exactly here, or jumped past it here
            return probe
        if reading + QUARTER_HOUR > wall_time:  # reached before the next probe
            return probe + (wall_time - reading)
        probe += QUARTER_HOUR


@dataclass
class OracleOpening:
    wall_start: datetime
    wall_end: datetime
    start: datetime
    end: datetime
    run_end: datetime | None = None


def oracle_openings(scenario: Scenario, zone: ZoneInfo, last: datetime) -> list[OracleOpening]:
    day = scenario.from_utc.astimezone(zone).date() - timedelta(days=2)
    last_day = last.astimezone(zone).date() + timedelta(days=1)
    openings = []
    while day <= last_day:
        midnight = datetime.combine(day, time())
        for start_minute, end_minute in scenario.declared(day):
            wall_start = midnight + timedelta(minutes=start_minute)
            wall_end = midnight + timedelta(minutes=end_minute)
            start = oracle_first_at_or_after(wall_start, zone)
            end = oracle_first_at_or_after(wall_end, zone)
            if start < end:
                openings.append(OracleOpening(wall_start, wall_end, start, end))
        day += timedelta(days=1)
    run_end = None
    for opening in reversed(openings):
        if run_end is None or run_end[0] > opening.end:
            run_end = (opening.start, opening.end)
        else:
            run_end = (opening.start, run_end[1])
        opening.run_end = run_end[1]
    return openings


def oracle_starts(scenario: Scenario) -> list[datetime]:
    zone = ZoneInfo(scenario.timezone)
    rules = scenario.rules
    earliest = max(scenario.from_utc, scenario.now + rules.minimum_notice)
    latest = scenario.now + rules.horizon
    found = set()
    for opening in oracle_openings(scenario, zone, scenario.to_utc + rules.duration):
        assert opening.run_end is not None
        offsets = {
            wall(moment, zone) - moment.replace(tzinfo=None)
            for moment in (opening.start - timedelta(days=1), opening.start, opening.end)
        }
        grid_time = opening.wall_start
        while grid_time < opening.wall_end:
            for offset in offsets:
                instant = (grid_time - offset).replace(tzinfo=UTC)
                if (
                    wall(instant, zone) == grid_time
                    and opening.start <= instant < opening.end
                    and instant + rules.duration <= opening.run_end
                    and earliest <= instant < scenario.to_utc
                    and instant <= latest
                ):
                    found.add(instant)
            grid_time += rules.step
    return sorted(found)


def oracle_seats_in_use(scenario: Scenario, start: datetime) -> int:
    rules = scenario.rules
    blocked_start = start - rules.buffer_before
    blocked_end = start + rules.duration + rules.buffer_after
    points = [blocked_start] + [
        occupancy.blocked_start
        for occupancy in scenario.occupancies
        if blocked_start < occupancy.blocked_start < blocked_end
    ]
    return max(
        sum(
            occupancy.seats
            for occupancy in scenario.occupancies
            if occupancy.blocked_start <= point < occupancy.blocked_end
        )
        for point in points
    )


def compute(scenario: Scenario, *, include_full: bool) -> list[Any]:
    return available_slots(
        scenario.schedule(),
        scenario.rules,
        scenario.occupancies,
        now=scenario.now,
        from_utc=scenario.from_utc,
        to_utc=scenario.to_utc,
        include_full=include_full,
    )


# --- properties ------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_slots_match_the_oracles_and_stay_on_the_grid(scenario: Scenario) -> None:
    check_slots(scenario)


@PROPERTY_SETTINGS
@given(scenarios(around_dst=True))
def test_slots_match_the_oracles_on_dst_change_nights(scenario: Scenario) -> None:
    check_slots(scenario)


def check_slots(scenario: Scenario) -> None:
    """Every property of the slot list that holds in any scenario."""
    zone = ZoneInfo(scenario.timezone)
    rules = scenario.rules

    every_slot = compute(scenario, include_full=True)
    offered = compute(scenario, include_full=False)

    starts = [slot.start for slot in every_slot]
    assert starts == oracle_starts(scenario)
    assert starts == sorted(set(starts))
    assert offered == [slot for slot in every_slot if slot.remaining > 0]
    for slot in every_slot:
        assert slot.end - slot.start == rules.duration
        expected = max(0, rules.capacity - oracle_seats_in_use(scenario, slot.start))
        assert slot.remaining == expected, slot
        assert scenario.from_utc <= slot.start < scenario.to_utc
        assert scenario.now + rules.minimum_notice <= slot.start <= scenario.now + rules.horizon
        # The local start is on the grid of a declared interval of its local date.
        local_start = wall(slot.start, zone)
        minute = local_start.hour * 60 + local_start.minute
        step = rules.step // timedelta(minutes=1)
        assert local_start.second == 0
        assert any(
            start <= minute < end and (minute - start) % step == 0
            for start, end in scenario.declared(local_start.date())
        ), (local_start, scenario.declared(local_start.date()))


@PROPERTY_SETTINGS
@given(scenarios(capacity=1))
def test_with_one_seat_no_offered_slot_touches_a_booking(scenario: Scenario) -> None:
    rules = scenario.rules

    for slot in compute(scenario, include_full=False):
        slot_blocked = (slot.start - rules.buffer_before, slot.end + rules.buffer_after)
        for occupancy in scenario.occupancies:
            assert (
                slot_blocked[1] <= occupancy.blocked_start
                or occupancy.blocked_end <= slot_blocked[0]
            )


@PROPERTY_SETTINGS
@given(scenarios())
def test_the_booking_checks_agree_with_the_slot_list(scenario: Scenario) -> None:
    schedule = scenario.schedule()
    rules = scenario.rules
    every_slot = compute(scenario, include_full=True)
    listed = {slot.start for slot in every_slot}

    for slot in every_slot[:4] + every_slot[-4:]:
        assert is_bookable_start(schedule, rules, slot.start, now=scenario.now)
        used = conflicting_seats(rules, slot.start, slot.end, scenario.occupancies)
        assert slot.remaining == max(0, rules.capacity - used)
        nudged = slot.start + minutes(1)
        if nudged not in listed and scenario.from_utc <= nudged < scenario.to_utc:
            assert not is_bookable_start(schedule, rules, nudged, now=scenario.now)

    (first,) = first_available(
        [AvailabilityCandidate(schedule, rules, scenario.occupancies)],
        now=scenario.now,
        from_utc=scenario.from_utc,
        to_utc=scenario.to_utc,
        search_chunk=timedelta(hours=13),
    )
    assert first == next((slot for slot in every_slot if slot.remaining > 0), None)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(WEEKDAY_KEYS), day_intervals()))
def test_weekly_documents_round_trip(weekly: dict[str, Intervals]) -> None:
    payload = {"weekly": {day: _as_text(intervals) for day, intervals in weekly.items()}}

    parsed = parse_schedule(payload, timezone="UTC")

    assert schedule_to_payload(parsed)["weekly"] == {
        day: _as_text(weekly.get(day, [])) for day in WEEKDAY_KEYS
    }
    assert parse_schedule(schedule_to_payload(parsed), timezone="UTC") == parsed
