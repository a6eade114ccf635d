"""Platform-wide reads for operators: money figures over a period, and the list of sales.

Every money figure is a sum of journal entries (the ledger is the source of truth),
computed in one grouped query over the period, bucketed by day or month with `Trunc`:

* **GMV** — what customers were charged: the gateway clearing side of capture postings
  (and of their reversals), made positive.
* **Commission** (the platform's net revenue) — every entry on the platform's commission
  account: captures add it, refunds and disputes take their proportional part back.
* **Refunds** — what the platform's refunds account received.
* **Take rate** — net commission ÷ GMV.
* **Sales** — capture postings, split by the kind their reference names ("booking",
  "order"): payments knows references, not bookings or orders.

Figures are per currency: money in different currencies is never added up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Left, StrIndex, Trunc

from agora.core.errors import InvalidInput, NotFound
from agora.core.money import Money
from agora.core.pagination import Page, paginate
from agora.payments.models import (
    JournalEntry,
    OwnerType,
    Payment,
    PaymentStatus,
    Purpose,
    TransactionKind,
)

# Longer periods are shown month by month: a year of daily bars is unreadable.
MAX_DAILY_DAYS = 92
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `first_day` to `last_day`, both included."""

    first_day: date
    last_day: date

    @classmethod
    def of(cls, first_day: date, last_day: date) -> Period:
        if last_day < first_day:
            raise InvalidInput(
                "The period ends before it starts.",
                errors=[{"loc": ["query", "to"], "msg": "before 'from'", "type": "value_error"}],
            )
        if (last_day - first_day).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput(
                f"A period may be at most {MAX_PERIOD_DAYS} days long.",
                errors=[
                    {"loc": ["query", "from"], "msg": "period too long", "type": "value_error"}
                ],
            )
        return cls(first_day, last_day)

    @classmethod
    def last_days(cls, days: int, *, today: date) -> Period:
        return cls.of(today - timedelta(days=days - 1), today)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def granularity(self) -> str:
        return "day" if self.days <= MAX_DAILY_DAYS else "month"

    def buckets(self) -> list[date]:
        """The first day of every bucket in the period, in order."""
        if self.granularity == "day":
            return [self.first_day + timedelta(days=n) for n in range(self.days)]
        months = []
        current = self.first_day.replace(day=1)
        while current <= self.last_day:
            months.append(current)
            current = (current + timedelta(days=32)).replace(day=1)
        return months

    def bucket_label(self, day: date) -> str:
        return day.strftime("%d %b") if self.granularity == "day" else day.strftime("%b %Y")

    def trunc(self, field_name: str) -> Trunc:
        return Trunc(field_name, self.granularity, tzinfo=UTC)


def bucket_day(value: datetime | date) -> date:
    """A Trunc result as the bucket's first day (databases return datetimes or dates)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value


@dataclass(frozen=True)
class MoneyBucket:
    day: date
    gmv: int = 0
    commission: int = 0
    refunds: int = 0
    sales: int = 0


@dataclass(frozen=True)
class CurrencyFigures:
    """One currency's figures over the period; amounts in minor units."""

    currency: str
    gmv: Money
    commission: Money
    processing_fees: Money
    refunds: Money
    sales: int
    sales_by_kind: dict[str, int]
    series: list[MoneyBucket]

    @property
    def take_rate(self) -> Decimal | None:
        """Net commission as a percentage of GMV, two decimals; None without sales."""
        if self.gmv.amount <= 0:
            return None
        rate = Decimal(self.commission.amount * 100) / Decimal(self.gmv.amount)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PlatformMoney:
    period: Period
    currencies: list[CurrencyFigures]  # largest GMV first
    selling_vendors: int  # vendors with at least one sale in the period

    def currency(self, code: str) -> CurrencyFigures | None:
        return next((c for c in self.currencies if c.currency == code), None)


def _reference_kind() -> Left:
    """ "booking" of "booking:12": the text before the first colon."""
    return Left("transaction__reference", StrIndex("transaction__reference", Value(":")) - 1)


