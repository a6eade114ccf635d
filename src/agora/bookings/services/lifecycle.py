"""A booking's life after the hold: payment, the vendor's decision, the work, and every
way it can end. Each move goes through BOOKING_LIFECYCLE (audited, conditional UPDATE);
each one that moves money calls the payments services in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from agora.accounts.models import User
from agora.bookings import timers
from agora.bookings.errors import BookingError, BookingErrorCode
from agora.bookings.models import Booking, BookingStatus, CancellationPolicy
from agora.bookings.services.announce import (
    announce,
    first_name,
    money_data,
    review_path,
    review_until,
)
from agora.bookings.states import BOOKING_LIFECYCLE
from agora.core import clock
from agora.core.errors import Forbidden, InvalidTransition, NotFound
from agora.core.locking import lock_row, retry_when_busy
from agora.core.money import Money
from agora.payments import services as payments
from agora.payments.models import Refund


def _locked(booking: Booking) -> Booking:
    """The booking's row, locked and fresh (the caller's copy may be stale).

    Only the booking's own row: every move decides on it alone. Its listing, category and
    vendor come along for the payment's commission and the event's words, read but not
    locked — a category is shared by every vendor, so locking it made one vendor's
    payment wait behind another's transaction (and joined locks are how deadlocks start).
    """
    locked = lock_row(
        Booking.objects.filter(pk=booking.pk).select_related(
            "listing", "listing__category", "vendor"
        )
    )
    if locked is None:
        raise NotFound("No such booking.")
    return locked


def _commission_inputs(booking: Booking) -> payments.SaleContext:
    return payments.SaleContext(
        vendor_id=booking.vendor_id,
        vendor_tier=booking.vendor.tier,
        category_path=booking.listing.category.path,
        listing_id=booking.listing_id,
    )


@retry_when_busy()
def booking_pay(
    *, customer: User, booking: Booking, payment_method: str, idempotency_key: str
) -> Booking:
    """Pay a held booking. Declined → PaymentError (402) and the hold stays as it was."""
    booking = _locked(booking)
    if booking.customer_id != customer.pk:
        raise Forbidden("Only the customer who holds the booking pays for it.")
    now = clock.now()
    # An unpaid hold past its expiry is `held` until a booker or the sweeping task marks
    # it `expired`; the customer gets the same answer either way.
    if (
        booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED)
        and booking.paid_at is None
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now
    ):
        raise BookingError(
            "The hold has expired; book the slot again.", code=BookingErrorCode.HOLD_EXPIRED
        )
    if booking.status != BookingStatus.HELD:
        raise InvalidTransition(
            f"Only a held booking can be paid; this one is {booking.status}.",
            extra={"from": booking.status, "to": "paid"},
        )
    payment = payments.payment_collect(
        reference=booking.reference,
        amount=Money(booking.price_amount, booking.currency),
        payment_method=payment_method,
        sale=_commission_inputs(booking),
        idempotency_key=f"{booking.reference}:pay:{idempotency_key}",
    )
    auto = booking.listing.auto_accept
    BOOKING_LIFECYCLE.apply(
        booking,
        BookingStatus.ACCEPTED if auto else BookingStatus.PENDING,
        actor=customer,
        reason="paid; accepted automatically" if auto else "paid",
        data={"payment_reference": payment.charge_id},
        updates={
            "paid_at": now,
            "payment_reference": payment.charge_id,
            "accepted_at": now if auto else None,
        },
    )
    # The customer's receipt and, for the vendor, a new booking (to accept, unless the
    # listing accepts automatically).
    announce(
        "booking.paid",
        booking,
        customer_name=first_name(customer.name),
        amount_paid=money_data(Money(booking.price_amount, booking.currency)),
        payment_reference=payment.charge_id,
        auto_accepted=auto,
        receipt_url=f"/account/bookings/{booking.pk}/receipt/",
    )
    timers.after_payment(booking=booking)
    return booking


def _refund(
    booking: Booking, *, amount: Money | None, reason: str, actor: User | None
) -> Refund | None:
    """Refund a paid booking; None when it was not paid or nothing was left to refund.
    The refund is told in the move's own event (`booking.cancelled` with its `refund`),
    so payments does not announce it again."""
    if booking.paid_at is None:
        return None
    return payments.refund_create(
        reference=booking.reference,
        amount=amount,
        reason=reason,
        actor=actor,
        idempotency_key=f"{booking.reference}:refund:{reason}",
        announce=False,
    )


def _refunded(refund: Refund | None) -> dict[str, Any]:
    """The event's `refund` (a Money dict), when there was one."""
    if refund is None:
        return {}
    return {"refund": money_data(Money(refund.amount, refund.currency))}


