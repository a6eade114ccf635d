"""/vendor/ (the day's agenda) and /vendor/calendar/ (the week)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agora.bookings.models import Resource, ResourceAssignment, TimeBlock
from agora.bookings.services.context import capacity_unit_for
from tests.factories import ListingFactory
from tests.web.vendor_ops.conftest import Shop, monday
from tests.web.vendor_ops.helpers import html, text

pytestmark = pytest.mark.django_db


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    for path in ("/vendor/", "/vendor/calendar/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={path}"


def test_a_customer_without_a_vendor_gets_403(shop: Shop, client_as: Any) -> None:
    client = client_as(shop.outsider)
    for path in ("/vendor/", "/vendor/calendar/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Not allowed" in text(response)


def test_today_lists_the_days_bookings_requests_and_orders(shop: Shop, client_as: Any) -> None:
    accepted = shop.accepted(monday(10))
    pending_today = shop.pending(monday(12))
    pending_tomorrow = shop.pending(monday(9, days=1))
    other = shop.accepted(monday(11), listing=shop.other_service)
    order = shop.paid_order()

    response = client_as(shop.staff).get("/vendor/")

    assert response.status_code == 200
    page = text(response)
    assert "Today Camden Motors" in page
    assert "2 bookings today" in page
    assert "2 requests to answer" in page
    assert "1 order to ship" in page
    assert "91.98 GBP booked" not in page  # only accepted work counts as booked
    assert "45.99 GBP booked" in page
    body = html(response)
    agenda = body[body.index('id="agenda-heading"') : body.index('id="pending-heading"')]
    assert f"/vendor/bookings/{accepted.pk}/" in agenda
    assert f"/vendor/bookings/{pending_today.pk}/" in agenda
    assert f"/vendor/bookings/{pending_tomorrow.pk}/" not in agenda
    assert "10:00–11:00" in agenda
    assert "12:00–13:00" in agenda
    assert "Alice Buyer" in agenda
    assert f'action="/vendor/bookings/{accepted.pk}/start/"' in agenda
    assert f'action="/vendor/bookings/{pending_today.pk}/accept/"' in agenda
    pending = body[body.index('id="pending-heading"') : body.index('id="orders-heading"')]
    assert "Requests to answer on other days" in pending
    assert f"/vendor/bookings/{pending_tomorrow.pk}/" in pending
    assert "Tue 6 Jan" in pending
    # today's request is answered from the agenda, not listed twice
    assert f"/vendor/bookings/{pending_today.pk}/" not in pending
    orders = body[body.index('id="orders-heading"') :]
    assert f"/vendor/orders/{order.pk}/" in orders
    assert "2 × Wiper blades" in orders
    # another vendor's work never shows
    assert f"/vendor/bookings/{other.pk}/" not in body
    assert "Tyre fitting" not in body


def test_today_shows_the_resource_of_a_shared_bay(shop: Shop, client_as: Any) -> None:
    bay = Resource.objects.create(vendor=shop.vendor, name="Bay 2", capacity=1)
    listing = ListingFactory(vendor=shop.vendor, title="MOT test", capacity=1)
    ResourceAssignment.objects.create(listing=listing, resource=bay)
    capacity_unit_for(listing=listing, resource=bay)
    shop.pending(monday(14), listing=listing)

    page = text(client_as(shop.staff).get("/vendor/"))

    assert "MOT test" in page
    assert "Alice Buyer · Bay 2 · 50.00 GBP" in page


def test_another_day_can_be_shown_and_a_bad_day_is_a_clear_error(
    shop: Shop, client_as: Any
) -> None:
    booking = shop.pending(monday(9, days=1))
    client = client_as(shop.owner)

    response = client.get("/vendor/?day=2026-01-06")
    assert response.status_code == 200
    assert "Tuesday 6 January 2026" in text(response)
    assert f"/vendor/bookings/{booking.pk}/" in html(response)

    bad = client.get("/vendor/?day=yesterday")
    assert bad.status_code == 422
    assert "day must be a date such as 2026-01-05." in text(bad)


def test_today_keeps_its_query_count_flat(
    shop: Shop, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for hour in (9, 10, 11, 12, 13, 14):
        shop.pending(monday(hour))
    for _ in range(4):
        shop.paid_order(quantity=1)
    client = client_as(shop.staff)
    client.get("/vendor/")  # the session's first write

    # + 1: the header's notification bell (one COUNT of unread notifications)
    # + 1: the stream position the page's live updates resume from
    with django_assert_max_num_queries(14 + 1 + 1):
        response = client.get("/vendor/")
    assert "6 bookings today" in text(response)
    assert "4 orders to ship" in text(response)


# --- the week ----------------------------------------------------------------------------------


def _cell(body: str, booking_id: int) -> str:
    start = body.index(f'href="/vendor/bookings/{booking_id}/"')
    return body[body.rindex("<td", 0, start) : body.index("</td>", start)]


def test_calendar_places_bookings_and_blocks_by_day_and_hour(shop: Shop, client_as: Any) -> None:
    monday_booking = shop.accepted(monday(10))
    wednesday_booking = shop.pending(monday(15, days=2))
    next_week = shop.pending(monday(10, days=7))
    TimeBlock.objects.create(
        vendor=shop.vendor,
        start=monday(12, days=3),
        end=monday(14, days=3),
        reason="Lift repair",
        created_by=shop.owner,
    )

    response = client_as(shop.staff).get("/vendor/calendar/")

    assert response.status_code == 200
    body = html(response)
    page = text(response)
    assert "Week of 5 January 2026" in page
    assert 'aria-current="date"' in body
    table = body[body.index('<table class="cal"') : body.index("</table>")]
    rows = table.split("<tr>")
    # the 10:00 row holds Monday's booking in its first day column
    ten = next(r for r in rows if '<th scope="row" class="cal-hour">10:00</th>' in r)
    cells = ten.split("<td")[1:]
    assert f"/vendor/bookings/{monday_booking.pk}/" in cells[0]
    assert "10:00–11:00" in cells[0]
    assert "Full service" in cells[0]
    assert "Alice Buyer" in cells[0]
    fifteen = next(r for r in rows if '<th scope="row" class="cal-hour">15:00</th>' in r)
    cells = fifteen.split("<td")[1:]
    assert f"/vendor/bookings/{wednesday_booking.pk}/" in cells[2]
    thirteen = next(r for r in rows if '<th scope="row" class="cal-hour">13:00</th>' in r)
    cells = thirteen.split("<td")[1:]
    assert 'class="cal-blocked"' in "<td" + cells[3]
    assert "Blocked: Lift repair" in cells[3]
    assert f"/vendor/bookings/{next_week.pk}/" not in body

    nxt = client_as(shop.staff).get("/vendor/calendar/?week=2026-01-14")
    assert "Week of 12 January 2026" in text(nxt)
    assert f"/vendor/bookings/{next_week.pk}/" in html(nxt)
    assert 'href="/vendor/calendar/?week=2026-01-05"' in html(nxt)
    assert 'href="/vendor/calendar/?week=2026-01-19"' in html(nxt)


def test_calendar_grows_past_the_usual_hours_and_marks_long_bookings_busy(
    shop: Shop, client_as: Any
) -> None:
    from agora.bookings.models import Booking
    from tests.factories import BookingFactory

    late = BookingFactory(
        listing=shop.service,
        customer=shop.customer,
        status="accepted",
        start=monday(19),
        end=monday(21),
    )
    assert Booking.objects.filter(pk=late.pk).exists()

    body = html(client_as(shop.owner).get("/vendor/calendar/"))

    assert '<th scope="row" class="cal-hour">20:00</th>' in body
    assert '<th scope="row" class="cal-hour">21:00</th>' not in body
    twenty = body[body.index('<th scope="row" class="cal-hour">20:00</th>') :]
    assert twenty.split("<td")[1].startswith(' class="cal-busy"')


def test_calendar_refuses_a_bad_week(shop: Shop, client_as: Any) -> None:
    response = client_as(shop.owner).get("/vendor/calendar/?week=2026-13-01")
    assert response.status_code == 422
    assert "week must be a date" in text(response)


def test_calendar_keeps_its_query_count_flat(
    shop: Shop, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for day in range(5):
        for hour in (9, 11, 14):
            shop.pending(monday(hour, days=day))
    for day in range(3):
        TimeBlock.objects.create(
            vendor=shop.vendor, start=monday(16, days=day), end=monday(17, days=day)
        )
    client = client_as(shop.staff)
    client.get("/vendor/calendar/")

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(12 + 1):
        response = client.get("/vendor/calendar/")
    assert text(response).count("Awaiting vendor") >= 15
    assert _cell(html(response), shop.service.bookings.first().pk)  # type: ignore[union-attr]


def test_the_week_starts_on_monday_in_the_vendors_time_zone(shop: Shop, client_as: Any) -> None:
    # Sunday 11 January 23:30 UTC is Monday 12 January 10:30 in Sydney.
    shop.vendor.timezone = "Australia/Sydney"
    shop.vendor.save(update_fields=["timezone"])
    from tests.factories import BookingFactory

    booking = BookingFactory(
        listing=shop.service,
        customer=shop.customer,
        status="accepted",
        start=monday(23, 30, days=6),
        end=monday(23, 30, days=6) + timedelta(hours=1),
    )

    week_one = html(client_as(shop.owner).get("/vendor/calendar/?week=2026-01-05"))
    week_two = html(client_as(shop.owner).get("/vendor/calendar/?week=2026-01-12"))

    assert f"/vendor/bookings/{booking.pk}/" not in week_one
    assert f"/vendor/bookings/{booking.pk}/" in week_two
    assert "10:30–11:30" in week_two
