"""The customer's home: bookings and orders with their live status, and reviews still to
write. The status part is one fragment that the page fetches again whenever the
customer's event stream says a booking or an order changed (notifications.live)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from agora.bookings import selectors as booking_selectors
from agora.bookings.models import Booking
from agora.core.errors import InvalidInput
from agora.orders import selectors as order_selectors
from agora.orders.models import VendorOrder
from agora.reviews.selectors import reviewable_for_user
from agora.web.access import customer_required
from agora.web.account import display
from agora.web.account.common import customer

DASHBOARD_ROWS = 8
LIST_ROWS = 20


@dataclass(frozen=True)
class BookingRow:
    id: int
    title: str
    vendor: str
    when: str
    price: str
    status: str
    status_text: str
    needs_payment: bool


@dataclass(frozen=True)
class OrderRow:
    id: int
    checkout_id: int
    vendor: str
    summary: str
    total: str
    status: str
    status_text: str
    tracking: str


def booking_rows(bookings: list[Booking]) -> list[BookingRow]:
    rows = []
    for booking in bookings:
        status = display.display_status(booking)
        rows.append(
            BookingRow(
                id=booking.pk,
                title=booking.listing.title,
                vendor=booking.vendor.name,
                when=display.local_span(booking.start, booking.end, booking.vendor.timezone),
                price=display.money(booking.price_amount, booking.currency),
                status=status,
                status_text=display.booking_status_text(status),
                needs_payment=display.hold_is_live(booking),
            )
        )
    return rows


def order_rows(orders: list[VendorOrder]) -> list[OrderRow]:
    rows = []
    for order in orders:
        lines = list(order.lines.all())
        summary = (
            f"{lines[0].quantity} × {lines[0].title}"
            if len(lines) == 1
            else f"{sum(line.quantity for line in lines)} items"
        )
        tracking = (
            f"{order.carrier} {order.tracking_number}".strip() if order.tracking_number else ""
        )
        rows.append(
            OrderRow(
                id=order.pk,
                checkout_id=order.checkout_id,
                vendor=order.vendor.name,
                summary=summary,
                total=display.money(order.total_amount, order.currency),
                status=order.status,
                status_text=display.order_status_text(order.status),
                tracking=tracking,
            )
        )
    return rows


def _live_status(user: Any) -> dict[str, Any]:
    """Three queries: bookings (with listing and vendor), orders, their lines."""
    bookings = booking_rows(
        booking_selectors.bookings_for_user(
            user=user, as_vendor=False, status=None, cursor=None, limit=DASHBOARD_ROWS
        ).items
    )
    orders = order_rows(
        order_selectors.orders_for_user(
            user=user, as_vendor=False, status=None, cursor=None, limit=DASHBOARD_ROWS
        ).items
    )
    return {"bookings": bookings, "orders": orders}


@customer_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/account/dashboard.html",
        {
            "page_title": "My account",
            "reviewable": reviewable_for_user(user=customer(request)),
            **_live_status(customer(request)),
        },
    )


@never_cache
@customer_required
@require_safe
def live_status(request: HttpRequest) -> HttpResponse:
    """The dashboard's status fragment (fetched again on the customer's live events)."""
    return render(request, "web/account/partials/live_status.html", _live_status(customer(request)))


def _cursor(request: HttpRequest) -> str | None:
    return request.GET.get("cursor") or None


@customer_required
@require_safe
def booking_list(request: HttpRequest) -> HttpResponse:
    try:
        page = booking_selectors.bookings_for_user(
            user=customer(request),
            as_vendor=False,
            status=None,
            cursor=_cursor(request),
            limit=LIST_ROWS,
        )
    except InvalidInput:
        page = booking_selectors.bookings_for_user(
            user=customer(request), as_vendor=False, status=None, cursor=None, limit=LIST_ROWS
        )
    return render(
        request,
        "web/account/booking_list.html",
        {
            "page_title": "My bookings",
            "bookings": booking_rows(page.items),
            "next_cursor": page.next_cursor,
        },
    )


@customer_required
@require_safe
def order_list(request: HttpRequest) -> HttpResponse:
    try:
        page = order_selectors.orders_for_user(
            user=customer(request),
            as_vendor=False,
            status=None,
            cursor=_cursor(request),
            limit=LIST_ROWS,
        )
    except InvalidInput:
        page = order_selectors.orders_for_user(
            user=customer(request), as_vendor=False, status=None, cursor=None, limit=LIST_ROWS
        )
    return render(
        request,
        "web/account/order_list.html",
        {
            "page_title": "My orders",
            "orders": order_rows(page.items),
            "next_cursor": page.next_cursor,
        },
    )
