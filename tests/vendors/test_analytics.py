"""Vendor analytics against hand-built sales: exact figures, the period's edges in the
vendor's time zone (London on summer time), and other vendors' sales left out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from agora.catalog.models import Listing
from agora.core import clock
from agora.core.errors import InvalidInput
from agora.core.money import Money
from agora.orders.models import Checkout, OrderLine, VendorOrder
from agora.payments import services as payments
from agora.payments.commission import SaleContext
from agora.vendors.analytics import (
    Funnel,
    period_between,
    period_last_days,
    vendor_analytics,
)
from agora.vendors.models import Vendor
from tests.factories import (
    BookingFactory,
    ListingFactory,
    ProductFactory,
    UserFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

LONDON = "Europe/London"
# 1–7 June 2026, London on BST (UTC+1): the period is [31 May 23:00 UTC, 7 June 23:00 UTC).
JUNE = period_between(timezone=LONDON, first=date(2026, 6, 1), last=date(2026, 6, 7))


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def booking(listing: Listing, customer: Any, *, created: datetime, paid: datetime | None) -> Any:
    return BookingFactory(
        listing=listing,
        customer=customer,
        # completed: a past sale holds no capacity, so test bookings may overlap freely
        status="completed" if paid else "expired",
        created_at=created,
        paid_at=paid,
        start=created + timedelta(days=3),
    )


def order(
    vendor: Vendor,
    customer: Any,
    lines: list[tuple[Listing, int, int]],
    *,
    created: datetime,
    paid: datetime | None,
    shipping: int = 0,
) -> VendorOrder:
    """A vendor order of `lines` (listing, quantity, unit price) plus `shipping`."""
    subtotal = sum(quantity * unit for _, quantity, unit in lines)
    checkout = Checkout.objects.create(
        customer=customer,
        status="paid" if paid else "expired",
        currency=vendor.currency,
        total_amount=subtotal + shipping,
        shipping_address={"name": "A", "country": "GB"},
        expires_at=created + timedelta(minutes=15),
        created_at=created,
        paid_at=paid,
    )
    vendor_order = VendorOrder.objects.create(
        checkout=checkout,
        vendor=vendor,
        customer=customer,
        status="paid" if paid else "expired",
        currency=vendor.currency,
        subtotal_amount=subtotal,
        shipping_amount=shipping,
        total_amount=subtotal + shipping,
        created_at=created,
        paid_at=paid,
    )
    for listing, quantity, unit in lines:
        OrderLine.objects.create(
            order=vendor_order,
            listing=listing,
            title=listing.title,
            unit_price_amount=unit,
            quantity=quantity,
            line_total_amount=quantity * unit,
        )
    return vendor_order


def refund(vendor: Vendor, reference: str, gross: int, amount: int, at: datetime) -> None:
    """A sale of `gross` on `reference` and a refund of `amount` recorded at `at`."""
    with clock.frozen(at - timedelta(days=1)), transaction.atomic():
        payments.payment_collect(
            reference=reference,
            amount=Money(gross, vendor.currency),
            payment_method="pm_card_visa",
            sale=SaleContext(
                vendor_id=vendor.pk,
                vendor_tier=vendor.tier,
                category_path="automotive/mot-servicing",
                listing_id=None,
            ),
            idempotency_key=f"sale:{reference}",
        )
    with clock.frozen(at):
        payments.refund_create(
            reference=reference,
            amount=Money(amount, vendor.currency),
            reason="goodwill",
            actor=None,
            idempotency_key=f"refund:{reference}",
        )


@pytest.fixture
def shop() -> dict[str, Any]:
    vendor = VendorFactory(timezone=LONDON)
    mot = ListingFactory(vendor=vendor, title="MOT", price_amount=5000)
    wash = ListingFactory(vendor=vendor, title="Wash", price_amount=3000)
    wipers = ProductFactory(vendor=vendor, title="Wipers", price_amount=1000)
    c1, c2, c3, c4 = (UserFactory() for _ in range(4))

    booking(mot, c1, created=utc(6, 1, 9), paid=utc(6, 1, 9, 5))
    b2 = booking(wash, c2, created=utc(6, 3, 10), paid=utc(6, 3, 10, 1))
    booking(mot, c1, created=utc(6, 3, 11), paid=None)  # a hold that expired
    # 23:59 London on 31 May: before the period.
    booking(mot, c4, created=utc(5, 31, 22, 50), paid=utc(5, 31, 22, 59))
    # 00:00 London on 1 June: the period's first instant.
    booking(mot, c3, created=utc(5, 31, 23), paid=utc(5, 31, 23))
    # 23:59 London on 7 June: the period's last minute.
    booking(wash, c2, created=utc(6, 7, 22, 54), paid=utc(6, 7, 22, 59))
    # Started on 7 June, paid at 00:00 on 8 June: a conversion, not a sale of the period.
    booking(wash, c4, created=utc(6, 7, 22, 58), paid=utc(6, 7, 23))

    order(
        vendor, c1, [(wipers, 2, 1000)], created=utc(6, 2, 11, 55), paid=utc(6, 2, 12), shipping=500
    )
    order(vendor, c4, [(wipers, 1, 1000)], created=utc(6, 5, 9), paid=None)
    refund(vendor, f"booking:{b2.pk}", 3000, 1000, utc(6, 4, 15))

    # Another vendor's busy week, none of which may show.
    rival = VendorFactory(timezone=LONDON)
    rival_service = ListingFactory(vendor=rival, price_amount=99_999)
    rival_product = ProductFactory(vendor=rival, price_amount=7777)
    rival_booking = booking(rival_service, c1, created=utc(6, 2, 9), paid=utc(6, 2, 9))
    booking(rival_service, UserFactory(), created=utc(6, 2, 10), paid=None)
    order(rival, UserFactory(), [(rival_product, 3, 7777)], created=utc(6, 2, 9), paid=utc(6, 2, 9))
    refund(rival, f"booking:{rival_booking.pk}", 99_999, 50_000, utc(6, 3, 9))
    return {"vendor": vendor, "mot": mot, "wash": wash, "wipers": wipers}


def test_figures_over_a_period_are_exact(shop: dict[str, Any]) -> None:
    figures = vendor_analytics(vendor=shop["vendor"], period=JUNE)

    gbp = lambda amount: Money(amount, "GBP")  # noqa: E731
    assert figures.currency == "GBP"
    assert figures.bookings == 4  # 5000 + 3000 + 5000 + 3000
    assert figures.orders == 1  # 2 × 1000 + 500 shipping
    assert figures.revenue == gbp(18_500)
    assert figures.refunds == gbp(1000)
    assert figures.net_revenue == gbp(17_500)
    assert figures.unique_customers == 3  # c1 booked and bought: once
    assert figures.average_order_value == gbp(3700)
    assert [(t.title, t.kind, t.units, t.revenue) for t in figures.top_listings] == [
        ("MOT", "service", 2, gbp(10_000)),
        ("Wash", "service", 2, gbp(6000)),
        ("Wipers", "product", 2, gbp(2000)),
    ]
    assert figures.booking_funnel == Funnel(started=6, paid=5)
    assert figures.booking_funnel.rate_percent == 83.3
    assert figures.order_funnel == Funnel(started=2, paid=1)
    assert figures.order_funnel.rate_percent == 50.0


def test_daily_series_uses_the_vendors_local_days(shop: dict[str, Any]) -> None:
    figures = vendor_analytics(vendor=shop["vendor"], period=JUNE)

    assert [(d.day.day, d.revenue.amount, d.bookings, d.orders) for d in figures.daily] == [
        (1, 10_000, 2, 0),  # includes the sale at 00:00 London (23:00 UTC the day before)
        (2, 2500, 0, 1),
        (3, 3000, 1, 0),
        (4, 0, 0, 0),
        (5, 0, 0, 0),
        (6, 0, 0, 0),
        (7, 3000, 1, 0),  # 23:59 London, still 7 June
    ]
    assert sum(d.revenue.amount for d in figures.daily) == figures.revenue.amount


def test_a_single_day_period(shop: dict[str, Any]) -> None:
    day = period_between(timezone=LONDON, first=date(2026, 6, 1), last=date(2026, 6, 1))

    figures = vendor_analytics(vendor=shop["vendor"], period=day)

    assert (figures.bookings, figures.orders, figures.revenue.amount) == (2, 0, 10_000)
    assert figures.unique_customers == 2
    assert [d.day for d in figures.daily] == [date(2026, 6, 1)]


def test_an_empty_period_gives_zeros_not_errors(shop: dict[str, Any]) -> None:
    empty = period_between(timezone=LONDON, first=date(2025, 1, 1), last=date(2025, 1, 3))

    figures = vendor_analytics(vendor=shop["vendor"], period=empty)

    assert figures.revenue == Money(0, "GBP")
    assert figures.average_order_value == Money(0, "GBP")
    assert (figures.bookings, figures.orders, figures.unique_customers) == (0, 0, 0)
    assert figures.top_listings == []
    assert figures.booking_funnel.rate_percent is None
    assert [d.revenue.amount for d in figures.daily] == [0, 0, 0]


def test_other_vendors_see_only_their_own(shop: dict[str, Any]) -> None:
    rival = Vendor.objects.exclude(pk=shop["vendor"].pk).get()

    figures = vendor_analytics(vendor=rival, period=JUNE)

    assert figures.revenue == Money(99_999 + 3 * 7777, "GBP")
    assert figures.refunds == Money(50_000, "GBP")
    assert (figures.bookings, figures.orders, figures.unique_customers) == (1, 1, 2)
    assert figures.booking_funnel == Funnel(started=2, paid=1)
    assert {t.title for t in figures.top_listings}.isdisjoint({"MOT", "Wash", "Wipers"})


def test_the_query_count_does_not_grow_with_sales(
    shop: dict[str, Any], django_assert_num_queries: Any
) -> None:
    vendor = shop["vendor"]
    for hour in range(20):
        booking(shop["mot"], UserFactory(), created=utc(6, 5, hour), paid=utc(6, 5, hour))

    with django_assert_num_queries(8):
        figures = vendor_analytics(vendor=vendor, period=JUNE)

    assert figures.bookings == 24


def test_average_order_value_rounds_half_up() -> None:
    vendor = VendorFactory()
    listing = ListingFactory(vendor=vendor)
    for price in (1000, 1001):  # mean 1000.5 → 1001
        BookingFactory(
            listing=listing,
            price_amount=price,
            status="completed",
            created_at=utc(6, 2, 9),
            paid_at=utc(6, 2, 9),
        )

    figures = vendor_analytics(vendor=vendor, period=JUNE)

    assert figures.average_order_value == Money(1001, "GBP")


def test_last_days_period_ends_today_inclusive() -> None:
    period = period_last_days(timezone=LONDON, days=7, today=date(2026, 6, 7))

    assert (period.first, period.last, period.length) == (date(2026, 6, 1), date(2026, 6, 7), 7)
    assert period.start == utc(5, 31, 23)
    assert period.end == utc(6, 7, 23)


def test_a_period_across_the_clock_change_keeps_whole_local_days() -> None:
    # London moves to BST at 01:00 UTC on 29 March 2026: that local day is 23 hours long.
    period = period_between(timezone=LONDON, first=date(2026, 3, 29), last=date(2026, 3, 29))

    assert period.start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(2026, 6, 7), date(2026, 6, 1), "to"),
        (date(2025, 1, 1), date(2026, 6, 1), "to"),
    ],
)
def test_bad_periods_are_refused_with_the_field(first: date, last: date, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        period_between(timezone=LONDON, first=first, last=last)

    assert caught.value.extra["errors"][0]["loc"] == ["query", field]


@pytest.mark.parametrize("days", [0, -1, 367])
def test_bad_day_counts_are_refused(days: int) -> None:
    with pytest.raises(InvalidInput):
        period_last_days(timezone=LONDON, days=days, today=date(2026, 6, 7))
