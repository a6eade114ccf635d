"""MOT-due reminders: 28, 14 and 1 days before a saved vehicle's MOT expires, and once
when it has expired — each exactly once per expiry date, with a link to the soonest MOT
slots near the customer (DVSA itself reminds motorists 4 and 2 weeks before).

`send_due_mot_reminders` is the hourly sweep (tasks.py). For each vehicle whose expiry
falls in the window it works out the one reminder now due — the nearest threshold at or
past — so a sweep that missed days sends the reminder that fits, not every one it
missed. Before relying on data older than a day it looks the vehicle up again: a car
that has had its MOT since has a new expiry and gets no reminder for the old one.

`mot_remind` records the reminder (`MotReminder`, unique per vehicle, expiry date and
kind) and emits `vehicle.mot_due` in one transaction: a second sweep, or two workers
racing, find the row and send nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from agora.bookings import selectors as booking_selectors
from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.core.errors import DomainError
from agora.notifications import outbox
from agora.verticals.automotive import services
from agora.verticals.automotive.models import MotReminder, ReminderKind, Vehicle
from agora.verticals.automotive.selectors import UK, uk_today

logger = logging.getLogger(__name__)

EVENT = "vehicle.mot_due"
MOT_CATEGORY = "mot-servicing"
# Nearest first: with 10 days left the 14-day reminder is the one due.
THRESHOLDS: tuple[tuple[str, int], ...] = (
    (ReminderKind.DAYS_1, 1),
    (ReminderKind.DAYS_14, 14),
    (ReminderKind.DAYS_28, 28),
)
EXPIRED_NOTICE_DAYS = 7  # "your MOT has expired" goes out within a week of the date
SLOTS_SHOWN = 3
SLOTS_AHEAD = timedelta(days=14)
# Bookings that mean the customer has this in hand: no nagging about a booked MOT.
BOOKED = (BookingStatus.PENDING, BookingStatus.ACCEPTED, BookingStatus.IN_PROGRESS)


def due_kind(*, expiry_date: date, today: date) -> str | None:
    """The reminder due on `today` for an MOT expiring on `expiry_date`, if any."""
    days_left = (expiry_date - today).days
    if days_left < 0:
        return ReminderKind.EXPIRED if -days_left <= EXPIRED_NOTICE_DAYS else None
    for kind, days in THRESHOLDS:
        if days_left <= days:
            return kind
    return None


@dataclass(frozen=True)
class NearbySlots:
    url: str
    city_name: str
    slots: list[dict[str, Any]]


def _home_city(owner_id: int) -> tuple[str, str] | None:
    """Where the customer books: the city of the vendor of their latest booking."""
    row = (
        Booking.objects.filter(customer_id=owner_id, vendor__city__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("vendor__city__slug", "vendor__city__name")
        .first()
    )
    return (row[0], row[1]) if row else None


def _nearby_slots(city: tuple[str, str] | None) -> NearbySlots:
    """The soonest free MOT slots in the customer's city (listings that include an MOT)."""
    if city is None:
        return NearbySlots(url=f"/c/{MOT_CATEGORY}/", city_name="", slots=[])
    slug, name = city
    now = clock.now()
    try:
        found = booking_selectors.first_available_slots(
            category=MOT_CATEGORY, city=slug, start=now, end=now + SLOTS_AHEAD, limit=20
        )
    except DomainError:
        found = []
    slots = [
        {
            "listing_id": item.listing.pk,
            "listing_title": item.listing.title,
            "vendor_name": item.listing.vendor.name,
            "start": item.slot.start.isoformat(),
            "timezone": item.listing.vendor.timezone,
            "price": {"amount": item.listing.price_amount, "currency": item.listing.currency},
        }
        for item in found
        if (item.listing.attributes or {}).get("includes_mot") or "MOT" in item.listing.title
    ][:SLOTS_SHOWN]
    return NearbySlots(url=f"/c/{MOT_CATEGORY}/{slug}/first-free/", city_name=name, slots=slots)


