"""A vendor's figures over a period: sales, customers, best sellers and conversion.

Every figure is computed in the database — grouped and summed in SQL, the per-day series
with ``TruncDate`` in the vendor's time zone — so the cost does not grow with the number of
bookings or orders (eight queries, whatever the period). The same SQL runs on SQLite and
PostgreSQL.

Definitions, so the numbers can be checked by hand:

* A period is a range of the vendor's *local* dates, both ends included; it covers the
  instants from local midnight of the first day to local midnight after the last.
* A booking or an order counts as a sale on the day it was **paid** (``paid_at``),
  whatever happened to it afterwards; its amount is the booking's price or the order's
  total (shipping included). **Revenue** is the sum of those amounts; **refunds** are the
  refunds recorded in the period; net revenue is the difference.
* **Unique customers**: distinct people with at least one sale in the period.
* **Average order value**: revenue ÷ (bookings + orders), rounded half up to the minor unit.
* **Conversion**: of the holds (bookings) and reservations (orders) *started* in the
  period, how many have been paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from agora.bookings.models import Booking
from agora.core.errors import InvalidInput
from agora.core.money import Money
from agora.orders.models import OrderLine, VendorOrder
from agora.payments.models import Refund
from agora.vendors.models import Vendor

PRESET_DAYS = (7, 30, 90)
MAX_PERIOD_DAYS = 366
TOP_LISTINGS = 5


@dataclass(frozen=True)
class Period:
    """Local dates `first`..`last` (inclusive) in `timezone`."""

    first: date
    last: date
    timezone: str

    @property
    def start(self) -> datetime:
        """The first instant of the period (aware)."""
        return datetime.combine(self.first, time(0), tzinfo=ZoneInfo(self.timezone))

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(
            self.last + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.timezone)
        )

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.length)]


def _period_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{field}: {message}",
        errors=[{"loc": ["query", field], "msg": message, "type": "value_error"}],
    )


def period_last_days(*, timezone: str, days: int, today: date) -> Period:
    """The `days` local days ending with `today` (today included)."""
    if not 1 <= days <= MAX_PERIOD_DAYS:
        raise _period_error("days", f"between 1 and {MAX_PERIOD_DAYS}")
    return Period(first=today - timedelta(days=days - 1), last=today, timezone=timezone)


def period_between(*, timezone: str, first: date, last: date) -> Period:
    """The local dates `first`..`last`, both included."""
    if last < first:
        raise _period_error("to", "must not be before from")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise _period_error("to", f"a period covers at most {MAX_PERIOD_DAYS} days")
    return Period(first=first, last=last, timezone=timezone)


@dataclass(frozen=True)
class DayFigures:
    day: date
    revenue: Money
    bookings: int
    orders: int

    @property
    def sales(self) -> int:
        return self.bookings + self.orders


@dataclass(frozen=True)
class TopListing:
    listing_id: int
    title: str
    kind: str
    units: int  # bookings, or items sold
    revenue: Money


@dataclass(frozen=True)
class Funnel:
    started: int
    paid: int

    @property
    def rate_percent(self) -> float | None:
        """Paid ÷ started as a percentage with one decimal; None when nothing started."""
        if not self.started:
            return None
        return round(100 * self.paid / self.started, 1)


@dataclass(frozen=True)
class VendorAnalytics:
    period: Period
    currency: str
    revenue: Money
    refunds: Money
    bookings: int
    orders: int
    unique_customers: int
    top_listings: list[TopListing]
    booking_funnel: Funnel
    order_funnel: Funnel
    daily: list[DayFigures]

    @property
    def net_revenue(self) -> Money:
        return self.revenue - self.refunds

    @property
    def sales(self) -> int:
        return self.bookings + self.orders

    @property
    def average_order_value(self) -> Money:
        if not self.sales:
            return Money.zero(self.currency)
        # Half up, in integers: (2a + n) // 2n.
        return Money((2 * self.revenue.amount + self.sales) // (2 * self.sales), self.currency)


def _int(value: Any) -> int:
    return int(value or 0)


def vendor_analytics(*, vendor: Vendor, period: Period, top: int = TOP_LISTINGS) -> VendorAnalytics:
    """The vendor's figures over `period`, in the vendor's currency.

    Precondition: the caller has checked that the acting user may see this vendor's money
    (an owner or manager, through ``vendor_get_for_staff``)."""
    currency = vendor.currency
    zone = ZoneInfo(period.timezone)
    start, end = period.start, period.end
    bookings = Booking.objects.filter(vendor_id=vendor.pk, currency=currency)
    orders = VendorOrder.objects.filter(vendor_id=vendor.pk, currency=currency)
    paid_in = Q(paid_at__gte=start, paid_at__lt=end)
    started_in = Q(created_at__gte=start, created_at__lt=end)
    zero = Value(0, output_field=IntegerField())

    booking_totals = bookings.filter(paid_in | started_in).aggregate(
        paid=Count("id", filter=paid_in),
        revenue=Coalesce(Sum("price_amount", filter=paid_in), zero),
        started=Count("id", filter=started_in),
        started_paid=Count("id", filter=started_in & Q(paid_at__isnull=False)),
    )
    order_totals = orders.filter(paid_in | started_in).aggregate(
        paid=Count("id", filter=paid_in),
        revenue=Coalesce(Sum("total_amount", filter=paid_in), zero),
        started=Count("id", filter=started_in),
        started_paid=Count("id", filter=started_in & Q(paid_at__isnull=False)),
    )
    # UNION (not UNION ALL) drops a customer who both booked and bought to one row.
    unique_customers = (
        bookings.filter(paid_in)
        .order_by()
        .values_list("customer_id")
        .union(orders.filter(paid_in).order_by().values_list("customer_id"))
        .count()
    )
    refunded = Refund.objects.filter(
        payment__vendor_id=vendor.pk, currency=currency, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Coalesce(Sum("amount"), zero))["total"]

    daily = _daily(bookings.filter(paid_in), orders.filter(paid_in), period, zone, currency)
    top_listings = _top_listings(
        bookings.filter(paid_in),
        OrderLine.objects.filter(
            order__vendor_id=vendor.pk, order__currency=currency, order__paid_at__gte=start
        ).filter(order__paid_at__lt=end),
        currency,
        top,
    )
    return VendorAnalytics(
        period=period,
        currency=currency,
        revenue=Money(_int(booking_totals["revenue"]) + _int(order_totals["revenue"]), currency),
        refunds=Money(_int(refunded), currency),
        bookings=_int(booking_totals["paid"]),
        orders=_int(order_totals["paid"]),
        unique_customers=unique_customers,
        top_listings=top_listings,
        booking_funnel=Funnel(
            started=_int(booking_totals["started"]), paid=_int(booking_totals["started_paid"])
        ),
        order_funnel=Funnel(
            started=_int(order_totals["started"]), paid=_int(order_totals["started_paid"])
        ),
        daily=daily,
    )


def _daily(
    paid_bookings: QuerySet[Booking],
    paid_orders: QuerySet[VendorOrder],
    period: Period,
    zone: ZoneInfo,
    currency: str,
) -> list[DayFigures]:
    """Sales per local day of the period (days without sales included, as zeros)."""
    by_day: dict[date, list[int]] = {day: [0, 0, 0] for day in period.days}
    sources: tuple[tuple[QuerySet[Any], str, int], ...] = (
        (paid_bookings, "price_amount", 1),
        (paid_orders, "total_amount", 2),
    )
    for queryset, amount_field, slot in sources:
        rows = (
            queryset.annotate(day=TruncDate("paid_at", tzinfo=zone))
            .values("day")
            .annotate(count=Count("id"), revenue=Sum(amount_field))
            .order_by("day")
        )
        for row in rows:
            figures = by_day.get(row["day"])
            if figures is None:  # cannot happen: the filter and the truncation agree
                continue
            figures[0] += _int(row["revenue"])
            figures[slot] += _int(row["count"])
    return [
        DayFigures(
            day=day, revenue=Money(values[0], currency), bookings=values[1], orders=values[2]
        )
        for day, values in by_day.items()
    ]


def _top_listings(
    paid_bookings: QuerySet[Booking], paid_lines: QuerySet[OrderLine], currency: str, top: int
) -> list[TopListing]:
    """The best sellers by revenue (ties: more units, then the older listing first).

    Bookings are of services and order lines of products, so no listing appears in both
    lists: the overall top N is among the top N of each."""
    ranked: list[TopListing] = []
    sources: tuple[tuple[QuerySet[Any], Count | Sum, str], ...] = (
        (paid_bookings, Count("id"), "price_amount"),
        (paid_lines, Sum("quantity"), "line_total_amount"),
    )
    for queryset, units, amount in sources:
        rows = (
            queryset.values("listing_id", "listing__title", "listing__kind")
            .annotate(units=units, revenue=Sum(amount))
            .order_by("-revenue", "-units", "listing_id")[:top]
        )
        ranked.extend(
            TopListing(
                listing_id=row["listing_id"],
                title=row["listing__title"],
                kind=row["listing__kind"],
                units=_int(row["units"]),
                revenue=Money(_int(row["revenue"]), currency),
            )
            for row in rows
        )
    ranked.sort(key=lambda item: (-item.revenue.amount, -item.units, item.listing_id))
    return ranked[:top]
