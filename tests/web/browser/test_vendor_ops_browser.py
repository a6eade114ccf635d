"""The vendor's side of a booking in a real browser: a paid request on today's agenda is
accepted and then completed with htmx, without leaving the page; then the booking's page
and the week calendar (desktop and phone) show it. Screenshots at every step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from agora.bookings.models import Booking
from agora.bookings.services import holds, lifecycle
from agora.bookings.services.context import capacity_unit_for
from agora.core import clock
from agora.core.audit import audit_trail
from tests.factories import (
    ListingFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
    VendorScheduleFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday; London is on UTC in winter


@pytest.fixture
def frozen() -> Iterator[None]:
    # Process-wide: the live server's thread sees the same Monday morning.
    with clock.frozen(NOW):
        yield


def _pending_booking() -> tuple[Any, Booking]:
    owner = UserFactory(name="Olive Owner")
    mechanic = UserFactory(name="Sam Mechanic")
    customer = UserFactory(name="Alice Buyer")
    vendor = VendorFactory(name="Camden Motors", owner=owner)
    VendorMembershipFactory(vendor=vendor, user=mechanic, role="staff")
    VendorScheduleFactory(vendor=vendor)
    service = ListingFactory(vendor=vendor, title="Full service", price_amount=4599, capacity=1)
    capacity_unit_for(listing=service, resource=None)
    held = holds.booking_hold(customer=customer, listing=service, start=NOW.replace(hour=10))
    booking = lifecycle.booking_pay(
        customer=customer, booking=held, payment_method="pm_card_visa", idempotency_key="pay-1"
    )
    assert booking.status == "pending"
    return mechanic, booking


def test_a_vendor_accepts_and_then_completes_a_booking(
    frozen: None, page: Any, sign_in: Any, screenshot: Any
) -> None:
    mechanic, booking = _pending_booking()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def on_console(message: Any) -> None:
        if message.type == "error":  # a CSP violation or a script error shows up here
            problems.append(message.text)

    page.on("console", on_console)
    sign_in(mechanic)

    page.goto("/vendor/")
    row = page.locator(f"#booking-{booking.pk}-row")
    assert page.get_by_role("heading", name="Agenda").is_visible()
    assert "10:00–11:00" in row.inner_text()
    assert "Alice Buyer" in row.inner_text()
    assert "Awaiting vendor" in row.inner_text()
    screenshot("1-agenda-with-a-request")

    row.get_by_role("button", name=f"Accept booking #{booking.pk}").click()
    page.get_by_text("Booking accepted.").wait_for()
    assert page.url.endswith("/vendor/")  # swapped in place by htmx, no navigation
    row = page.locator(f"#booking-{booking.pk}-row")
    assert "Accepted" in row.inner_text()
    # the counts above refresh themselves after the move
    stats = page.locator("#ops-stats")
    stats.get_by_text("45.99 GBP").wait_for()
    assert "0 requests to answer" in " ".join(stats.inner_text().split())
    booking.refresh_from_db()
    assert booking.status == "accepted"
    screenshot("2-accepted")

    row.get_by_role("button", name=f"Mark completed booking #{booking.pk}").click()
    page.get_by_text("Booking completed.").wait_for()
    row = page.locator(f"#booking-{booking.pk}-row")
    assert "Completed" in row.inner_text()
    assert row.get_by_role("button").count() == 0
    booking.refresh_from_db()
    assert booking.status == "completed"
    assert booking.completed_at == NOW
    trail = list(audit_trail(booking).values_list("action", "actor_id"))
    assert trail[-2:] == [("booking.accepted", mechanic.pk), ("booking.completed", mechanic.pk)]
    screenshot("3-completed")

    page.get_by_role("link", name="Full service").click()
    page.wait_for_url(f"**/vendor/bookings/{booking.pk}/")
    assert page.get_by_role("heading", name="Status: Completed").is_visible()
    history = page.locator(".ops-history").inner_text()
    assert "accepted" in history
    assert "completed" in history
    screenshot("4-booking-page")

    page.get_by_role("link", name="Calendar").click()
    page.wait_for_url("**/vendor/calendar/")
    event = page.locator(f'table.cal a[href="/vendor/bookings/{booking.pk}/"]')
    assert event.is_visible()
    assert "Completed" in event.inner_text()
    screenshot("5-week-calendar")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert not page.locator("table.cal").is_visible()
    assert page.locator(f'.cal-days a[href="/vendor/bookings/{booking.pk}/"]').is_visible()
    screenshot("6-week-calendar-phone")

    assert problems == []


def test_a_refused_move_shows_its_message_in_place(
    frozen: None, page: Any, sign_in: Any, screenshot: Any
) -> None:
    mechanic, booking = _pending_booking()
    sign_in(mechanic)
    page.goto(f"/vendor/bookings/{booking.pk}/")
    # Someone else accepts it meanwhile: this page still offers Accept.
    lifecycle.booking_accept(actor=mechanic, booking=booking)

    page.get_by_role("button", name=f"Accept booking #{booking.pk}").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "can be accepted; this one is accepted" in alert.inner_text()
    assert page.get_by_role("heading", name="Status: Accepted").is_visible()
    screenshot("refused-accept")