def mot_remind(
    *, vehicle: Vehicle, kind: str, expiry_date: date, nearby: NearbySlots, today: date
) -> bool:
    """Send reminder `kind` for the vehicle's MOT expiring on `expiry_date` unless it was
    sent; True if sent now."""
    try:
        with transaction.atomic():
            MotReminder.objects.create(
                vehicle=vehicle, expiry_date=expiry_date, kind=kind, sent_at=clock.now()
            )
            outbox.emit(
                EVENT,
                subject=vehicle,
                data={
                    "id": vehicle.pk,
                    "status": kind,
                    "kind": kind,
                    "registration": vehicle.registration_display,
                    "title": vehicle.title,
                    "expiry_date": expiry_date.isoformat(),
                    "days_left": (expiry_date - today).days,
                    "url": nearby.url,
                    "vehicle_url": f"/account/vehicles/{vehicle.pk}/",
                    "city_name": nearby.city_name,
                    "slots": nearby.slots,
                },
                user_id=vehicle.owner_id,
            )
    except IntegrityError:
        return False
    return True


def _already_sent(vehicles: list[Vehicle]) -> set[tuple[int, date, str]]:
    return set(
        MotReminder.objects.filter(vehicle__in=vehicles).values_list(
            "vehicle_id", "expiry_date", "kind"
        )
    )


def _booked(vehicles: list[Vehicle]) -> set[int]:
    return set(
        Booking.objects.filter(
            vehicle__in=vehicles, status__in=BOOKED, start__gte=clock.now()
        ).values_list("vehicle_id", flat=True)
    )


def _due(
    vehicle: Vehicle, *, today: date, sent_before: set[tuple[int, date, str]]
) -> tuple[Vehicle, str, date] | None:
    """The reminder the vehicle is due today and not sent yet, on fresh data."""
    if vehicle.mot_expiry_date is None:
        return None
    kind = due_kind(expiry_date=vehicle.mot_expiry_date, today=today)
    if kind is None or (vehicle.pk, vehicle.mot_expiry_date, kind) in sent_before:
        return None
    if not services.vehicle_needs_refresh(vehicle=vehicle):
        return vehicle, kind, vehicle.mot_expiry_date
    vehicle = services.vehicle_refresh(vehicle=vehicle)
    if vehicle.mot_expiry_date is None:
        return None
    kind = due_kind(expiry_date=vehicle.mot_expiry_date, today=today)
    return (vehicle, kind, vehicle.mot_expiry_date) if kind is not None else None


def send_due_mot_reminders(*, limit: int = 1000) -> int:
    """Every MOT reminder due today that has not gone out; how many were sent."""
    today = uk_today()
    vehicles = list(
        Vehicle.objects.filter(
            removed_at__isnull=True,
            owner__is_active=True,
            mot_expiry_date__gte=today - timedelta(days=EXPIRED_NOTICE_DAYS),
            mot_expiry_date__lte=today + timedelta(days=THRESHOLDS[-1][1]),
        ).order_by("mot_expiry_date", "id")[:limit]
    )
    sent_before = _already_sent(vehicles)
    booked = _booked(vehicles)
    nearby_by_city: dict[tuple[str, str] | None, NearbySlots] = {}
    sent = 0
    for candidate in vehicles:
        if candidate.pk in booked:
            continue
        due = _due(candidate, today=today, sent_before=sent_before)
        if due is None:
            continue
        vehicle, kind, expiry_date = due
        city = _home_city(vehicle.owner_id)
        if city not in nearby_by_city:
            nearby_by_city[city] = _nearby_slots(city)
        sent += mot_remind(
            vehicle=vehicle,
            kind=kind,
            expiry_date=expiry_date,
            nearby=nearby_by_city[city],
            today=today,
        )
    if sent:
        logger.info("sent %d MOT reminder(s) for %s", sent, today.isoformat())
    return sent


__all__ = ["EVENT", "UK", "due_kind", "mot_remind", "send_due_mot_reminders"]
