"""Slot computation in a zone without DST: grid, notice, horizon, capacity and buffers."""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

import agora.availability
from agora.availability import (
    AvailabilityCandidate,
    Occupancy,
    Schedule,
    ScheduleError,
    SeatProfile,
    Slot,
    SlotRules,
    available_slots,
    conflicting_seats,
    first_available,
    is_bookable_start,
    opening_intervals,
    slot_starts,
)
from tests.availability.builders import START_OF_YEAR, every_day, minutes, rules, schedule, utc

MONDAY = utc(2026, 6, 1)  # a Monday
NINE_TO_FIVE = schedule(every_day(("09:00", "17:00")))


def starts(slots: list[Slot]) -> list[str]:
    return [slot.start.strftime("%d %H:%M") for slot in slots]


def one_day(
    slot_rules: SlotRules, occupancies: Sequence[Occupancy] = (), *, include_full: bool = False
) -> list[Slot]:
    return available_slots(
        NINE_TO_FIVE,
        slot_rules,
        occupancies,
        now=START_OF_YEAR,
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=1),
        include_full=include_full,
    )


def test_slots_start_every_step_from_the_opening_and_the_service_fits_inside() -> None:
    slots = one_day(rules(duration=minutes(90), step=minutes(60)))

    assert starts(slots) == [f"01 {hour:02d}:00" for hour in range(9, 16)]
    assert slots[-1].end == utc(2026, 6, 1, 16, 30)  # 15:00 + 90 min; 16:00 would end 17:30
    assert all(slot.end - slot.start == minutes(90) and slot.remaining == 1 for slot in slots)


def test_the_grid_restarts_at_each_interval_and_a_service_may_run_into_a_touching_one() -> None:
    touching = schedule(every_day(("09:00", "10:30"), ("10:30", "12:00")))
    with_a_break = schedule(every_day(("09:00", "10:30"), ("11:00", "12:00")))
    slot_rules = rules(duration=minutes(60), step=minutes(45))

    def day_of(tz_schedule: Schedule) -> list[str]:
        return starts(
            available_slots(
                tz_schedule,
                slot_rules,
                [],
                now=START_OF_YEAR,
                from_utc=MONDAY,
                to_utc=MONDAY + timedelta(days=1),
            )
        )

    # 09:45 runs on into the touching interval; 10:30 starts that interval's own grid.
    assert day_of(touching) == ["01 09:00", "01 09:45", "01 10:30"]
    # With a break, 09:45 would end in it.
    assert day_of(with_a_break) == ["01 09:00", "01 11:00"]


def test_a_service_may_run_past_midnight_when_the_next_day_opens_at_midnight() -> None:
    late_shift = schedule({"mon": [["18:00", "24:00"]], "tue": [["00:00", "02:00"]]})

    slots = available_slots(
        late_shift,
        rules(duration=minutes(60), step=minutes(30)),
        [],
        now=START_OF_YEAR,
        from_utc=utc(2026, 6, 1, 23),
        to_utc=utc(2026, 6, 2, 3),
    )

    assert starts(slots) == ["01 23:00", "01 23:30", "02 00:00", "02 00:30", "02 01:00"]
    assert is_bookable_start(
        late_shift, rules(step=minutes(30)), utc(2026, 6, 1, 23, 30), now=START_OF_YEAR
    )


def test_the_window_selects_slots_by_start_and_the_grid_stays_anchored() -> None:
    slots = available_slots(
        NINE_TO_FIVE,
        rules(duration=minutes(30), step=minutes(45)),
        [],
        now=START_OF_YEAR,
        from_utc=utc(2026, 6, 1, 10, 0),
        to_utc=utc(2026, 6, 1, 12, 0),
    )

    # The grid is 09:00 + 45 min·k, whatever the window; 12:00 is excluded (half-open).
    assert starts(slots) == ["01 10:30", "01 11:15"]