@retry_when_busy()
def booking_accept(*, actor: User, booking: Booking) -> Booking:
    """The vendor accepts a paid request. held → accepted is the machine's move for
    auto-accepting listings inside `booking_pay`; a vendor accepting an unpaid hold would
    confirm a booking nobody paid for (and that could then never be paid)."""
    booking = _locked(booking)
    if booking.status != BookingStatus.PENDING:
        raise InvalidTransition(
            f"Only a paid booking awaiting the vendor can be accepted; this one is "
            f"{booking.status}.",
            extra={"from": booking.status, "to": BookingStatus.ACCEPTED},
        )
    BOOKING_LIFECYCLE.apply(
        booking, BookingStatus.ACCEPTED, actor=actor, updates={"accepted_at": clock.now()}
    )
    announce("booking.accepted", booking)
    return booking


@retry_when_busy()
def booking_decline(*, actor: User, booking: Booking, reason: str = "") -> Booking:
    """The vendor declines: the customer is refunded in full."""
    booking = _locked(booking)
    BOOKING_LIFECYCLE.check(booking.status, BookingStatus.DECLINED)
    refund = _refund(booking, amount=None, reason="declined", actor=actor)
    BOOKING_LIFECYCLE.apply(booking, BookingStatus.DECLINED, actor=actor, reason=reason)
    announce("booking.declined", booking, reason=reason, **_refunded(refund))
    return booking


@retry_when_busy()
def booking_start(*, actor: User, booking: Booking) -> Booking:
    booking = _locked(booking)
    BOOKING_LIFECYCLE.apply(booking, BookingStatus.IN_PROGRESS, actor=actor)
    announce("booking.started", booking)
    return booking


@retry_when_busy()
def booking_complete(*, actor: User, booking: Booking) -> Booking:
    """Done: starts the escrow clock (released AGORA_ESCROW_RELEASE_HOURS later)."""
    booking = _locked(booking)
    BOOKING_LIFECYCLE.apply(
        booking, BookingStatus.COMPLETED, actor=actor, updates={"completed_at": clock.now()}
    )
    # The customer is asked for a review (the page to write it, and until when).
    announce(
        "booking.completed",
        booking,
        review_url=review_path(booking),
        review_until=review_until(booking),
    )
    timers.after_completion(booking=booking)
    return booking


def booking_mark_reviewed(*, actor: User, booking: Booking, review_id: int) -> Booking:
    """completed → reviewed, when its customer's review is stored (reviews.services calls
    it in the review's transaction, with the booking's row already locked)."""
    return BOOKING_LIFECYCLE.apply(
        booking, BookingStatus.REVIEWED, actor=actor, data={"review_id": review_id}
    )


@retry_when_busy()
def booking_no_show(*, actor: User, booking: Booking) -> Booking:
    """The customer did not come. Only once the start has passed; nothing is refunded."""
    booking = _locked(booking)
    BOOKING_LIFECYCLE.check(booking.status, BookingStatus.NO_SHOW)
    if clock.now() < booking.start:
        raise InvalidTransition(
            "A booking can be marked no-show only after its start.",
            extra={"from": booking.status, "to": BookingStatus.NO_SHOW},
        )
    BOOKING_LIFECYCLE.apply(booking, BookingStatus.NO_SHOW, actor=actor)
    announce("booking.no_show", booking)
    return booking


def cancellation_fee(
    booking: Booking, *, by_vendor: bool, policy: CancellationPolicy | None
) -> Money:
    """What the customer forfeits: nothing when the vendor cancels, when nothing was paid,
    or when cancelling before the free-cancellation deadline; otherwise the late fee."""
    zero = Money(0, booking.currency)
    if by_vendor or booking.paid_at is None or booking.status == BookingStatus.PENDING:
        return zero
    policy = policy or CancellationPolicy()
    deadline = booking.start - timedelta(hours=policy.free_until_hours)
    if clock.now() < deadline:
        return zero
    return Money(booking.price_amount, booking.currency).percent(policy.late_fee_bp)


@retry_when_busy()
def booking_cancel(*, actor: User, booking: Booking, by_vendor: bool, reason: str = "") -> Booking:
    booking = _locked(booking)
    BOOKING_LIFECYCLE.check(booking.status, BookingStatus.CANCELLED)
    policy = CancellationPolicy.objects.filter(vendor_id=booking.vendor_id).first()
    fee = cancellation_fee(booking, by_vendor=by_vendor, policy=policy)
    refund = Money(booking.price_amount - fee.amount, booking.currency)
    refunded = None
    if refund.amount > 0:
        refunded = _refund(booking, amount=refund, reason="cancelled", actor=actor)
    by = "vendor" if by_vendor else "customer"
    data: dict[str, Any] = {"by": by, "fee": fee.amount}
    was_paid = booking.paid_at is not None
    BOOKING_LIFECYCLE.apply(
        booking,
        BookingStatus.CANCELLED,
        actor=actor,
        reason=reason,
        data=data,
        updates={"cancelled_at": clock.now(), "cancellation_fee_amount": fee.amount},
    )
    # An unpaid hold given up concerns nobody else: the vendor never had the booking.
    if was_paid:
        words: dict[str, Any] = {"by": by, "reason": reason, **_refunded(refunded)}
        if fee.amount:
            words["fee"] = money_data(fee)
        if actor.pk == booking.customer_id:
            words["customer_name"] = first_name(actor.name)
        announce("booking.cancelled", booking, **words)
    return booking


