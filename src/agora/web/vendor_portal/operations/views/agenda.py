"""The vendor's day (today's bookings, requests to answer, orders to ship) and week."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from agora.core.money import Money
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.operations import selectors, week
from agora.web.vendor_portal.operations.views.bookings import present
from agora.web.vendor_portal.operations.views.common import (
    page,
    parse_day,
    staff_for,
    vendor_today,
)
from agora.web.vendor_portal.operations.views.orders import present_order


@require_safe
@vendor_staff_required
def today(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    this_day = vendor_today(staff)
    day = parse_day(request.GET.get("day"), default=this_day)
    bookings = [present(b) for b in selectors.day_agenda(staff=staff, day=day)]
    pending = selectors.pending_requests(staff=staff)
    # A request on the day shown is answered from the agenda above; listing it twice would
    # leave a stale copy of its buttons after an htmx swap.
    shown = {b.pk for b in bookings}
    other_requests = [present(b) for b in pending if b.pk not in shown]
    orders = [present_order(o) for o in selectors.orders_to_ship(staff=staff)]
    takings = sum(
        (b.price_amount for b in bookings if b.status in ("accepted", "in_progress", "completed")),
        0,
    )
    title = "Today" if day == this_day else day.isoformat()
    return page(
        request,
        "today.html",
        staff,
        {
            "page_title": f"{title} — {staff.vendor.name}",
            "day": day,
            "is_today": day == this_day,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "bookings": bookings,
            "pending_count": len(pending),
            "other_requests": other_requests,
            "orders": orders,
            "takings": Money(takings, staff.vendor.currency),
        },
    )


@require_safe
@vendor_staff_required
def calendar(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    this_day = vendor_today(staff)
    monday = week.week_start(parse_day(request.GET.get("week"), default=this_day, field="week"))
    start, end = week.week_bounds(monday, staff.vendor.timezone)
    grid = week.build_week(
        monday=monday,
        today=this_day,
        timezone=staff.vendor.timezone,
        bookings=[present(b) for b in selectors.week_bookings(staff=staff, start=start, end=end)],
        blocks=selectors.week_blocks(staff=staff, start=start, end=end),
    )
    return page(
        request,
        "calendar.html",
        staff,
        {
            "page_title": f"Week of {monday:%d %B %Y} — {staff.vendor.name}",
            "grid": grid,
            "this_week": week.week_start(this_day),
        },
    )