def test_an_empty_or_reversed_window_has_no_slots() -> None:
    assert (
        available_slots(
            NINE_TO_FIVE, rules(), [], now=START_OF_YEAR, from_utc=MONDAY, to_utc=MONDAY
        )
        == []
    )
    assert opening_intervals(NINE_TO_FIVE, MONDAY, MONDAY - timedelta(days=1)) == []


def test_minimum_notice_hides_slots_starting_too_soon() -> None:
    now = utc(2026, 6, 1, 10, 20)

    slots = available_slots(
        NINE_TO_FIVE,
        rules(minimum_notice=minutes(100)),
        [],
        now=now,
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=1),
    )

    assert starts(slots) == ["01 12:00", "01 13:00", "01 14:00", "01 15:00", "01 16:00"]


def test_minimum_notice_landing_exactly_on_a_start_keeps_it() -> None:
    slots = available_slots(
        NINE_TO_FIVE,
        rules(minimum_notice=minutes(60)),
        [],
        now=utc(2026, 6, 1, 11, 0),
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=1),
    )

    assert starts(slots)[0] == "01 12:00"


def test_the_horizon_hides_slots_starting_after_it_and_keeps_one_exactly_on_it() -> None:
    now = utc(2026, 6, 1, 8, 0)

    slots = available_slots(
        NINE_TO_FIVE,
        rules(horizon=timedelta(days=1, hours=2)),
        [],
        now=now,
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=5),
    )

    assert starts(slots)[-1] == "02 10:00"  # now + 26 h
    assert len(slots) == 8 + 2


def test_capacity_counts_down_with_seats_taken() -> None:
    occupancies = [
        Occupancy(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10), seats=2),
        Occupancy(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10)),
        Occupancy(utc(2026, 6, 1, 11), utc(2026, 6, 1, 12)),
    ]

    slots = one_day(rules(capacity=4), occupancies)

    by_start = {slot.start.hour: slot.remaining for slot in slots}
    assert by_start == {9: 1, 10: 4, 11: 3, 12: 4, 13: 4, 14: 4, 15: 4, 16: 4}


def test_full_slots_appear_only_when_asked_for_and_never_go_negative() -> None:
    overbooked = [Occupancy(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10), seats=3)]

    hidden = one_day(rules(capacity=2), overbooked)
    shown = one_day(rules(capacity=2), overbooked, include_full=True)

    assert starts(hidden)[0] == "01 10:00"
    assert shown[0] == Slot(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10), remaining=0)
    assert len(shown) == len(hidden) + 1


def test_remaining_uses_the_peak_of_seats_in_use_not_the_sum() -> None:
    # Two bays; one bay has three back-to-back jobs. A three-hour job still fits in the
    # other bay, so 10:00–13:00 has one bay free although it touches three bookings.
    one_bay_busy = [
        Occupancy(utc(2026, 6, 1, hour), utc(2026, 6, 1, hour + 1)) for hour in (10, 11, 12)
    ]

    slots = one_day(rules(duration=minutes(180), capacity=2), one_bay_busy)

    assert {slot.start.hour: slot.remaining for slot in slots}[10] == 1
    assert (
        conflicting_seats(rules(capacity=2), utc(2026, 6, 1, 10), utc(2026, 6, 1, 13), one_bay_busy)
        == 1
    )


def test_touching_is_not_overlapping() -> None:
    occupancies = [Occupancy(utc(2026, 6, 1, 10), utc(2026, 6, 1, 11))]

    slots = one_day(rules(), occupancies)

    assert "01 10:00" not in starts(slots)
    assert {"01 09:00", "01 11:00"} <= set(starts(slots))


def test_the_slots_buffers_block_a_neighbouring_booking() -> None:
    occupancies = [Occupancy(utc(2026, 6, 1, 12), utc(2026, 6, 1, 13))]

    slots = one_day(rules(buffer_before=minutes(15), buffer_after=minutes(30)), occupancies)

    # 11:00 blocks until 12:30 and 13:00 blocks from 12:45: both collide with 12–13.
    assert starts(slots) == ["01 09:00", "01 10:00", "01 14:00", "01 15:00", "01 16:00"]


