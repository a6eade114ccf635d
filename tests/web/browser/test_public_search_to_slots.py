"""A visitor finds a service, opens it and sees its live slots — in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from agora.core import clock
from tests.factories import (
    BookingFactory,
    ListingFactory,
    VendorFactory,
    VendorScheduleFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONDAY_MORNING = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def garage_with_mot(db: Any) -> Iterator[Any]:
    # The clock is process-wide, so the live server's thread computes slots at this time.
    with clock.frozen(MONDAY_MORNING):
        garage = VendorFactory(name="Camden Motors", slug="camden-motors", vertical="automotive")
        VendorScheduleFactory(vendor=garage)
        ListingFactory(vendor=garage, title="Brake inspection", price_amount=3000)
        yield ListingFactory(
            vendor=garage, title="MOT test", description="The annual MOT.", price_amount=5485
        )


def test_visitor_searches_opens_a_listing_and_sees_live_slots(
    page: Any, screenshot: Any, garage_with_mot: Any
) -> None:
    mot = garage_with_mot
    failed: list[str] = []
    page.on("pageerror", lambda error: failed.append(str(error)))
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

    page.goto("/")
    page.get_by_label("What do you need?").fill("MOT")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=MOT")
    assert page.get_by_role("heading", level=1).inner_text() == "Results for “MOT”"
    # Both are in "MOT and servicing"; the one that says MOT in its title comes first.
    titles = page.locator(".listing-card .card-title").all_inner_texts()
    assert titles[0] == "MOT test"
    screenshot("1-search-results")

    page.get_by_role("link", name="MOT test").click()
    page.wait_for_url(f"**/l/{mot.pk}/")
    assert page.title() == "MOT test — Camden Motors in London | Agora"

    # htmx fetches the slots fragment and swaps it in
    first_slot = page.locator("a.slot").first
    first_slot.wait_for()
    assert page.get_by_role("heading", name="Monday 5 January").is_visible()
    assert first_slot.inner_text() == "09:00"
    assert first_slot.get_attribute("href") == (
        f"/account/book/{mot.pk}/?start=2026-01-05T09%3A00%3A00%2B00%3A00"
    )
    assert page.locator("a.slot").count() == 5 * 15
    screenshot("2-listing-with-slots")

    # someone books 10:00 meanwhile; the next refresh drops it and keeps keyboard focus
    page.locator("a.slot", has_text="09:00").first.focus()
    focused = page.evaluate("document.activeElement.id")
    BookingFactory(listing=mot, status="accepted", start=MONDAY_MORNING.replace(hour=10))
    page.evaluate(
        "htmx.ajax('GET', document.querySelector('#slots').getAttribute('hx-get'),"
        " {target: '#slots', swap: 'outerHTML'})"
    )
    page.wait_for_function("document.querySelectorAll('a.slot').length === 5 * 15 - 3")
    monday = page.get_by_role("region", name="Monday 5 January")
    assert "10:00" not in monday.inner_text()
    assert page.evaluate("document.activeElement.id") == focused == "slot-1767603600"

    # the next week comes in place, without leaving the page
    page.get_by_role("link", name="Later →").click()
    page.get_by_role("heading", name="Monday 12 January").wait_for()
    assert page.url.endswith(f"/l/{mot.pk}/")
    screenshot("3-next-week")

    # and on a phone the same page reads in one column
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/l/{mot.pk}/")
    page.locator("a.slot").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("4-phone")

    # the city landing page says who can do it soonest
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/c/mot-servicing/london/")
    page.get_by_role("heading", name="Soonest available in London").wait_for()
    soonest = page.locator("#first-free a.slot").first
    assert soonest.inner_text() == "Mon 5 Jan, 09:00"
    screenshot("5-city-landing")
    assert failed == []
