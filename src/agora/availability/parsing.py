"""The JSON shape of a schedule, to and from `Schedule`, with every error's field path.

    {"weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [], ...},
     "overrides": [{"date": "2026-12-24", "intervals": [["09:00", "13:00"]]},
                   {"date": "2026-12-31", "intervals": []}]}

Times are wall-clock "HH:MM" in the vendor's time zone; "24:00" may end an interval.
Missing days are closed; an override with no intervals closes that date. All problems are
collected and raised together as one `ScheduleError`, so a form can show them all at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from agora.availability.errors import ErrorItem, ScheduleError, error_item
from agora.availability.schedule import (
    MINUTES_PER_DAY,
    WEEKDAY_KEYS,
    DateOverride,
    LocalInterval,
    Schedule,
    WeeklySchedule,
    interval_sequence_errors,
    zone_for,
)

_TIME = re.compile(r"([0-9]{2}):([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TOP_LEVEL_KEYS = frozenset({"weekly", "overrides"})
_OVERRIDE_KEYS = frozenset({"date", "intervals"})

Loc = list[str | int]


def parse_schedule(payload: object, *, timezone: str, holidays: Iterable[date] = ()) -> Schedule:
    """A `Schedule` from the JSON document above, or `ScheduleError` listing every problem.

    `timezone` is the vendor's IANA zone (stored on the vendor, not in this document);
    `holidays` are dates closed unless an override opens them.
    """
    errors: list[ErrorItem] = []
    if not isinstance(payload, dict):
        raise ScheduleError.at([], "a schedule must be an object", "type_error")
    for key in sorted(set(payload) - _TOP_LEVEL_KEYS, key=str):
        errors.append(error_item([key], "unknown field", "extra_forbidden"))
    if "weekly" in payload:
        weekly = _parse_weekly(payload["weekly"], errors)
    else:
        weekly = WeeklySchedule()
        errors.append(error_item(["weekly"], "field required", "missing"))
    overrides = _parse_overrides(payload.get("overrides", []), errors)
    try:
        zone_for(timezone)
    except ScheduleError as error:
        errors.extend(error.errors)
    if errors:
        raise ScheduleError(errors)
    return Schedule(
        timezone=timezone, weekly=weekly, overrides=overrides, holidays=frozenset(holidays)
    )


def schedule_to_payload(schedule: Schedule) -> dict[str, Any]:
    """The JSON document for `schedule` (holidays and time zone are not part of it)."""
    return {
        "weekly": {
            key: [list(interval.as_text) for interval in schedule.weekly.intervals_for(weekday)]
            for weekday, key in enumerate(WEEKDAY_KEYS)
        },
        "overrides": [
            {
                "date": override.local_date.isoformat(),
                "intervals": [list(interval.as_text) for interval in override.intervals],
            }
            for override in sorted(schedule.overrides, key=lambda item: item.local_date)
        ],
    }


def _parse_weekly(value: object, errors: list[ErrorItem]) -> WeeklySchedule:
    if not isinstance(value, dict):
        errors.append(error_item(["weekly"], "must be an object keyed by mon..sun", "type_error"))
        return WeeklySchedule()
    days: dict[str, tuple[LocalInterval, ...]] = {}
    for key, intervals in value.items():
        if key not in WEEKDAY_KEYS:
            errors.append(
                error_item(["weekly", key], "unknown day; use mon..sun", "extra_forbidden")
            )
            continue
        days[key] = _parse_intervals(intervals, ["weekly", key], errors)
    return WeeklySchedule.from_days(days)


def _parse_overrides(value: object, errors: list[ErrorItem]) -> tuple[DateOverride, ...]:
    if not isinstance(value, list):
        errors.append(error_item(["overrides"], "must be a list", "type_error"))
        return ()
    overrides: list[DateOverride] = []
    seen_dates: set[date] = set()
    for index, item in enumerate(value):
        loc: Loc = ["overrides", index]
        if not isinstance(item, dict):
            errors.append(
                error_item(loc, "must be an object with date and intervals", "type_error")
            )
            continue
        for key in sorted(set(item) - _OVERRIDE_KEYS, key=str):
            errors.append(error_item([*loc, key], "unknown field", "extra_forbidden"))
        local_date = _parse_date(item.get("date"), [*loc, "date"], errors)
        if "intervals" in item:
            intervals = _parse_intervals(item["intervals"], [*loc, "intervals"], errors)
        else:
            intervals = ()
            errors.append(error_item([*loc, "intervals"], "field required", "missing"))
        if local_date is None:
            continue
        if local_date in seen_dates:
            errors.append(
                error_item([*loc, "date"], f"{local_date.isoformat()} is given more than once")
            )
            continue
        seen_dates.add(local_date)
        overrides.append(DateOverride(local_date=local_date, intervals=intervals))
    return tuple(overrides)


def _parse_date(value: object, loc: Loc, errors: list[ErrorItem]) -> date | None:
    if value is None:
        errors.append(error_item(loc, "field required", "missing"))
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(error_item(loc, f"must be a date as YYYY-MM-DD, not {value!r}"))
    return None


def _parse_intervals(value: object, loc: Loc, errors: list[ErrorItem]) -> tuple[LocalInterval, ...]:
    """Valid intervals of one day; each bad one adds an error and is left out.

    The order check runs only when every interval parsed, so one typo does not also
    produce a confusing "overlaps" error for its neighbour.
    """
    if not isinstance(value, list):
        errors.append(error_item(loc, 'must be a list of ["HH:MM", "HH:MM"] pairs', "type_error"))
        return ()
    parsed: list[LocalInterval] = []
    for index, pair in enumerate(value):
        interval = _parse_interval(pair, [*loc, index], errors)
        if interval is not None:
            parsed.append(interval)
    if len(parsed) != len(value):
        return ()
    order_errors = interval_sequence_errors(parsed)
    errors.extend({**item, "loc": [*loc, *item["loc"]]} for item in order_errors)
    return () if order_errors else tuple(parsed)


def _parse_interval(value: object, loc: Loc, errors: list[ErrorItem]) -> LocalInterval | None:
    if not (isinstance(value, list) and len(value) == 2):
        errors.append(
            error_item(loc, 'must be a pair ["HH:MM", "HH:MM"] of start and end', "type_error")
        )
        return None
    start = _parse_time(value[0], [*loc, 0], errors, may_be_end_of_day=False)
    end = _parse_time(value[1], [*loc, 1], errors, may_be_end_of_day=True)
    if start is None or end is None:
        return None
    if end <= start:
        errors.append(
            error_item(
                loc,
                f"end {value[1]} must be after start {value[0]}; "
                "split hours past midnight into an interval ending 24:00 "
                "and one starting 00:00 the next day",
            )
        )
        return None
    return LocalInterval(start_minute=start, end_minute=end)


def _parse_time(
    value: object, loc: Loc, errors: list[ErrorItem], *, may_be_end_of_day: bool
) -> int | None:
    """Minutes since midnight of an "HH:MM" string; "24:00" only where an interval ends."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if hours < 24 and minutes < 60:
            return hours * 60 + minutes
        if hours == 24 and minutes == 0:
            if may_be_end_of_day:
                return MINUTES_PER_DAY
            errors.append(error_item(loc, "24:00 may only end an interval; start at 00:00"))
            return None
    errors.append(error_item(loc, f'must be a time "HH:MM" from 00:00 to 24:00, not {value!r}'))
    return None