def test_buffers_may_reach_outside_opening_hours() -> None:
    slots = one_day(rules(buffer_before=minutes(30), buffer_after=minutes(45)))

    assert starts(slots)[0] == "01 09:00"
    assert starts(slots)[-1] == "01 16:00"


def test_an_occupancy_brings_its_own_buffers() -> None:
    # Booked under a listing with a 45-minute clean-up; this listing has no buffers.
    cleanup_heavy = Occupancy(
        utc(2026, 6, 1, 10), utc(2026, 6, 1, 11), buffer_before=minutes(5), buffer_after=minutes(45)
    )

    slots = one_day(rules(), [cleanup_heavy])

    # 09:00–10:00 meets the 09:55 prep; 11:00 is inside the clean-up until 11:45.
    assert starts(slots) == ["01 12:00", "01 13:00", "01 14:00", "01 15:00", "01 16:00"]


def test_both_sides_buffers_add_up_to_a_conflict() -> None:
    # Neither buffer alone reaches: 11:00 + 20 min after vs 11:30 − 20 min before.
    occupancy = Occupancy(utc(2026, 6, 1, 10), utc(2026, 6, 1, 11), buffer_after=minutes(20))
    slot_rules = rules(duration=minutes(30), step=minutes(30), buffer_before=minutes(20))

    assert (
        conflicting_seats(slot_rules, utc(2026, 6, 1, 11, 30), utc(2026, 6, 1, 12), [occupancy])
        == 1
    )
    assert (
        conflicting_seats(slot_rules, utc(2026, 6, 1, 11, 40), utc(2026, 6, 1, 12), [occupancy])
        == 0
    )


def test_is_bookable_start_checks_grid_hours_notice_and_horizon() -> None:
    slot_rules = rules(duration=minutes(60), step=minutes(30), minimum_notice=minutes(60))
    now = utc(2026, 6, 1, 9, 0)

    def bookable(hour: int, minute: int = 0, day: int = 1) -> bool:
        return is_bookable_start(NINE_TO_FIVE, slot_rules, utc(2026, 6, day, hour, minute), now=now)

    assert bookable(10, 0)
    assert bookable(16, 0)
    assert not bookable(9, 30)  # inside the notice
    assert not bookable(10, 15)  # off the grid
    assert not bookable(16, 30)  # would end after closing
    assert not bookable(8, 0)  # before opening
    assert not is_bookable_start(
        NINE_TO_FIVE, slot_rules, utc(2026, 6, 1, 10, 0, 0) + timedelta(microseconds=1), now=now
    )
    assert is_bookable_start(
        NINE_TO_FIVE, rules(horizon=timedelta(days=1)), utc(2026, 6, 2, 9), now=now
    )
    assert not is_bookable_start(
        NINE_TO_FIVE, rules(horizon=timedelta(days=1)), utc(2026, 6, 2, 10), now=now
    )


def test_first_available_finds_each_candidates_earliest_free_slot() -> None:
    closed_until_thursday = schedule(
        {"thu": [["09:00", "17:00"]]},
        overrides=[{"date": "2026-06-04", "intervals": [["14:00", "17:00"]]}],
    )
    busy_morning = [Occupancy(utc(2026, 6, 1, 9), utc(2026, 6, 1, 12), seats=2)]
    never_open = schedule({})

    found = first_available(
        [
            AvailabilityCandidate(NINE_TO_FIVE, rules(capacity=2), busy_morning),
            AvailabilityCandidate(closed_until_thursday, rules()),
            AvailabilityCandidate(never_open, rules()),
            AvailabilityCandidate(NINE_TO_FIVE, rules(capacity=3), busy_morning),
        ],
        now=utc(2026, 6, 1, 0),
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=30),
        seats=1,
        search_chunk=timedelta(days=1),
    )

    assert found == [
        Slot(utc(2026, 6, 1, 12), utc(2026, 6, 1, 13), 2),
        Slot(utc(2026, 6, 4, 14), utc(2026, 6, 4, 15), 1),
        None,
        Slot(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10), 1),
    ]


