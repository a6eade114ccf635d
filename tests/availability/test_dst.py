"""Daylight saving time: opening hours stay on the local clock, durations on the real one.

Europe/London: 2026-03-29 01:00 GMT → 02:00 BST; 2026-10-25 02:00 BST → 01:00 GMT.
Australia/Sydney: 2026-04-05 03:00 AEDT → 02:00 AEST; 2026-10-04 02:00 AEST → 03:00 AEDT.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agora.availability import (
    OpeningInterval,
    Schedule,
    Slot,
    available_slots,
    is_bookable_start,
    opening_intervals,
)
from agora.availability.wallclock import first_instant_at_or_after, instants_showing
from tests.availability.builders import (
    START_OF_YEAR,
    every_day,
    local_times,
    minutes,
    rules,
    schedule,
    utc,
)

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")


def slots_between(
    tz_schedule: Schedule, start: datetime, end: datetime, **rule_values: object
) -> list[Slot]:
    return available_slots(
        tz_schedule,
        rules(**rule_values),
        [],
        now=START_OF_YEAR,
        from_utc=start,
        to_utc=end,
    )


@pytest.mark.parametrize(
    ("timezone", "change_day", "offset_before", "offset_after"),
    [
        ("Europe/London", date(2026, 3, 29), 0, 1),
        ("Europe/London", date(2026, 10, 25), 1, 0),
        ("Australia/Sydney", date(2026, 4, 5), 11, 10),
        ("Australia/Sydney", date(2026, 10, 4), 10, 11),
    ],
)
def test_nine_to_five_opens_at_nine_local_every_day_across_the_change(
    timezone: str, change_day: date, offset_before: int, offset_after: int
) -> None:
    tz_schedule = schedule(every_day(("09:00", "17:00")), timezone=timezone)
    zone = ZoneInfo(timezone)
    days = [change_day + timedelta(days=shift) for shift in range(-2, 3)]

    slots = slots_between(
        tz_schedule,
        datetime.combine(days[0], datetime.min.time(), zone),
        datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), zone),
    )

    first_of_day: dict[date, Slot] = {}
    for slot in slots:
        first_of_day.setdefault(slot.start.astimezone(zone).date(), slot)
    assert list(first_of_day) == days
    for day, slot in first_of_day.items():
        local_start = slot.start.astimezone(zone)
        assert local_start.strftime("%H:%M") == "09:00"
        expected_offset = offset_before if day < change_day else offset_after
        assert local_start.utcoffset() == timedelta(hours=expected_offset)
        assert slot.start.hour == (9 - expected_offset) % 24  # UTC hour moves by one
        assert slot.end - slot.start == minutes(60)
    # Eight one-hour slots every day, the change day included.
    assert len(slots) == 8 * len(days)


def test_london_spring_forward_skips_the_missing_hour_and_lasts_three_hours() -> None:
    small_hours = schedule({"sun": [["00:00", "04:00"]]}, timezone="Europe/London")

    (opening,) = opening_intervals(small_hours, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    slots = slots_between(
        small_hours,
        utc(2026, 3, 28, 12),
        utc(2026, 3, 29, 12),
        duration=minutes(30),
        step=minutes(30),
    )

    assert opening == OpeningInterval(utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))  # 3 h elapsed
    assert local_times(slots, small_hours) == [
        "2026-03-29 00:00 GMT",
        "2026-03-29 00:30 GMT",
        # 01:00 and 01:30 never happen that night: no slots.
        "2026-03-29 02:00 BST",
        "2026-03-29 02:30 BST",
        "2026-03-29 03:00 BST",
        "2026-03-29 03:30 BST",
    ]


def test_london_fall_back_offers_the_repeated_hour_twice_and_lasts_five_hours() -> None:
    small_hours = schedule({"sun": [["00:00", "04:00"]]}, timezone="Europe/London")

    (opening,) = opening_intervals(small_hours, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    slots = slots_between(
        small_hours,
        utc(2026, 10, 24, 12),
        utc(2026, 10, 25, 12),
        duration=minutes(30),
        step=minutes(30),
    )

    assert opening == OpeningInterval(utc(2026, 10, 24, 23), utc(2026, 10, 25, 4))  # 5 h
    assert local_times(slots, small_hours) == [
        "2026-10-25 00:00 BST",
        "2026-10-25 00:30 BST",
        "2026-10-25 01:00 BST",
        "2026-10-25 01:30 BST",
        "2026-10-25 01:00 GMT",
        "2026-10-25 01:30 GMT",
        "2026-10-25 02:00 GMT",
        "2026-10-25 02:30 GMT",
        "2026-10-25 03:00 GMT",
        "2026-10-25 03:30 GMT",
    ]
    assert [slot.start for slot in slots] == [
        utc(2026, 10, 24, 23) + minutes(30 * index) for index in range(10)
    ]


def test_durations_are_true_elapsed_time_across_the_change() -> None:
    small_hours = schedule({"sun": [["00:00", "03:00"]]}, timezone="Europe/London")

    def three_hour_slots(day: datetime) -> list[str]:
        found = slots_between(
            small_hours, day, day + timedelta(days=1), duration=minutes(180), step=minutes(30)
        )
        assert all(slot.end - slot.start == minutes(180) for slot in found)
        return local_times(found, small_hours)

    # 00:00–03:00 is 2 real hours on the spring-forward night: a 3-hour job cannot fit.
    assert three_hour_slots(utc(2026, 3, 29)) == []
    # It is 3 hours on an ordinary night: exactly one fits.
    assert three_hour_slots(utc(2026, 6, 6, 12)) == ["2026-06-07 00:00 BST"]
    # It is 4 hours on the fall-back night, ending 03:00 GMT.
    assert three_hour_slots(utc(2026, 10, 24, 12)) == [
        "2026-10-25 00:00 BST",
        "2026-10-25 00:30 BST",
        "2026-10-25 01:00 BST",
    ]


def test_an_opening_inside_the_gap_opens_at_the_first_valid_instant() -> None:
    # Sydney 2026-10-04: 02:00–03:00 does not exist. "Open 02:30" means open at 03:00 AEDT.
    tz_schedule = schedule({"sun": [["02:30", "05:00"]]}, timezone="Australia/Sydney")

    (opening,) = opening_intervals(tz_schedule, utc(2026, 10, 3), utc(2026, 10, 4, 12))
    slots = slots_between(tz_schedule, utc(2026, 10, 3), utc(2026, 10, 4, 12), step=minutes(30))

    assert opening == OpeningInterval(utc(2026, 10, 3, 16), utc(2026, 10, 3, 18))
    # The grid stays on local wall times 02:30 + 30 min·k; 02:30 itself never happens.
    assert local_times(slots, tz_schedule) == [
        "2026-10-04 03:00 AEDT",
        "2026-10-04 03:30 AEDT",
        "2026-10-04 04:00 AEDT",
    ]


def test_an_off_hour_grid_in_the_gap_resumes_on_its_own_wall_times() -> None:
    tz_schedule = schedule({"sun": [["02:20", "05:00"]]}, timezone="Australia/Sydney")

    slots = slots_between(tz_schedule, utc(2026, 10, 3), utc(2026, 10, 4, 12), step=minutes(30))

    # Opening starts at the transition (03:00) but slots stay on :20 / :50.
    assert local_times(slots, tz_schedule)[:2] == ["2026-10-04 03:20 AEDT", "2026-10-04 03:50 AEDT"]


def test_an_interval_wholly_inside_the_gap_does_not_open_that_day() -> None:
    tz_schedule = schedule(every_day(("01:15", "01:45")), timezone="Europe/London")

    openings = opening_intervals(tz_schedule, utc(2026, 3, 28), utc(2026, 3, 31))

    assert [opening.start for opening in openings] == [
        utc(2026, 3, 28, 1, 15),
        utc(2026, 3, 30, 0, 15),
    ]


def test_an_interval_ending_in_the_gap_closes_at_the_transition() -> None:
    tz_schedule = schedule({"sun": [["00:00", "01:30"]]}, timezone="Europe/London")

    (opening,) = opening_intervals(tz_schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))

    assert opening == OpeningInterval(utc(2026, 3, 29, 0), utc(2026, 3, 29, 1))


def test_an_interval_ending_in_the_overlap_closes_at_its_first_occurrence() -> None:
    tz_schedule = schedule({"sun": [["00:00", "01:30"]]}, timezone="Europe/London")

    (opening,) = opening_intervals(tz_schedule, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))

    # 00:00 BST to the first 01:30 (BST): 1.5 hours, like any other night.
    assert opening == OpeningInterval(utc(2026, 10, 24, 23), utc(2026, 10, 25, 0, 30))


def test_an_interval_starting_in_the_overlap_opens_at_its_first_occurrence() -> None:
    # Sydney 2026-04-05: 02:00–03:00 happens twice. Open 02:30–04:00.
    tz_schedule = schedule({"sun": [["02:30", "04:00"]]}, timezone="Australia/Sydney")

    (opening,) = opening_intervals(tz_schedule, utc(2026, 4, 4), utc(2026, 4, 5, 12))
    slots = slots_between(tz_schedule, utc(2026, 4, 4), utc(2026, 4, 5, 12), step=minutes(30))

    assert opening == OpeningInterval(utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 18))  # 2.5 h
    # The second 02:00 (AEST) shows a time before the opening's 02:30: not on its grid.
    assert local_times(slots, tz_schedule) == [
        "2026-04-05 02:30 AEDT",
        "2026-04-05 02:30 AEST",
        "2026-04-05 03:00 AEST",
    ]


def test_a_grid_time_repeated_after_its_interval_closed_gives_no_slot_on_that_grid() -> None:
    split_night = schedule(
        {"sun": [["00:00", "01:30"], ["01:30", "04:00"]]}, timezone="Europe/London"
    )

    slots = slots_between(
        split_night,
        utc(2026, 10, 24, 12),
        utc(2026, 10, 25, 12),
        duration=minutes(30),
        step=minutes(60),
    )

    # 01:00 GMT shows a time on the first interval's grid, but that interval closed at the
    # first 01:30 (00:30 UTC); the hour after belongs to the second interval's grid.
    assert local_times(slots, split_night) == [
        "2026-10-25 00:00 BST",
        "2026-10-25 01:00 BST",
        "2026-10-25 01:30 BST",
        "2026-10-25 01:30 GMT",
        "2026-10-25 02:30 GMT",
        "2026-10-25 03:30 GMT",
    ]


def test_is_bookable_start_agrees_with_the_slots_around_the_changes() -> None:
    small_hours = schedule({"sun": [["00:00", "04:00"]]}, timezone="Europe/London")
    slot_rules = rules(duration=minutes(30), step=minutes(30))

    def bookable(start: datetime) -> bool:
        return is_bookable_start(small_hours, slot_rules, start, now=START_OF_YEAR)

    assert bookable(utc(2026, 10, 25, 0, 30))  # 01:30 BST
    assert bookable(utc(2026, 10, 25, 1, 30))  # 01:30 GMT, the second time round
    assert not bookable(utc(2026, 10, 25, 1, 15))  # 01:15 GMT: off the grid
    assert bookable(utc(2026, 3, 29, 1))  # 02:00 BST
    assert not bookable(utc(2026, 3, 29, 0, 45))  # 00:45 GMT: off the grid


def test_wall_clock_helpers_name_the_instants_a_local_time_happens() -> None:
    assert instants_showing(datetime(2026, 3, 29, 1, 30), LONDON) == ()
    assert instants_showing(datetime(2026, 10, 25, 1, 30), LONDON) == (
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),
    )
    assert instants_showing(datetime(2026, 7, 1, 12), SYDNEY) == (utc(2026, 7, 1, 2),)
    assert first_instant_at_or_after(datetime(2026, 3, 29, 1, 30), LONDON) == utc(2026, 3, 29, 1)
    assert first_instant_at_or_after(datetime(2026, 10, 4, 2, 59), SYDNEY) == utc(2026, 10, 3, 16)
    assert first_instant_at_or_after(datetime(2026, 4, 5, 2, 0), SYDNEY) == utc(2026, 4, 4, 15)
