"""The customer's home: bookings and orders with live status (a fragment fetched again on
the customer's live events),
reviews still to write; the lists; the quote page; portal access."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.bookings.services import lifecycle
from tests.web.account.conftest import World, tuesday
from tests.web.account.helpers import held, html, paid
from tests.web.account.test_goods import add, check_out

pytestmark = pytest.mark.django_db

LIVE = (
    'data-live-stream="/api/v1/events" data-live-events="booking.updated order.updated" '
    'data-live-url="/account/status/"'
)


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, db: Any) -> None:
    for path in ("/account/", "/account/status/", "/account/cart/", "/account/reviews/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={path}"


def test_an_empty_dashboard_invites_to_start(world: World, alice: Client) -> None:
    page = html(alice.get("/account/"))

    assert "<h1>My account</h1>" in page
    assert "No bookings yet." in page
    assert "No orders yet." in page
    assert 'hx-trigger="every' not in page  # nothing to watch


def test_the_dashboard_shows_bookings_and_orders_with_their_status(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    booking = paid(alice, world.service, tuesday(10))
    add(alice, world.widget)
    add(alice, world.gadget)
    check_out(alice)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    # + 1: the stream position the live status resumes from
    with django_assert_max_num_queries(10 + 1 + 1):
        response = alice.get("/account/")

    page = html(response)
    assert f'href="/account/bookings/{booking.pk}/"' in page
    assert "Paid — waiting for the vendor to accept" in page
    assert "Widget" in page
    assert "Gadget" in page
    assert page.count("Paid — waiting for the vendor</span>") == 2
    assert LIVE in page
    assert 'href="/account/cart/"' in page


def test_the_status_fragment_follows_the_vendor_on_its_live_events(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    booking = paid(alice, world.service, tuesday(10))
    lifecycle.booking_accept(actor=world.owner, booking=booking)

    with django_assert_max_num_queries(8 + 1):  # + the stream position
        fragment = html(alice.get("/account/status/"))

    assert fragment.startswith('<div id="live-status"')
    assert "<html" not in fragment
    assert "Confirmed by the vendor" in fragment
    assert LIVE in fragment

    lifecycle.booking_complete(actor=world.owner, booking=booking)
    done = html(alice.get("/account/status/"))
    assert "Completed" in done
    assert "hx-trigger" not in done  # no polling: the stream says when to look again


def test_another_customers_things_stay_off_my_dashboard(
    world: World, alice: Client, bob: Client
) -> None:
    paid(bob, world.service, tuesday(10))
    add(bob, world.widget)
    check_out(bob)

    page = html(alice.get("/account/"))

    assert "Full service" not in page
    assert "Widget" not in page


def test_an_expired_hold_reads_as_expired(world: World, alice: Client) -> None:
    from datetime import timedelta

    from agora.core import clock

    held(alice, world.service, tuesday(10))
    clock.advance(timedelta(minutes=11))

    page = html(alice.get("/account/"))

    assert "Expired" in page
    assert "pay now" not in page


def test_the_lists_page_through_bookings_and_orders(
    world: World, alice: Client, django_assert_max_num_queries: Any
) -> None:
    for hour in (10, 12, 14):
        paid(alice, world.service, tuesday(hour))
    add(alice, world.widget)
    check_out(alice)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(8 + 1):
        bookings = html(alice.get("/account/bookings/"))
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(8 + 1):
        orders = html(alice.get("/account/orders/"))

    assert bookings.count("Full service") == 3
    assert bookings.index("14:00") < bookings.index("10:00")  # latest start first
    assert "Widget" in orders
    # A forged cursor falls back to the first page instead of an error.
    assert alice.get("/account/bookings/?cursor=forged").status_code == 200


def test_the_quote_page_takes_a_request_for_the_vendor(world: World, alice: Client) -> None:
    response = alice.get(f"/account/quote/{world.quote_job.pk}/")

    page = html(response)
    assert response.status_code == 200
    assert "Ask for a quote: Engine diagnostics" in page
    assert "Online quote requests are not available yet" not in page
    assert "Request a quote" in page
    assert "45.00 GBP" in page


def test_the_quote_page_sends_a_bookable_service_to_booking(world: World, alice: Client) -> None:
    response = alice.get(f"/account/quote/{world.service.pk}/")

    assert response["Location"] == f"/account/book/{world.service.pk}/"


def test_portal_pages_use_the_account_assets_and_no_inline_script(
    world: World, alice: Client
) -> None:
    booking = held(alice, world.service, tuesday(10))

    page = html(alice.get(f"/account/bookings/{booking.pk}/pay/"))

    assert "web/account.js" in page
    assert "web/account.css" in page
    assert '<meta name="robots" content="noindex">' in page
    import re

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "onclick=" not in page
