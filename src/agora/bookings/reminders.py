"""Reminders 24 h and 2 h before a booking starts, each sent once per start time.

`booking_remind` runs from a task scheduled for the reminder's moment
(`timers.schedule_next_reminder`); `send_due_reminders` is the periodic safety net for a
timer that was lost. Both lock the booking, check it is still going ahead at the start the
reminder was for (a rescheduled booking gets reminders for its new start, not the old one)
and that this reminder was not sent yet, and emit `booking.reminder` in that transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from agora.bookings.models import Booking, BookingStatus
from agora.bookings.services.announce import announce
from agora.core import clock
from agora.notifications.models import Event

GOING_AHEAD = (BookingStatus.PENDING, BookingStatus.ACCEPTED)
REMINDERS = {"24h": timedelta(hours=24), "2h": timedelta(hours=2)}


def _already_sent(*, booking: Booking, kind: str, start: str) -> bool:
    return Event.objects.filter(
        name="booking.reminder",
        subject=f"booking:{booking.pk}",
        data__kind=kind,
        data__start=start,
    ).exists()


def booking_remind(*, booking_id: int, kind: str, start: str) -> bool:
    """Send reminder `kind` of the booking if it still starts at `start`; True if sent."""
    if kind not in REMINDERS:
        raise ValueError(f"unknown reminder {kind!r}")
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("listing", "vendor")
            .filter(pk=booking_id)
            .first()
        )
        if booking is None or booking.status not in GOING_AHEAD:
            return False
        if booking.start.isoformat() != start or booking.start <= clock.now():
            return False
        if _already_sent(booking=booking, kind=kind, start=start):
            return False
        announce("booking.reminder", booking, kind=kind)
    return True


def send_due_reminders(*, limit: int = 500) -> int:
    """Every reminder whose moment has passed and that was not sent (lost timers)."""
    now = clock.now()
    sent = 0
    upcoming = (
        Booking.objects.filter(
            status__in=GOING_AHEAD, start__gt=now, start__lte=now + REMINDERS["24h"]
        )
        .order_by("start")
        .values_list("pk", "start")[:limit]
    )
    for booking_id, start in list(upcoming):
        kind = "2h" if start - now <= REMINDERS["2h"] else "24h"
        if _due_unsent(booking_id=booking_id, kind=kind, start=start):
            sent += booking_remind(booking_id=booking_id, kind=kind, start=start.isoformat())
    return sent


def _due_unsent(*, booking_id: int, kind: str, start: datetime) -> bool:
    return not Event.objects.filter(
        name="booking.reminder",
        subject=f"booking:{booking_id}",
        data__kind=kind,
        data__start=start.isoformat(),
    ).exists()
