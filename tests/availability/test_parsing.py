"""Parsing and validating the schedule JSON: every error carries its field path."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agora.availability import (
    LocalInterval,
    Schedule,
    ScheduleError,
    WeeklySchedule,
    parse_schedule,
    schedule_to_payload,
)


def errors_of(payload: Any, timezone: str = "Europe/London") -> list[tuple[list[Any], str]]:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(payload, timezone=timezone)
    return [(item["loc"], item["type"]) for item in caught.value.errors]


def test_a_valid_document_parses_into_minutes_of_local_wall_time() -> None:
    parsed = parse_schedule(
        {
            "weekly": {"mon": [["09:00", "12:30"], ["13:30", "24:00"]], "sat": []},
            "overrides": [{"date": "2026-12-24", "intervals": [["09:00", "13:00"]]}],
        },
        timezone="Europe/London",
    )

    assert parsed.timezone == "Europe/London"
    assert parsed.weekly.intervals_for(0) == (LocalInterval(540, 750), LocalInterval(810, 1440))
    assert parsed.weekly.intervals_for(5) == ()
    assert parsed.weekly.intervals_for(6) == ()  # missing day: closed
    assert parsed.intervals_on(date(2026, 12, 24)) == (LocalInterval(540, 780),)


def test_the_document_round_trips_through_schedule_to_payload() -> None:
    payload = {
        "weekly": {
            "mon": [["09:00", "12:30"], ["12:30", "24:00"]],
            "tue": [],
            "wed": [["00:00", "00:05"]],
            "thu": [],
            "fri": [],
            "sat": [],
            "sun": [],
        },
        "overrides": [
            {"date": "2026-01-01", "intervals": []},
            {"date": "2026-12-24", "intervals": [["10:00", "14:00"]]},
        ],
    }

    assert schedule_to_payload(parse_schedule(payload, timezone="UTC")) == payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([], [([], "type_error")]),
        ({}, [(["weekly"], "missing")]),
        ({"weekly": {}, "extra": 1}, [(["extra"], "extra_forbidden")]),
        ({"weekly": []}, [(["weekly"], "type_error")]),
        ({"weekly": {"monday": []}}, [(["weekly", "monday"], "extra_forbidden")]),
        ({"weekly": {"mon": "09:00-17:00"}}, [(["weekly", "mon"], "type_error")]),
        ({"weekly": {"mon": [["09:00"]]}}, [(["weekly", "mon", 0], "type_error")]),
        ({"weekly": {"mon": [["9:00", "17:00"]]}}, [(["weekly", "mon", 0, 0], "value_error")]),
        ({"weekly": {"mon": [["09:00", "17:60"]]}}, [(["weekly", "mon", 0, 1], "value_error")]),
        ({"weekly": {"mon": [["09:00", "25:00"]]}}, [(["weekly", "mon", 0, 1], "value_error")]),
        ({"weekly": {"mon": [["09:00", 17]]}}, [(["weekly", "mon", 0, 1], "value_error")]),
        ({"weekly": {"mon": [["24:00", "24:00"]]}}, [(["weekly", "mon", 0, 0], "value_error")]),
        ({"weekly": {"mon": [["17:00", "09:00"]]}}, [(["weekly", "mon", 0], "value_error")]),
        ({"weekly": {"mon": [["09:00", "09:00"]]}}, [(["weekly", "mon", 0], "value_error")]),
        (
            {"weekly": {"tue": [["13:00", "17:00"], ["09:00", "12:00"]]}},
            [(["weekly", "tue", 1], "value_error")],
        ),
        (
            {"weekly": {"tue": [["09:00", "13:00"], ["12:00", "17:00"]]}},
            [(["weekly", "tue", 1], "value_error")],
        ),
        ({"weekly": {}, "overrides": {}}, [(["overrides"], "type_error")]),
        ({"weekly": {}, "overrides": ["2026-01-01"]}, [(["overrides", 0], "type_error")]),
        (
            {"weekly": {}, "overrides": [{"intervals": []}]},
            [(["overrides", 0, "date"], "missing")],
        ),
        (
            {"weekly": {}, "overrides": [{"date": "2026-01-01"}]},
            [(["overrides", 0, "intervals"], "missing")],
        ),
        (
            {"weekly": {}, "overrides": [{"date": "2026-02-30", "intervals": []}]},
            [(["overrides", 0, "date"], "value_error")],
        ),
        (
            {"weekly": {}, "overrides": [{"date": "20260101", "intervals": []}]},
            [(["overrides", 0, "date"], "value_error")],
        ),
        (
            {"weekly": {}, "overrides": [{"date": "2026-01-01", "intervals": [], "note": "x"}]},
            [(["overrides", 0, "note"], "extra_forbidden")],
        ),
        (
            {
                "weekly": {},
                "overrides": [
                    {"date": "2026-01-01", "intervals": []},
                    {"date": "2026-01-01", "intervals": [["10:00", "12:00"]]},
                ],
            },
            [(["overrides", 1, "date"], "value_error")],
        ),
        (
            {"weekly": {}, "overrides": [{"date": "2026-01-01", "intervals": [["12:00", "x"]]}]},
            [(["overrides", 0, "intervals", 0, 1], "value_error")],
        ),
    ],
)
def test_each_invalid_document_reports_the_path_of_its_mistake(
    payload: Any, expected: list[tuple[list[Any], str]]
) -> None:
    assert errors_of(payload) == expected


def test_all_mistakes_are_reported_together() -> None:
    payload = {
        "weekly": {"mon": [["09:00", "08:00"]], "fri": [["xx", "17:00"]]},
        "overrides": [{"date": "nope", "intervals": [["10:00", "24:00"]]}],
    }

    assert errors_of(payload, timezone="Mars/Olympus_Mons") == [
        (["weekly", "mon", 0], "value_error"),
        (["weekly", "fri", 0, 0], "value_error"),
        (["overrides", 0, "date"], "value_error"),
        (["timezone"], "value_error"),
    ]


def test_schedule_error_is_a_value_error_with_a_readable_message() -> None:
    with pytest.raises(ValueError, match=r"^weekly\.mon\.0: end 08:00 must be after start"):
        parse_schedule({"weekly": {"mon": [["09:00", "08:00"]]}}, timezone="UTC")


@pytest.mark.parametrize("timezone", ["", "Europe", "Nope/Nowhere", "../etc/passwd"])
def test_an_unknown_time_zone_is_rejected_at_timezone(timezone: str) -> None:
    assert errors_of({"weekly": {}}, timezone=timezone) == [(["timezone"], "value_error")]


def test_touching_intervals_are_allowed_and_stay_separate() -> None:
    parsed = parse_schedule(
        {"weekly": {"mon": [["09:00", "12:00"], ["12:00", "17:00"]]}}, timezone="UTC"
    )

    assert parsed.weekly.intervals_for(0) == (LocalInterval(540, 720), LocalInterval(720, 1020))


def test_value_types_validate_when_built_in_code_too() -> None:
    with pytest.raises(ScheduleError) as caught:
        WeeklySchedule.from_days({"wed": [LocalInterval(600, 700), LocalInterval(650, 800)]})
    assert caught.value.errors[0]["loc"] == ["weekly", "wed", 1]

    with pytest.raises(ScheduleError):
        LocalInterval(600, 600)
    with pytest.raises(ScheduleError):
        LocalInterval(0, 1441)
    with pytest.raises(ScheduleError):
        WeeklySchedule(((),) * 6)


def test_an_override_beats_a_holiday_which_beats_the_weekday() -> None:
    christmas, boxing_day, normal_friday = date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 4)
    parsed = parse_schedule(
        {
            "weekly": {"fri": [["09:00", "17:00"]], "sat": [["09:00", "17:00"]]},
            "overrides": [{"date": "2026-12-26", "intervals": [["10:00", "14:00"]]}],
        },
        timezone="Europe/London",
        holidays=[christmas, boxing_day],
    )

    assert parsed.intervals_on(normal_friday) == (LocalInterval(540, 1020),)
    assert parsed.intervals_on(christmas) == ()  # a Friday, but a holiday
    assert parsed.intervals_on(boxing_day) == (LocalInterval(600, 840),)  # opened by override


def test_an_override_with_no_intervals_closes_the_day() -> None:
    parsed = parse_schedule(
        {
            "weekly": {"mon": [["09:00", "17:00"]]},
            "overrides": [{"date": "2026-06-01", "intervals": []}],
        },
        timezone="UTC",
    )

    assert parsed.intervals_on(date(2026, 6, 1)) == ()
    assert parsed.intervals_on(date(2026, 6, 8)) == (LocalInterval(540, 1020),)


def test_schedule_values_are_immutable_and_comparable() -> None:
    first = parse_schedule({"weekly": {"mon": [["09:00", "17:00"]]}}, timezone="UTC")
    second = parse_schedule({"weekly": {"mon": [["09:00", "17:00"]]}}, timezone="UTC")

    assert first == second
    assert isinstance(first, Schedule)
    with pytest.raises(AttributeError):
        first.timezone = "Europe/London"  # type: ignore[misc,unused-ignore]
