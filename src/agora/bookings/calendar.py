"""RFC 5545 calendar feeds of a vendor's (or one resource's) bookings, for any calendar app.

Calendar apps cannot send a bearer token, so a feed's URL carries a secret token of its
own: one per person, vendor and resource (`CalendarFeedToken`), obtained by vendor staff
with GET /vendors/{id}/calendar-feed, rotated with POST .../calendar-feed/rotate, revoked
when they leave the staff (agora.bookings.services.calendar_feeds). A URL is readable by
whoever holds it — a shared calendar, a phone's sync log — so the feed carries only what
a calendar needs: the service, the customer's first name, the vehicle if there is one,
and the booking's reference and page in the vendor portal (which asks for a sign-in).
Never a surname, an e-mail address, a phone number, an address or the customer's notes.

The token is `cal_` + an HMAC-SHA256 of the row's random `nonce` under SECRET_KEY: the
database stores only the token's SHA-256 (to find the row) and the nonce, which opens
nothing without SECRET_KEY; the person can still be shown the same address again.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.crypto import salted_hmac
from icalendar import Calendar, Event

from agora.bookings.models import Booking, BookingStatus
from agora.core import clock
from agora.vendors.models import Vendor

_SALT = "agora.bookings.calendar.feed"
TOKEN_PREFIX = "cal_"
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)
FEED_STATUSES = (
    BookingStatus.PENDING,
    BookingStatus.ACCEPTED,
    BookingStatus.IN_PROGRESS,
    BookingStatus.COMPLETED,
)


def token_for(nonce: str) -> str:
    """The feed token of a row with this nonce (under the current SECRET_KEY)."""
    digest = salted_hmac(_SALT, nonce, algorithm="sha256").digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def feed_path(token: str) -> str:
    return f"/api/v1/calendar/{token}.ics"


def _first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else "Customer"


def _summary(booking: Booking) -> str:
    words = [booking.listing.title, _first_name(booking.customer.name)]
    vehicle = booking.vehicle
    if vehicle is not None:
        words.append(f"{vehicle.title} ({vehicle.registration_display})")
    return " — ".join(words)


def render_feed(*, vendor: Vendor, resource_id: int | None, now: datetime | None = None) -> bytes:
    now = now or clock.now()
    bookings = Booking.objects.select_related("listing", "customer", "vehicle").filter(
        vendor=vendor,
        start__gte=now - FEED_PAST,
        start__lt=now + FEED_FUTURE,
        status__in=FEED_STATUSES,
    )
    if resource_id is not None:
        bookings = bookings.filter(unit__resource_id=resource_id)
    calendar = Calendar()
    calendar.add("prodid", "-//Agora marketplace//bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{vendor.name} bookings")
    for booking in bookings.order_by("start"):
        page = f"{settings.AGORA_BASE_URL}/vendor/bookings/{booking.pk}/?vendor={vendor.pk}"
        event = Event()
        event.add("uid", f"booking-{booking.pk}@agora")
        event.add("dtstamp", now)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("summary", _summary(booking))
        event.add("status", "CONFIRMED" if booking.status != BookingStatus.PENDING else "TENTATIVE")
        event.add("description", f"Booking {booking.pk}: {page}")
        event.add("url", page)
        calendar.add_component(event)
    return calendar.to_ical()
