"""Platform figures from the ledger: hand-built sales, refunds and a dispute with exact sums."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from agora.core import clock
from agora.core.errors import InvalidInput, NotFound
from agora.core.money import Money
from agora.payments import services
from agora.payments.commission import SaleContext
from agora.payments.platform_figures import (
    MoneyBucket,
    Period,
    platform_money,
    sale_get,
    sales_list,
)
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def _sell(reference: str, amount: int, vendor: Any, at: datetime, currency: str = "GBP") -> None:
    with clock.frozen(at), transaction.atomic():
        services.payment_collect(
            reference=reference,
            amount=Money(amount, currency),
            payment_method="pm_card_visa",
            sale=SaleContext(
                vendor_id=vendor.pk,
                vendor_tier=vendor.tier,
                category_path="automotive/mot-servicing",
                listing_id=None,
            ),
            idempotency_key=f"sale:{reference}",
        )


def _refund(reference: str, amount: int, at: datetime) -> None:
    with clock.frozen(at):
        services.refund_create(
            reference=reference,
            amount=Money(amount, "GBP"),
            reason="test",
            actor=None,
            idempotency_key=f"refund:{reference}:{amount}",
        )


@pytest.fixture
def market() -> dict[str, Any]:
    """Default rules: 3 % commission, 2.9 % processing fee."""
    a, b = VendorFactory(), VendorFactory()
    sydney = VendorFactory(currency="AUD")
    _sell("booking:9", 1000_00, a, _at(27, month=2))  # before the period
    _sell("booking:1", 100_00, a, _at(2))  # commission 300
    _sell("order:1", 50_00, b, _at(2, 15))  # commission 150
    _sell("booking:2", 200_00, a, _at(3))  # commission 600
    _sell("booking:3", 80_00, sydney, _at(3), currency="AUD")  # commission 240
    _refund("booking:1", 30_00, _at(4))  # takes back 30 % of 300 = 90 commission
    _sell("booking:10", 500_00, a, _at(8))  # after the period
    return {"a": a, "b": b, "sydney": sydney}


def test_gmv_commission_refunds_and_take_rate_per_currency(market: dict[str, Any]) -> None:
    figures = platform_money(period=Period.of(date(2026, 3, 1), date(2026, 3, 7)))

    assert [c.currency for c in figures.currencies] == ["GBP", "AUD"]
    gbp = figures.currencies[0]
    assert gbp.gmv == Money(350_00, "GBP")
    assert gbp.commission == Money(300 + 150 + 600 - 90, "GBP")
    assert gbp.processing_fees == Money(290 + 145 + 580 - 87, "GBP")
    assert gbp.refunds == Money(30_00, "GBP")
    assert gbp.sales == 3
    assert gbp.sales_by_kind == {"booking": 2, "order": 1}
    assert gbp.take_rate == Decimal("2.74")  # 960 / 35,000
    aud = figures.currency("AUD")
    assert aud is not None
    assert (aud.gmv, aud.commission, aud.sales) == (Money(80_00, "AUD"), Money(240, "AUD"), 1)
    assert aud.take_rate == Decimal("3.00")
    assert figures.selling_vendors == 3


def test_daily_series_covers_every_day_of_the_period(market: dict[str, Any]) -> None:
    figures = platform_money(period=Period.of(date(2026, 3, 1), date(2026, 3, 7)))

    gbp = figures.currencies[0]
    assert [bucket.day for bucket in gbp.series] == [date(2026, 3, d) for d in range(1, 8)]
    assert gbp.series[0] == MoneyBucket(date(2026, 3, 1))
    assert gbp.series[1] == MoneyBucket(date(2026, 3, 2), gmv=150_00, commission=450, sales=2)
    assert gbp.series[2] == MoneyBucket(date(2026, 3, 3), gmv=200_00, commission=600, sales=1)
    assert gbp.series[3] == MoneyBucket(date(2026, 3, 4), commission=-90, refunds=30_00)
    assert sum(bucket.gmv for bucket in gbp.series) == gbp.gmv.amount


def test_long_periods_are_bucketed_by_month(market: dict[str, Any]) -> None:
    figures = platform_money(period=Period.of(date(2026, 1, 1), date(2026, 6, 30)))

    gbp = figures.currencies[0]
    assert figures.period.granularity == "month"
    assert [bucket.day for bucket in gbp.series] == [date(2026, m, 1) for m in range(1, 7)]
    assert gbp.series[1].gmv == 1000_00  # February
    assert gbp.series[2].gmv == 350_00 + 500_00  # March
    assert gbp.gmv == Money(1850_00, "GBP")


def test_a_dispute_takes_commission_back_and_winning_returns_it(market: dict[str, Any]) -> None:
    with clock.frozen(_at(5)):
        dispute = services.dispute_open(
            reference="booking:2",
            amount=Money(100_00, "GBP"),
            reason="chargeback",
            actor=None,
            idempotency_key="d1",
        )
    period = Period.of(date(2026, 3, 1), date(2026, 3, 7))
    assert platform_money(period=period).currencies[0].commission == Money(960 - 300, "GBP")

    with clock.frozen(_at(6)):
        services.dispute_decide(dispute=dispute, outcome="won", actor=None)

    gbp = platform_money(period=period).currencies[0]
    assert gbp.commission == Money(960, "GBP")
    assert gbp.gmv == Money(350_00, "GBP")  # disputes are not captures


def test_an_empty_period_has_no_currencies(market: dict[str, Any]) -> None:
    figures = platform_money(period=Period.of(date(2025, 1, 1), date(2025, 1, 31)))

    assert figures.currencies == []
    assert figures.selling_vendors == 0


def test_figures_take_two_queries(market: dict[str, Any], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(2):
        platform_money(period=Period.of(date(2026, 1, 1), date(2026, 3, 31)))


def test_a_period_must_run_forwards_and_not_too_long() -> None:
    with pytest.raises(InvalidInput, match="ends before it starts"):
        Period.of(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="at most"):
        Period.of(date(2020, 1, 1), date(2026, 1, 1))
    assert Period.last_days(7, today=date(2026, 3, 7)) == Period(date(2026, 3, 1), date(2026, 3, 7))


def test_sales_list_filters_by_status_and_pages(market: dict[str, Any]) -> None:
    refunded = sales_list(status="partially_refunded")
    assert [sale.reference for sale in refunded.items] == ["booking:1"]

    first = sales_list(limit=4)
    second = sales_list(cursor=first.next_cursor, limit=4)
    assert [s.reference for s in first.items] == ["booking:10", "booking:3", "booking:2", "order:1"]
    assert [s.reference for s in second.items] == ["booking:1", "booking:9"]
    assert second.next_cursor is None

    of_b = sales_list(vendor_id=market["b"].pk)
    assert [sale.reference for sale in of_b.items] == ["order:1"]

    with pytest.raises(InvalidInput):
        sales_list(status="nonsense")


def test_sale_get_finds_by_reference(market: dict[str, Any]) -> None:
    assert sale_get(reference="order:1").gross_amount == 50_00
    with pytest.raises(NotFound):
        sale_get(reference="order:999")