# --- automatic moves (tasks) ----------------------------------------------------------------


def expire_stale_holds(*, limit: int = 500) -> int:
    """Held bookings past their expiry → expired. The seat was already free to bookers."""
    now = clock.now()
    expired = 0
    ids = list(
        Booking.objects.filter(status=BookingStatus.HELD, hold_expires_at__lte=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    for booking_id in ids:
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update()
                .filter(pk=booking_id, status=BookingStatus.HELD)
                .first()
            )
            if booking is not None:
                BOOKING_LIFECYCLE.apply(
                    booking, BookingStatus.EXPIRED, actor=None, reason="hold expired"
                )
                expired += 1
    return expired


def expire_unanswered(*, limit: int = 200) -> int:
    """Pending bookings the vendor did not answer within the acceptance timeout → expired,
    refunded in full. Only bookings already due are read, oldest first, so bookings still
    inside a longer timeout never crowd due ones out of the batch."""
    now = clock.now()
    default_hours = CancellationPolicy().acceptance_timeout_hours
    vendors_by_hours: dict[int, list[int]] = defaultdict(list)
    for vendor_id, hours in CancellationPolicy.objects.values_list(
        "vendor_id", "acceptance_timeout_hours"
    ):
        vendors_by_hours[hours].append(vendor_id)
    with_policy = [vendor_id for ids in vendors_by_hours.values() for vendor_id in ids]
    due = Q(paid_at__lte=now - timedelta(hours=default_hours)) & ~Q(vendor_id__in=with_policy)
    for hours, vendor_ids in vendors_by_hours.items():
        due |= Q(vendor_id__in=vendor_ids, paid_at__lte=now - timedelta(hours=hours))
    done = 0
    candidates = Booking.objects.filter(due, status=BookingStatus.PENDING, paid_at__isnull=False)
    for booking in candidates.order_by("paid_at", "pk")[:limit]:
        with transaction.atomic():
            fresh = _locked(booking)
            if fresh.status != BookingStatus.PENDING:
                continue
            refund = _refund(fresh, amount=None, reason="not accepted in time", actor=None)
            BOOKING_LIFECYCLE.apply(
                fresh, BookingStatus.EXPIRED, actor=None, reason="not accepted in time"
            )
            # Only this timeout is announced: a lapsed unpaid hold (expire_stale_holds)
            # took nobody's money and the vendor never saw it.
            announce("booking.expired", fresh, reason="not accepted in time", **_refunded(refund))
            done += 1
    return done


def release_due_escrow(*, limit: int = 500) -> int:
    """Bookings whose money is the vendor's, past the escrow window: funds move to the
    vendor's available balance (unless a dispute froze them — payments refuses and we try
    again later). The vendor's money is the price of a completed booking (counted from
    completion), of a no-show (from the booked end), and the fee kept from a late
    cancellation (from the cancellation)."""
    from django.conf import settings

    cutoff = clock.now() - timedelta(hours=settings.AGORA_ESCROW_RELEASE_HOURS)
    released = 0
    due = Booking.objects.filter(
        Q(status__in=[BookingStatus.COMPLETED, BookingStatus.REVIEWED], completed_at__lte=cutoff)
        | Q(status=BookingStatus.NO_SHOW, end__lte=cutoff)
        | Q(
            status=BookingStatus.CANCELLED,
            cancellation_fee_amount__gt=0,
            cancelled_at__lte=cutoff,
        ),
        escrow_released_at__isnull=True,
        paid_at__isnull=False,
    ).values_list("pk", flat=True)[:limit]
    for booking_id in list(due):
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(pk=booking_id)
            if booking.escrow_released_at is not None:
                continue
            if payments.escrow_release(reference=booking.reference):
                Booking.objects.filter(pk=booking.pk).update(escrow_released_at=clock.now())
                released += 1
    return released


@retry_when_busy()
def booking_confirm_pickup(*, actor: User, booking: Booking) -> Booking:
    booking = _locked(booking)
    if not booking.pickup:
        raise InvalidTransition("This booking has no pickup to confirm.")
    if booking.status not in (BookingStatus.PENDING, BookingStatus.ACCEPTED):
        raise InvalidTransition(f"A {booking.status} booking's pickup cannot be confirmed.")
    Booking.objects.filter(pk=booking.pk).update(pickup_confirmed_at=clock.now())
    booking.pickup_confirmed_at = clock.now()
    from agora.core.audit import audit_log

    audit_log(actor=actor, action="booking.pickup_confirmed", target=booking)
    return booking
