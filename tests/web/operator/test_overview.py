"""The overview: platform figures over a chosen period, exact against hand-built data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from agora.core import clock
from agora.core.money import Money
from agora.orders.models import Checkout, VendorOrder
from agora.payments import services
from agora.payments.commission import SaleContext
from tests.factories import BookingFactory, ListingFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

PERIOD = "/operator/?from=2026-03-01&to=2026-03-07"


def _at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


def _booking(listing: Any, customer: Any, created: datetime, status: str, paid: bool) -> Any:
    return BookingFactory(
        listing=listing,
        customer=customer,
        status=status,
        created_at=created,
        paid_at=created if paid else None,
        hold_expires_at=None,
    )


def _order(vendor: Any, customer: Any, created: datetime, status: str, paid: bool) -> Any:
    checkout = Checkout.objects.create(
        customer=customer,
        status="paid" if paid else "reserved",
        currency="GBP",
        total_amount=20_00,
        shipping_address={},
        expires_at=created,
        created_at=created,
        paid_at=created if paid else None,
    )
    return VendorOrder.objects.create(
        checkout=checkout,
        vendor=vendor,
        customer=customer,
        status=status,
        currency="GBP",
        subtotal_amount=20_00,
        shipping_amount=0,
        total_amount=20_00,
        created_at=created,
        paid_at=created if paid else None,
    )


@pytest.fixture
def marketplace() -> dict[str, Any]:
    shop = VendorFactory(name="Shop")
    garage = VendorFactory(name="Garage")
    VendorFactory(name="Applicant", status="pending")
    VendorFactory(name="Naughty", status="suspended")
    customer = UserFactory(date_joined=_at(1, month=1))
    UserFactory(date_joined=_at(2))  # new in the period
    UserFactory(date_joined=_at(6))  # new in the period
    UserFactory(date_joined=_at(1, month=2))  # before
    UserFactory(date_joined=_at(2), is_operator=True)  # operators are not customers
    listing = ListingFactory(vendor=garage)
    first = _booking(listing, customer, _at(2), "completed", paid=True)
    _booking(listing, customer, _at(2), "reviewed", paid=True)
    _booking(listing, customer, _at(3), "cancelled", paid=True)
    _booking(listing, customer, _at(3), "accepted", paid=True)  # under way
    _booking(listing, customer, _at(3), "expired", paid=False)  # an abandoned hold
    _booking(listing, customer, _at(20, month=2), "completed", paid=True)  # before
    _order(shop, customer, _at(4), "delivered", paid=True)
    _order(shop, customer, _at(4), "refunded", paid=True)
    _order(shop, customer, _at(5), "expired", paid=False)  # an unpaid reservation
    with clock.frozen(_at(2)), transaction.atomic():
        services.payment_collect(
            reference=first.reference,
            amount=Money(100_00, "GBP"),
            payment_method="pm_card_visa",
            sale=SaleContext(
                vendor_id=garage.pk,
                vendor_tier=garage.tier,
                category_path="automotive/mot-servicing",
                listing_id=listing.pk,
            ),
            idempotency_key="overview-sale",
        )
    return {"first": first}


def _figure(html: str, name: str) -> str:
    marker = f'data-figure="{name}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("</dd>", start)]


def test_figures_for_a_chosen_period_are_exact(
    marketplace: dict[str, Any], op: Client, django_assert_max_num_queries: Any
) -> None:
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(9 + 1):
        response = op.get(PERIOD)

    assert response.status_code == 200
    html = response.content.decode()
    assert _figure(html, "gmv-GBP") == "100.00 GBP"
    assert _figure(html, "commission-GBP") == "3.00 GBP"
    assert _figure(html, "take-rate-GBP") == "3.00 %"
    assert _figure(html, "refunds-GBP") == "0.00 GBP"
    assert _figure(html, "sales-GBP") == "1 (1 booking)"
    assert _figure(html, "bookings") == "4"
    assert _figure(html, "orders") == "2"
    # Fulfilled: completed, reviewed, delivered; failed: cancelled, refunded → 3 / 5.
    assert _figure(html, "completion-rate") == "60.0 %"
    assert _figure(html, "active-vendors") == "2"
    assert _figure(html, "selling-vendors") == "1"
    assert '<a href="/operator/vendors/">1</a>' in _figure(html, "pending-vendors")
    assert _figure(html, "new-customers") == "2"
    assert "1 Mar 2026 – 7 Mar 2026 (UTC), by day." in html


def test_charts_are_svg_with_an_accessible_table(marketplace: dict[str, Any], op: Client) -> None:
    response = op.get(PERIOD)

    html = response.content.decode()
    titles = [chart.title for chart in response.context["charts"]]
    assert titles == [
        "GMV per day (GBP)",
        "Commission per day (GBP)",
        "Bookings and orders per day",
    ]
    activity = response.context["charts"][-1]
    assert [(bar.label, bar.value) for bar in activity.bars] == [
        ("01 Mar", 0),
        ("02 Mar", 2),
        ("03 Mar", 2),
        ("04 Mar", 2),
        ("05 Mar", 0),
        ("06 Mar", 0),
        ("07 Mar", 0),
    ]
    assert html.count('<svg viewBox="0 0 600 200" role="img"') == 3
    assert '<th scope="row">02 Mar</th><td>100.00 GBP</td>' in html
    assert "<td>2 bookings, 0 orders</td>" in html


def test_presets_and_the_default_period(op: Client) -> None:
    default = op.get("/operator/")
    assert default.status_code == 200
    assert default.context["figures"].period.days == 30
    assert op.get("/operator/?days=7").context["figures"].period.days == 7
    year = op.get("/operator/?days=365").context["figures"].period
    assert (year.days, year.granularity) == (365, "month")
    assert "No sales in this period." in default.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=8", "&#x27;days&#x27; must be one of 7, 30, 90, 365."),
        ("from=yesterday", "&#x27;from&#x27; must be a date such as 2026-03-01."),
        ("from=2026-03-07&to=2026-03-01", "The period ends before it starts."),
        ("from=2020-01-01&to=2026-01-01", "A period may be at most"),
    ],
)
def test_a_bad_period_is_a_clear_422(op: Client, query: str, message: str) -> None:
    response = op.get(f"/operator/?{query}")

    assert response.status_code == 422
    assert message in response.content.decode()
