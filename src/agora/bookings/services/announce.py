"""What a booking's events say: `announce` writes one into the outbox
(agora.notifications.outbox) inside the caller's transaction, beside its audit row.

The data is built from rows the caller has loaded already (the booking with its listing
and vendor): an event costs its INSERT (and on SQLite the UPDATE giving its stream
position), never a query for words. Each event serves several audiences, so it carries
the customer's page (`url`) and the vendor portal's (`vendor_url`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from agora.bookings.models import Booking
from agora.catalog.models import Listing
from agora.core.money import Money
from agora.notifications import outbox
from agora.notifications.models import Event
from agora.payments import services as payments
from agora.vendors.models import Vendor


def money_data(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def booking_data(booking: Booking, *, listing: Listing, vendor: Vendor) -> dict[str, Any]:
    """What every booking event carries: whose, what, where and when (ISO, UTC, with
    the vendor's time zone to show it in)."""
    return {
        "id": booking.pk,
        "status": booking.status,
        "url": f"/account/bookings/{booking.pk}/",
        "vendor_url": f"/vendor/bookings/{booking.pk}/?vendor={booking.vendor_id}",
        "listing_title": listing.title,
        "vendor_name": vendor.name,
        "vendor_address": vendor.address,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "timezone": vendor.timezone,
        "price": money_data(Money(booking.price_amount, booking.currency)),
    }


def announce(
    name: str,
    booking: Booking,
    *,
    listing: Listing | None = None,
    vendor: Vendor | None = None,
    **extra: Any,
) -> Event:
    """Emit booking event `name` (`booking.accepted`) to the booking's customer and
    vendor. Precondition: inside the transaction of the change; `booking.listing` and
    `booking.vendor` loaded (or given), so no query is made for the words."""
    data = booking_data(
        booking, listing=listing or booking.listing, vendor=vendor or booking.vendor
    )
    data.update(extra)
    return outbox.emit(
        name,
        subject=booking,
        data=data,
        user_id=booking.customer_id,
        vendor_id=booking.vendor_id,
    )


def review_path(booking: Booking) -> str:
    return f"/account/reviews/new/booking/{booking.pk}/"


def review_until(booking: Booking) -> str:
    """The last moment the customer may review (AGORA_REVIEW_WINDOW_DAYS after it ended)."""
    assert booking.completed_at is not None
    return (booking.completed_at + timedelta(days=settings.AGORA_REVIEW_WINDOW_DAYS)).isoformat()


def describe_sale(booking_id: int) -> payments.SaleSubject | None:
    """How payments announces a refund or a dispute of `booking:<id>` (one query)."""
    booking = Booking.objects.select_related("listing", "vendor").filter(pk=booking_id).first()
    if booking is None:
        return None
    return payments.SaleSubject(
        event_prefix="booking",
        customer_id=booking.customer_id,
        data={
            **booking_data(booking, listing=booking.listing, vendor=booking.vendor),
            "kind": "booking",
            "title": booking.listing.title,
        },
    )


def register() -> None:
    """Called once at start-up (BookingsConfig.ready)."""
    payments.sale_describer_register(kind="booking", describer=describe_sale)
