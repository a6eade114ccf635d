"""The operator overview's figures: payments' money figures plus the activity counts only
the apps above payments know (bookings, orders, vendors, sign-ups).

Payments knows no bookings or orders (ARCHITECTURE.md), so the counts that need them are
read here, in the web layer that may import every app — each one grouped query over the
period, bucketed with the same `Trunc` as the money figures, on SQLite and PostgreSQL.

Definitions, so the numbers can be checked by hand:

* **Bookings / orders**: those created in the period that were paid (an abandoned hold or
  an unpaid reservation is not a booking or an order yet).
* **Completion rate**: of those bookings and orders that have reached an outcome, the
  share fulfilled — a booking completed (or reviewed), an order delivered (or completed) —
  against declined, cancelled, no-show, expired and refunded ones. Those still under way
  are left out; None when none has an outcome yet.
* **Active vendors**: vendors whose status is active now; **selling vendors**: vendors with
  at least one sale in the period; **pending applications**: the approval queue now.
* **New customers**: people who signed up in the period (operators excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count

from agora.accounts.models import User
from agora.bookings.models import Booking, BookingStatus
from agora.orders.models import OrderStatus, VendorOrder
from agora.payments.platform_figures import Period, PlatformMoney, bucket_day, platform_money
from agora.vendors.models import Vendor, VendorStatus

FULFILLED = frozenset(
    {BookingStatus.COMPLETED, BookingStatus.REVIEWED, OrderStatus.DELIVERED, OrderStatus.COMPLETED}
)
BOOKING_FAILED = frozenset(
    {
        BookingStatus.DECLINED,
        BookingStatus.CANCELLED,
        BookingStatus.NO_SHOW,
        BookingStatus.EXPIRED,
    }
)
ORDER_FAILED = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.EXPIRED})


@dataclass(frozen=True)
class ActivityBucket:
    day: date
    bookings: int = 0
    orders: int = 0


@dataclass(frozen=True)
class Overview:
    period: Period
    money: PlatformMoney
    bookings: int
    orders: int
    bookings_by_status: dict[str, int]
    orders_by_status: dict[str, int]
    fulfilled: int
    failed: int
    series: list[ActivityBucket]
    active_vendors: int
    pending_vendors: int
    suspended_vendors: int
    new_customers: int

    @property
    def completion_rate(self) -> Decimal | None:
        settled = self.fulfilled + self.failed
        if not settled:
            return None
        rate = Decimal(self.fulfilled * 100) / Decimal(settled)
        return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _paid_in(period: Period) -> dict[str, object]:
    return {"created_at__gte": period.start, "created_at__lt": period.end, "paid_at__isnull": False}


def overview(*, period: Period) -> Overview:
    """Everything the overview shows: six queries whatever the period."""
    money = platform_money(period=period)
    per_day: dict[date, dict[str, int]] = {}
    by_status: dict[str, dict[str, int]] = {"bookings": {}, "orders": {}}
    fulfilled = failed = 0
    for name, model, failures in (
        ("bookings", Booking, BOOKING_FAILED),
        ("orders", VendorOrder, ORDER_FAILED),
    ):
        rows = (
            model.objects.filter(**_paid_in(period))
            .annotate(bucket=period.trunc("created_at"))
            .values_list("bucket", "status")
            .annotate(count=Count("id"))
            .order_by()
        )
        for bucket, status, count in rows:
            day = per_day.setdefault(bucket_day(bucket), {"bookings": 0, "orders": 0})
            day[name] += count
            by_status[name][status] = by_status[name].get(status, 0) + count
            if status in FULFILLED:
                fulfilled += count
            elif status in failures:
                failed += count
    vendors = dict(Vendor.objects.values_list("status").annotate(count=Count("id")).order_by())
    new_customers = User.objects.filter(
        date_joined__gte=period.start, date_joined__lt=period.end, is_operator=False
    ).count()
    return Overview(
        period=period,
        money=money,
        bookings=sum(by_status["bookings"].values()),
        orders=sum(by_status["orders"].values()),
        bookings_by_status=dict(sorted(by_status["bookings"].items())),
        orders_by_status=dict(sorted(by_status["orders"].items())),
        fulfilled=fulfilled,
        failed=failed,
        series=[ActivityBucket(day, **per_day.get(day, {})) for day in period.buckets()],
        active_vendors=vendors.get(VendorStatus.ACTIVE, 0),
        pending_vendors=vendors.get(VendorStatus.PENDING, 0),
        suspended_vendors=vendors.get(VendorStatus.SUSPENDED, 0),
        new_customers=new_customers,
    )
