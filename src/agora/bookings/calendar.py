"""RFC 5545 calendar feeds of a vendor's (or one resource's) bookings, for any calendar app.

Calendar apps cannot send a bearer token, so a feed URL carries a signed token naming the
vendor (and resource); only vendor staff can obtain it (GET /vendors/{id}/calendar-feed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing
from icalendar import Calendar, Event

from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.core.errors import NotFound
from agora.vendors.models import Vendor

_SALT = "agora.bookings.calendar"
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)


def feed_token(*, vendor_id: int, resource_id: int | None = None) -> str:
    return signing.dumps({"v": vendor_id, "r": resource_id}, salt=_SALT)


def feed_scope(token: str) -> tuple[int, int | None]:
    try:
        data = signing.loads(token, salt=_SALT)
        return int(data["v"]), data.get("r")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("No such calendar.") from None


def render_feed(*, vendor: Vendor, resource_id: int | None, now: datetime | None = None) -> bytes:
    now = now or clock.now()
    bookings = Booking.objects.select_related("listing", "customer").filter(
        vendor=vendor,
        start__gte=now - FEED_PAST,
        start__lt=now + FEED_FUTURE,
        status__in=[
            BookingStatus.PENDING,
            BookingStatus.ACCEPTED,
            BookingStatus.IN_PROGRESS,
            BookingStatus.COMPLETED,
        ],
    )
    if resource_id is not None:
        bookings = bookings.filter(unit__resource_id=resource_id)
    calendar = Calendar()
    calendar.add("prodid", "-//Agora marketplace//bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{vendor.name} bookings")
    for booking in bookings.order_by("start"):
        event = Event()
        event.add("uid", f"booking-{booking.pk}@agora")
        event.add("dtstamp", now)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("summary", f"{booking.listing.title} — {booking.customer.name}")
        event.add("status", "CONFIRMED" if booking.status != BookingStatus.PENDING else "TENTATIVE")
        if booking.notes:
            event.add("description", booking.notes)
        calendar.add_component(event)
    return calendar.to_ical()