def test_first_available_needs_enough_seats() -> None:
    two_of_three_taken = [Occupancy(utc(2026, 6, 1, 9), utc(2026, 6, 1, 11), seats=2)]

    (found,) = first_available(
        [AvailabilityCandidate(NINE_TO_FIVE, rules(capacity=3), two_of_three_taken)],
        now=START_OF_YEAR,
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=1),
        seats=2,
    )

    assert found is not None
    assert found.start == utc(2026, 6, 1, 11)


def test_naive_datetimes_are_refused() -> None:
    naive = MONDAY.replace(tzinfo=None)
    with pytest.raises(ValueError, match="aware"):
        slot_starts(NINE_TO_FIVE, rules(), now=naive, from_utc=MONDAY, to_utc=MONDAY)
    with pytest.raises(ValueError, match="aware"):
        Occupancy(naive, MONDAY)


def test_occupancies_must_make_sense() -> None:
    with pytest.raises(ValueError, match="ends"):
        Occupancy(MONDAY, MONDAY)
    with pytest.raises(ValueError, match="seat"):
        Occupancy(MONDAY, MONDAY + minutes(1), seats=0)
    with pytest.raises(ValueError, match="buffers"):
        Occupancy(MONDAY, MONDAY + minutes(1), buffer_after=minutes(-1))


def test_invalid_rules_report_each_field() -> None:
    with pytest.raises(ScheduleError) as caught:
        SlotRules(
            duration=timedelta(0),
            step=timedelta(seconds=30),
            buffer_after=minutes(-5),
            horizon=timedelta(days=-1),
            capacity=0,
        )

    assert [item["loc"] for item in caught.value.errors] == [
        ["duration"],
        ["step"],
        ["buffer_after"],
        ["horizon"],
        ["capacity"],
    ]


def test_seat_profile_refuses_unsorted_spans() -> None:
    profile = SeatProfile([Occupancy(MONDAY, MONDAY + minutes(60))])

    with pytest.raises(ValueError, match="sorted"):
        profile.peaks([(MONDAY, MONDAY + minutes(10)), (MONDAY - minutes(5), MONDAY + minutes(20))])


def test_a_long_horizon_with_many_bookings_is_not_quadratic() -> None:
    # 90 days of 24-hour opening on a 5-minute grid (~26k slots) against 5,000 bookings:
    # O(slots × bookings) would be 1.3e8 checks; the sweep takes well under a second.
    around_the_clock = schedule(every_day(("00:00", "24:00")))
    bookings = [
        Occupancy(MONDAY + minutes(25 * index), MONDAY + minutes(25 * index + 20))
        for index in range(5_000)
    ]
    started = time.perf_counter()

    slots = available_slots(
        around_the_clock,
        rules(duration=minutes(15), step=minutes(5), capacity=2),
        bookings,
        now=START_OF_YEAR,
        from_utc=MONDAY,
        to_utc=MONDAY + timedelta(days=90),
        include_full=True,
    )

    assert len(slots) == 90 * 24 * 12
    assert time.perf_counter() - started < 5


def test_the_package_imports_only_the_standard_library() -> None:
    # ARCHITECTURE: availability is pure maths on plain values — no Django, no models.
    allowed = set(sys.stdlib_module_names) | {"agora"}
    package_dir = Path(agora.availability.__file__).parent
    for module_path in package_dir.glob("*.py"):
        tree = ast.parse(module_path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{module_path.name} imports {name}"
                if name.startswith("agora."):
                    assert name.startswith("agora.availability"), f"{module_path.name}: {name}"
