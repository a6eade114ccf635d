"""The management pages in a real browser: a listing created through the attribute form that
htmx redraws when the category changes (with the schema's refusal shown beside its field),
then the analytics charts and the schedule on a phone. Screenshots at every step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agora.catalog.models import Listing
from agora.core import clock
from tests.factories import BookingFactory, ListingFactory, UserFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 4, 10, 11, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[None]:
    with clock.frozen(NOW):  # process-wide: the live server's thread sees it too
        yield


def _watch(browser_page: Any) -> list[str]:
    problems: list[str] = []
    browser_page.on("pageerror", lambda error: problems.append(str(error)))

    def on_console(message: Any) -> None:
        # A refused form is answered 422 on purpose; anything else (a CSP violation, a
        # script error) is a problem.
        if message.type == "error" and "status of 422" not in message.text:
            problems.append(message.text)

    browser_page.on("console", on_console)
    return problems


def test_a_manager_creates_goods_with_schema_attributes_and_reads_analytics(
    frozen: None,
    page: Any,
    sign_in: Any,
    screenshot: Any,
) -> None:
    owner = UserFactory(name="Olive Owner")
    vendor = VendorFactory(name="Camden Motors", owner=owner)
    service = ListingFactory(vendor=vendor, title="Full service", price_amount=12_000)
    for days, price in ((0, 12_000), (1, 12_000), (3, 9_000), (6, 15_000)):
        at = NOW - timedelta(days=days, hours=2)
        BookingFactory(
            listing=service, status="completed", price_amount=price, created_at=at, paid_at=at
        )
    problems = _watch(page)
    sign_in(owner)

    page.goto("/vendor/listings/new/")
    page.get_by_label("Kind").select_option("product")
    page.get_by_label("Title").fill("Brake pads, front")
    page.get_by_label("Price").fill("39.50")
    page.get_by_label("Stock:", exact=True).fill("12")
    page.get_by_label("Category").select_option("auto-parts")
    # htmx swaps in the category's inputs, generated from its JSON Schema
    condition = page.get_by_label("Condition (required)")
    condition.wait_for()
    assert page.get_by_label("Part number").is_visible()
    screenshot("1-attributes-for-auto-parts")

    page.get_by_label("Part number").fill("X" * 70)
    page.get_by_role("button", name="Create listing").click()
    page.get_by_text("'condition' is a required property").wait_for()
    assert page.get_by_text("is too long").is_visible()
    assert not Listing.objects.filter(title="Brake pads, front").exists()
    screenshot("2-schema-errors-beside-fields")

    page.get_by_label("Condition (required)").select_option(label="new")
    page.get_by_label("Part number").fill("BP-220")
    page.get_by_role("button", name="Create listing").click()
    page.get_by_text("“Brake pads, front” was created.").wait_for()
    listing = Listing.objects.get(title="Brake pads, front")
    assert listing.attributes == {"condition": "new", "part_number": "BP-220"}
    assert (listing.kind, listing.stock, listing.price_amount) == ("product", 12, 3950)
    screenshot("3-listing-page")

    page.goto("/vendor/analytics/?period=7")
    assert page.get_by_role("heading", name="Analytics").is_visible()
    assert "480.00 GBP" in page.locator(".ops-stats").inner_text()
    assert page.locator("figure.chart svg rect").count() == 14
    screenshot("4-analytics-7-days")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/vendor/schedule/")
    assert page.get_by_label("Monday").is_visible()
    screenshot("5-schedule-on-a-phone")
    assert problems == []
