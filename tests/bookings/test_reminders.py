"""Booking reminders 24 h and 2 h before the start: once each, only for a booking going ahead."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from agora.bookings import reminders
from agora.bookings.models import Booking
from agora.core import clock
from agora.notifications.models import Event
from tests.bookings.helpers import Shop, tuesday

pytestmark = pytest.mark.django_db


def sent(booking: Booking) -> list[tuple[str, str]]:
    return list(
        Event.objects.filter(name="booking.reminder", subject=f"booking:{booking.pk}")
        .order_by("id")
        .values_list("data__kind", "data__start")
    )


def test_a_reminder_is_sent_once_for_a_booking_going_ahead(shop: Shop, now: datetime) -> None:
    booking = shop.paid(tuesday(10))
    start = booking.start.isoformat()

    first = reminders.booking_remind(booking_id=booking.pk, kind="24h", start=start)
    again = reminders.booking_remind(booking_id=booking.pk, kind="24h", start=start)

    assert (first, again) == (True, False)
    assert sent(booking) == [("24h", start)]
    event = Event.objects.get(name="booking.reminder")
    assert (event.user_id, event.vendor_id) == (shop.customer.pk, shop.vendor.pk)
    assert event.data["listing_title"] == shop.listing.title
    assert event.data["url"] == f"/account/bookings/{booking.pk}/"


def test_no_reminder_for_an_old_start_after_a_reschedule(shop: Shop, now: datetime) -> None:
    booking = shop.paid(tuesday(10))
    old_start = booking.start.isoformat()
    Booking.objects.filter(pk=booking.pk).update(
        start=tuesday(14), end=tuesday(15), blocked_from=tuesday(14), blocked_until=tuesday(15)
    )

    assert not reminders.booking_remind(booking_id=booking.pk, kind="24h", start=old_start)
    assert sent(booking) == []


@pytest.mark.parametrize("status", ["cancelled", "declined", "expired", "held"])
def test_no_reminder_for_a_booking_not_going_ahead(shop: Shop, now: datetime, status: str) -> None:
    booking = shop.paid(tuesday(10))
    Booking.objects.filter(pk=booking.pk).update(status=status)

    assert not reminders.booking_remind(
        booking_id=booking.pk, kind="24h", start=booking.start.isoformat()
    )


def test_the_sweep_sends_the_reminders_whose_timers_were_lost(shop: Shop, now: datetime) -> None:
    # Given two paid bookings: one 20 hours ahead, one 90 minutes ahead, and one far ahead
    soon = shop.paid(tuesday(10))
    later = shop.paid(tuesday(15))
    far = shop.accepted(tuesday(16) + timedelta(days=7))

    # When the sweep runs at 14:00 on Monday (soon: 20 h ahead; later: 25 h ahead)
    with clock.frozen(tuesday(14) - timedelta(days=1)):
        assert reminders.send_due_reminders() == 1
    # ...and again at 13:35 on Tuesday (later: 85 minutes ahead) — twice
    with clock.frozen(tuesday(13, 35)):
        assert reminders.send_due_reminders() == 1
        assert reminders.send_due_reminders() == 0

    # Then each got the reminder due at its time, once, and the far one none yet
    assert sent(soon) == [("24h", soon.start.isoformat())]
    assert sent(later) == [("2h", later.start.isoformat())]
    assert sent(far) == []
