"""How the customer's pages show money, times, statuses and receipts.

Views hand templates plain rows built here, so templates need no custom tags and every
figure on a page is formatted one way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agora.bookings.models import Booking, BookingStatus, CancellationPolicy
from agora.bookings.selectors import HistoryItem
from agora.core import clock
from agora.core.money import Money
from agora.orders.models import OrderStatus
from agora.payments.models import Payment

# Sandbox payment methods (Stripe's test names, API.md) offered on the payment forms.
SANDBOX_CARDS = (
    ("pm_card_visa", "Visa ending 4242 (succeeds)"),
    ("pm_card_mastercard", "Mastercard ending 4444 (succeeds)"),
    ("pm_card_chargeDeclined", "Card that is declined"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Card with insufficient funds"),
)

# Statuses still moving: the dashboard keeps polling while any item is in one of these.
LIVE_BOOKING_STATUSES = frozenset(
    {BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.ACCEPTED, BookingStatus.IN_PROGRESS}
)
LIVE_ORDER_STATUSES = frozenset(
    {
        OrderStatus.RESERVED,
        OrderStatus.PAID,
        OrderStatus.ACCEPTED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
    }
)

BOOKING_STATUS_TEXT = {
    "held": "Held — waiting for your payment",
    "pending": "Paid — waiting for the vendor to accept",
    "accepted": "Confirmed by the vendor",
    "in_progress": "Work in progress",
    "completed": "Completed",
    "reviewed": "Completed and reviewed",
    "declined": "Declined by the vendor (refunded)",
    "cancelled": "Cancelled",
    "expired": "Expired",
    "no_show": "Marked as no-show",
    "rescheduled": "Moved to another time",
}

ORDER_STATUS_TEXT = {
    "reserved": "Reserved — waiting for payment",
    "paid": "Paid — waiting for the vendor",
    "accepted": "Accepted — being prepared",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "expired": "Expired (not paid in time)",
}


def money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def local_time(moment: datetime, timezone: str) -> str:
    """`Tue 6 Jan 2026, 10:00` in the vendor's own time zone (where the work happens)."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %-d %b %Y, %H:%M")


def local_span(start: datetime, end: datetime, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    return f"{local_time(start, timezone)}–{end.astimezone(zone):%H:%M} ({timezone})"


def booking_status_text(status: str) -> str:
    return BOOKING_STATUS_TEXT.get(status, status)


def order_status_text(status: str) -> str:
    return ORDER_STATUS_TEXT.get(status, status)


def hold_is_live(booking: Booking) -> bool:
    return (
        booking.status == BookingStatus.HELD
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > clock.now()
    )


def display_status(booking: Booking) -> str:
    """A held booking past its expiry reads as expired even before the sweeping task runs."""
    if booking.status == BookingStatus.HELD and not hold_is_live(booking):
        return BookingStatus.EXPIRED
    return booking.status


@dataclass(frozen=True)
class PolicyText:
    free_until_hours: int
    late_fee_percent: str
    acceptance_timeout_hours: int

    @property
    def summary(self) -> str:
        return (
            f"Free cancellation until {self.free_until_hours} hours before the start; "
            f"after that {self.late_fee_percent} of the price is kept. Vendor cancellations "
            "are always refunded in full."
        )


def policy_text(policy: CancellationPolicy | None) -> PolicyText:
    policy = policy or CancellationPolicy()
    whole, rest = divmod(policy.late_fee_bp, 100)
    percent = f"{whole} %" if rest == 0 else f"{policy.late_fee_bp / 100:g} %"
    return PolicyText(policy.free_until_hours, percent, policy.acceptance_timeout_hours)


def free_cancellation_deadline(booking: Booking, policy: CancellationPolicy | None) -> datetime:
    policy = policy or CancellationPolicy()
    return booking.start - timedelta(hours=policy.free_until_hours)


@dataclass(frozen=True)
class TimelineStep:
    status: str
    text: str
    at: str
    by: str
    reason: str


def timeline(
    history: Iterable[HistoryItem], *, customer_id: int, timezone: str, texts: dict[str, str]
) -> list[TimelineStep]:
    steps = []
    for item in history:
        if item.actor_id is None:
            by = "automatically"
        elif item.actor_id == customer_id:
            by = "by you"
        else:
            by = "by the vendor"
        text = texts.get(item.status, item.status.replace("_", " "))
        if item.status == "rescheduled" and "to_start" in item.data:
            moved_to = datetime.fromisoformat(item.data["to_start"])
            text = f"Moved to {local_time(moved_to, timezone)}"
        steps.append(
            TimelineStep(
                status=item.status,
                text=text,
                at=local_time(item.at, timezone),
                by=by,
                reason=item.reason,
            )
        )
    return steps


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    amount: str


@dataclass(frozen=True)
class Receipt:
    """What the customer paid and got back for some references (a booking, a checkout's
    vendor orders): one charge, its parts, its refunds."""

    charge_id: str
    payment_method: str
    paid_at: str
    parts: list[ReceiptLine]
    refunds: list[ReceiptLine]
    total_paid: str
    total_refunded: str
    net: str


def receipt_for(labels: dict[str, str], *, timezone: str) -> Receipt | None:
    """`labels` maps each reference to how the receipt names it. Two queries: the
    payments of the references and their refunds."""
    payments = list(
        Payment.objects.filter(reference__in=list(labels))
        .prefetch_related("refunds")
        .order_by("created_at", "id")
    )
    if not payments:
        return None
    currency = payments[0].currency
    paid = sum(p.gross_amount for p in payments)
    refunds = [refund for p in payments for refund in p.refunds.all()]
    refunded = sum(r.amount for r in refunds)
    method_names = dict(SANDBOX_CARDS)
    return Receipt(
        charge_id=payments[0].charge_id,
        payment_method=method_names.get(payments[0].payment_method, payments[0].payment_method),
        paid_at=local_time(payments[0].created_at, timezone),
        parts=[
            ReceiptLine(labels[p.reference], money(p.gross_amount, p.currency)) for p in payments
        ],
        refunds=[
            ReceiptLine(
                f"{local_time(r.created_at, timezone)} — {r.reason}", money(r.amount, r.currency)
            )
            for r in sorted(refunds, key=lambda r: (r.created_at, r.pk))
        ],
        total_paid=money(paid, currency),
        total_refunded=money(refunded, currency),
        net=money(paid - refunded, currency),
    )
