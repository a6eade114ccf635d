"""Availability: when a listing can be booked. Pure functions on plain values, no I/O.

Schedules are wall-clock hours in the vendor's (or resource's) IANA time zone; every
instant going in or out is an aware UTC datetime. A resource (a bay, a mechanic, a van)
is just another `Schedule` with its own `SlotRules.capacity` and its own occupancies.

    schedule = parse_schedule(payload, timezone="Europe/London", holidays=bank_holidays)
    rules = SlotRules(duration=timedelta(hours=1), step=timedelta(minutes=30), capacity=2)
    slots = available_slots(schedule, rules, occupancies, now=now, from_utc=a, to_utc=b)

Imports nothing from Django or other apps (ARCHITECTURE: availability is pure maths).
"""

from agora.availability.capacity import SeatProfile, conflicting_seats
from agora.availability.errors import ErrorItem, ScheduleError
from agora.availability.openings import OpeningInterval, opening_intervals
from agora.availability.parsing import parse_schedule, schedule_to_payload
from agora.availability.rules import Occupancy, SlotRules
from agora.availability.schedule import (
    WEEKDAY_KEYS,
    DateOverride,
    LocalInterval,
    Schedule,
    WeeklySchedule,
)
from agora.availability.slots import (
    AvailabilityCandidate,
    Slot,
    available_slots,
    first_available,
    is_bookable_start,
    slot_starts,
)

__all__ = [
    "WEEKDAY_KEYS",
    "AvailabilityCandidate",
    "DateOverride",
    "ErrorItem",
    "LocalInterval",
    "Occupancy",
    "OpeningInterval",
    "Schedule",
    "ScheduleError",
    "SeatProfile",
    "Slot",
    "SlotRules",
    "WeeklySchedule",
    "available_slots",
    "conflicting_seats",
    "first_available",
    "is_bookable_start",
    "opening_intervals",
    "parse_schedule",
    "schedule_to_payload",
    "slot_starts",
]
