"""Reads of the vendor portal's operations pages, always for ONE vendor.

The portal works for the vendor chosen in `current_staff_context` (a person may be on the
staff of several). The domain selectors scope by the acting user (any of their vendors);
these narrow that to the current vendor, so a page never mixes two tenants and an id of
another vendor — even one the user also works for — is a 404 while working for this one.
Every function takes a `StaffContext` that `staff_context_get` produced, never a bare id.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from agora.bookings import selectors as booking_selectors
from agora.bookings.models import Booking, BookingStatus, TimeBlock
from agora.core.errors import InvalidInput, NotFound
from agora.core.pagination import Page, paginate
from agora.orders import selectors as order_selectors
from agora.orders.models import OrderLine, OrderStatus, VendorOrder
from agora.vendors.models import VendorInvitation
from agora.vendors.selectors import StaffContext

# What a vendor still has to do with an order: accept it, then ship it.
ORDERS_TO_SHIP = (OrderStatus.PAID, OrderStatus.ACCEPTED)
LIST_LIMIT = 25


def _with_resources(bookings: list[Booking]) -> list[Booking]:
    # The resource (bay, mechanic) hangs off the capacity unit: two queries for any count.
    prefetch_related_objects(bookings, "unit__resource")
    return bookings


def _bookings(staff: StaffContext) -> QuerySet[Booking]:
    return Booking.objects.select_related("listing", "customer").filter(vendor=staff.vendor)


def _orders(staff: StaffContext) -> QuerySet[VendorOrder]:
    return (
        VendorOrder.objects.select_related("customer", "checkout")
        .filter(vendor=staff.vendor)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    )


def check_status(value: str | None, choices: list[str], *, field: str = "status") -> str | None:
    if not value:
        return None
    if value not in choices:
        raise InvalidInput(
            f"Unknown {field} {value!r}; choose one of {', '.join(choices)}.",
            errors=[{"loc": ["query", field], "msg": "unknown value", "type": "value_error"}],
        )
    return value


# --- bookings ----------------------------------------------------------------------------


def day_agenda(*, staff: StaffContext, day: date) -> list[Booking]:
    vendor = staff.vendor
    return _with_resources(
        booking_selectors.agenda(vendor_id=vendor.pk, day=day, timezone=vendor.timezone)
    )


def pending_requests(*, staff: StaffContext, limit: int = 50) -> list[Booking]:
    """Paid bookings waiting for the vendor's answer, soonest first."""
    return _with_resources(
        list(_bookings(staff).filter(status=BookingStatus.PENDING).order_by("start", "id")[:limit])
    )


def week_bookings(*, staff: StaffContext, start: datetime, end: datetime) -> list[Booking]:
    return _with_resources(
        booking_selectors.vendor_bookings_between(vendor_id=staff.vendor.pk, start=start, end=end)
    )


def week_blocks(*, staff: StaffContext, start: datetime, end: datetime) -> list[TimeBlock]:
    return list(
        TimeBlock.objects.select_related("resource")
        .filter(vendor=staff.vendor, start__lt=end, end__gt=start)
        .order_by("start", "id")
    )


def bookings_page(
    *, staff: StaffContext, status: str | None, cursor: str | None, limit: int = LIST_LIMIT
) -> Page[Booking]:
    status = check_status(status, list(BookingStatus.values))
    bookings = _bookings(staff)
    if status:
        bookings = bookings.filter(status=status)
    page = paginate(bookings, ordering=("-start", "-id"), cursor=cursor, limit=limit)
    _with_resources(page.items)
    return page


def booking_get(*, staff: StaffContext, user: Any, booking_id: int) -> Booking:
    """The booking through the API's own lookup, and only if it is the current vendor's."""
    booking = booking_selectors.booking_get_for_staff(user=user, booking_id=booking_id)
    if booking.vendor_id != staff.vendor.pk:
        raise NotFound("No such booking.")
    _with_resources([booking])
    return booking


# --- orders ------------------------------------------------------------------------------


def orders_to_ship(*, staff: StaffContext, limit: int = 50) -> list[VendorOrder]:
    """Paid orders to accept and accepted ones to ship, oldest payment first."""
    return list(_orders(staff).filter(status__in=ORDERS_TO_SHIP).order_by("paid_at", "id")[:limit])


def orders_page(
    *, staff: StaffContext, status: str | None, cursor: str | None, limit: int = LIST_LIMIT
) -> Page[VendorOrder]:
    status = check_status(status, list(OrderStatus.values))
    orders = _orders(staff)
    if status:
        orders = orders.filter(status=status)
    return paginate(orders, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def order_get(*, staff: StaffContext, user: Any, order_id: int) -> VendorOrder:
    order = order_selectors.order_get_for_staff(user=user, order_id=order_id)
    if order.vendor_id != staff.vendor.pk:
        raise NotFound("No such order.")
    return order


# --- staff -------------------------------------------------------------------------------


def open_invitations(*, staff: StaffContext, now: datetime) -> list[VendorInvitation]:
    return list(
        VendorInvitation.objects.filter(
            vendor=staff.vendor,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).order_by("-created_at", "-id")
    )
