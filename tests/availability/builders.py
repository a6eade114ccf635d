"""Small builders shared by the availability tests (plain values, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agora.availability import Schedule, SlotRules, parse_schedule

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A "now" before every slot the tests look at, and within the default 365-day horizon.
START_OF_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def schedule(
    weekly: dict[str, Any] | None = None,
    *,
    timezone: str = "UTC",
    overrides: list[dict[str, Any]] | None = None,
    holidays: tuple[Any, ...] = (),
) -> Schedule:
    payload: dict[str, Any] = {"weekly": weekly or {}}
    if overrides is not None:
        payload["overrides"] = overrides
    return parse_schedule(payload, timezone=timezone, holidays=holidays)


def every_day(*intervals: tuple[str, str]) -> dict[str, list[list[str]]]:
    return {day: [list(interval) for interval in intervals] for day in EVERY_DAY}


def rules(**overrides: Any) -> SlotRules:
    values: dict[str, Any] = {"duration": minutes(60), "step": minutes(60)}
    values.update(overrides)
    return SlotRules(**values)


def local_times(slots: Any, tz: Schedule) -> list[str]:
    return [slot.start.astimezone(tz.zone).strftime("%Y-%m-%d %H:%M %Z") for slot in slots]
