"""/vendor/analytics/: figures and SVG charts over the chosen period."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from agora.core import clock
from tests.factories import BookingFactory, ListingFactory, UserFactory
from tests.web.vendor_mgmt.conftest import Shop, html
from tests.web.vendor_mgmt.test_listings import field_errors

pytestmark = pytest.mark.django_db

# Friday 10 April 2026, 12:00 in London (BST).
TODAY = datetime(2026, 4, 10, 11, 0, tzinfo=UTC)


def paid(listing: Any, at: datetime, price: int, customer: Any = None) -> Any:
    return BookingFactory(
        listing=listing,
        customer=customer or UserFactory(),
        status="completed",
        price_amount=price,
        created_at=at,
        paid_at=at,
    )


@pytest.fixture
def sold(shop: Shop) -> Shop:
    regular = UserFactory()
    paid(shop.service, datetime(2026, 4, 10, 9, 0, tzinfo=UTC), 12_000, regular)
    paid(shop.service, datetime(2026, 4, 8, 9, 0, tzinfo=UTC), 12_000, regular)
    wash = ListingFactory(vendor=shop.vendor, title="Valet", price_amount=3000)
    paid(wash, datetime(2026, 4, 9, 9, 0, tzinfo=UTC), 3000)
    # 20 days ago: inside 30 days, outside 7
    paid(wash, datetime(2026, 3, 21, 9, 0, tzinfo=UTC), 3000)
    BookingFactory(listing=wash, status="expired", created_at=datetime(2026, 4, 9, 8, tzinfo=UTC))
    # someone else's sales
    paid(shop.rival_listing, datetime(2026, 4, 9, 9, 0, tzinfo=UTC), 99_900)
    return shop


def test_last_7_days(sold: Shop) -> None:
    with clock.frozen(TODAY):
        response = sold.as_owner.get("/vendor/analytics/?period=7")

    assert response.status_code == 200
    page = html(response)
    assert "4 Apr 2026 – 10 Apr 2026 (7 days, Europe/London)" in page
    assert "<span>Revenue</span><strong>270.00 GBP</strong>" in page
    assert "<span>Bookings</span><strong>3</strong>" in page
    assert "<span>Orders</span><strong>0</strong>" in page
    assert "<span>Unique customers</span><strong>2</strong>" in page
    assert "<span>Average order value</span><strong>90.00 GBP</strong>" in page
    assert "3 of 4 holds paid (75.0 %)" in page
    assert "0 of 0 checkouts paid" in page
    assert "99" not in re.sub(r"<[^>]+>", " ", page).split("Revenue", 1)[1].split("Top")[0]
    top = re.findall(r'<th scope="row"><a href="/vendor/listings/(\d+)/">([^<]+)</a>', page)
    assert [title for _, title in top] == ["Full service", "Valet"]


def test_charts_are_svg_with_a_table_per_day(sold: Shop) -> None:
    with clock.frozen(TODAY):
        page = html(sold.as_owner.get("/vendor/analytics/?period=7"))

    assert page.count("<svg viewBox=") == 2
    assert "<figcaption>Revenue per day</figcaption>" in page
    assert "<figcaption>Bookings and orders per day</figcaption>" in page
    assert '<th scope="row">10 Apr</th><td>120.00 GBP</td>' in page
    assert '<th scope="row">07 Apr</th><td>0.00 GBP</td>' in page
    assert '<th scope="row">08 Apr</th><td>1 (1 bookings, 0 orders)</td>' in page
    assert page.count("<rect ") == 14


def test_the_default_period_is_30_days(sold: Shop) -> None:
    with clock.frozen(TODAY):
        page = html(sold.as_owner.get("/vendor/analytics/"))

    assert "(30 days, Europe/London)" in page
    assert "<span>Revenue</span><strong>300.00 GBP</strong>" in page
    assert "<span>Bookings</span><strong>4</strong>" in page


def test_a_custom_period(sold: Shop) -> None:
    response = sold.as_owner.get("/vendor/analytics/?period=custom&start=2026-04-08&end=2026-04-09")

    page = html(response)
    assert "8 Apr 2026 – 9 Apr 2026 (2 days" in page
    assert "<span>Revenue</span><strong>150.00 GBP</strong>" in page
    assert page.count("<rect ") == 4


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("period=custom&start=2026-04-09", "end", "Choose the last day."),
        ("period=custom&start=2026-04-09&end=2026-04-01", "end", "must not be before from"),
        (
            "period=custom&start=2024-01-01&end=2026-04-01",
            "end",
            "a period covers at most 366 days",
        ),
        ("start=not-a-date&end=2026-04-01", "start", "Enter a valid date."),
        ("period=365", "period", "Select a valid choice. 365 is not one of the available choices."),
    ],
)
def test_bad_periods_are_explained_on_the_form(
    sold: Shop, query: str, field: str, message: str
) -> None:
    response = sold.as_owner.get(f"/vendor/analytics/?{query}")

    assert response.status_code == 422
    assert field_errors(html(response), field) == [message]
    assert "<svg" not in html(response)


def test_analytics_query_count(sold: Shop, django_assert_max_num_queries: Any) -> None:
    for hour in range(12):
        paid(sold.service, datetime(2026, 4, 9, hour, 0, tzinfo=UTC), 1000)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with clock.frozen(TODAY), django_assert_max_num_queries(18 + 1):
        response = sold.as_owner.get("/vendor/analytics/?period=90")

    assert response.status_code == 200
    assert "<span>Bookings</span><strong>16</strong>" in html(response)