def platform_money(*, period: Period) -> PlatformMoney:
    """GMV, commission, fees, refunds and sales per currency and bucket: two queries."""
    from_capture = Q(transaction__kind=TransactionKind.CAPTURE) | Q(
        transaction__reverses__kind=TransactionKind.CAPTURE
    )
    clearing = Q(account__owner_type=OwnerType.GATEWAY, account__purpose=Purpose.GATEWAY_CLEARING)
    platform = Q(account__owner_type=OwnerType.PLATFORM)
    zero = Value(0, output_field=IntegerField())
    rows = (
        JournalEntry.objects.filter(
            transaction__created_at__gte=period.start, transaction__created_at__lt=period.end
        )
        .filter(
            (clearing & from_capture)
            | (
                platform
                & Q(
                    account__purpose__in=(
                        Purpose.COMMISSION,
                        Purpose.PROCESSING_FEES,
                        Purpose.REFUNDS,
                    )
                )
            )
        )
        .values("currency")
        .annotate(
            bucket=period.trunc("transaction__created_at"),
            kind=_reference_kind(),
            captured=Coalesce(Sum("amount", filter=clearing), zero),
            commission=Coalesce(
                Sum("amount", filter=platform & Q(account__purpose=Purpose.COMMISSION)), zero
            ),
            fees=Coalesce(
                Sum("amount", filter=platform & Q(account__purpose=Purpose.PROCESSING_FEES)), zero
            ),
            refunds=Coalesce(
                Sum("amount", filter=platform & Q(account__purpose=Purpose.REFUNDS)), zero
            ),
            sales=Count(
                "transaction",
                filter=clearing & Q(transaction__kind=TransactionKind.CAPTURE),
                distinct=True,
            ),
        )
        .values_list(
            "currency", "bucket", "kind", "captured", "commission", "fees", "refunds", "sales"
        )
        .order_by()
    )
    totals: dict[str, dict[str, int]] = {}
    kinds: dict[str, dict[str, int]] = {}
    series: dict[str, dict[date, MoneyBucket]] = {}
    for currency, bucket, kind, captured, commission, fees, refunds, sales in rows:
        total = totals.setdefault(
            currency, {"gmv": 0, "commission": 0, "fees": 0, "refunds": 0, "sales": 0}
        )
        gmv = -int(captured)
        total["gmv"] += gmv
        total["commission"] += int(commission)
        total["fees"] += int(fees)
        total["refunds"] += int(refunds)
        total["sales"] += int(sales)
        if sales:
            by_kind = kinds.setdefault(currency, {})
            by_kind[kind or "other"] = by_kind.get(kind or "other", 0) + int(sales)
        day = bucket_day(bucket)
        per_day = series.setdefault(currency, {})
        before = per_day.get(day, MoneyBucket(day))
        per_day[day] = MoneyBucket(
            day,
            gmv=before.gmv + gmv,
            commission=before.commission + int(commission),
            refunds=before.refunds + int(refunds),
            sales=before.sales + int(sales),
        )
    buckets = period.buckets()
    currencies = [
        CurrencyFigures(
            currency=currency,
            gmv=Money(total["gmv"], currency),
            commission=Money(total["commission"], currency),
            processing_fees=Money(total["fees"], currency),
            refunds=Money(total["refunds"], currency),
            sales=total["sales"],
            sales_by_kind=dict(sorted(kinds.get(currency, {}).items())),
            series=[series[currency].get(day, MoneyBucket(day)) for day in buckets],
        )
        for currency, total in totals.items()
    ]
    currencies.sort(key=lambda c: (-c.gmv.amount, c.currency))
    selling = (
        Payment.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .values("vendor_id")
        .distinct()
        .count()
    )
    return PlatformMoney(period=period, currencies=currencies, selling_vendors=selling)


# --- sales (for refunds and disputes) ------------------------------------------------------


def sales_list(
    *,
    status: str | None = None,
    vendor_id: int | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Payment]:
    """Sales, newest first: every vendor's, or `vendor_id`'s; `status` is a PaymentStatus
    value or None."""
    if status and status not in PaymentStatus.values:
        raise InvalidInput(
            f"status must be one of {', '.join(PaymentStatus.values)}.",
            errors=[{"loc": ["query", "status"], "msg": "unknown status", "type": "enum"}],
        )
    sales: QuerySet[Payment] = Payment.objects.all()
    if status:
        sales = sales.filter(status=status)
    if vendor_id is not None:
        sales = sales.filter(vendor_id=vendor_id)
    return paginate(sales, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def sale_get(*, reference: str) -> Payment:
    """The sale behind `reference` ("booking:12", "order:7"); NotFound otherwise."""
    sale = Payment.objects.filter(reference=reference).first()
    if sale is None:
        raise NotFound(f"No payment for {reference}.")
    return sale
