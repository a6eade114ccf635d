"""A vendor order after payment: accept, ship with tracking, deliver, complete — or
cancel with restock and refund. Escalation and automatic completion run as tasks."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, InvalidTransition
from agora.orders import stock
from agora.orders.models import (
    MovementKind,
    OrderStatus,
    ReservationStatus,
    StockReservation,
    VendorOrder,
)
from agora.orders.states import ORDER_LIFECYCLE
from agora.orders.stock import ItemKey
from agora.payments import services as payments

ACCEPT_WITHIN_HOURS = 24
OPERATOR_AFTER_HOURS = 48
AUTO_CANCEL_AFTER_HOURS = 72
AUTO_COMPLETE_AFTER_DAYS = 7


def _locked(order: VendorOrder) -> VendorOrder:
    return VendorOrder.objects.select_for_update().select_related("vendor").get(pk=order.pk)


@transaction.atomic
def order_accept(*, actor: User, order: VendorOrder) -> VendorOrder:
    return ORDER_LIFECYCLE.apply(
        _locked(order), OrderStatus.ACCEPTED, actor=actor, updates={"accepted_at": clock.now()}
    )


@transaction.atomic
def order_ship(
    *, actor: User, order: VendorOrder, carrier: str, tracking_number: str
) -> VendorOrder:
    if not carrier.strip() or not tracking_number.strip():
        raise InvalidInput(
            "Give the carrier and the tracking number.",
            errors=[{"loc": ["body", "tracking_number"], "msg": "required", "type": "missing"}],
        )
    return ORDER_LIFECYCLE.apply(
        _locked(order),
        OrderStatus.SHIPPED,
        actor=actor,
        data={"carrier": carrier, "tracking_number": tracking_number},
        updates={
            "carrier": carrier.strip(),
            "tracking_number": tracking_number.strip(),
            "shipped_at": clock.now(),
        },
    )


@transaction.atomic
def order_deliver(*, actor: User, order: VendorOrder) -> VendorOrder:
    return ORDER_LIFECYCLE.apply(
        _locked(order), OrderStatus.DELIVERED, actor=actor, updates={"delivered_at": clock.now()}
    )


@transaction.atomic
def order_complete(*, actor: User | None, order: VendorOrder, reason: str = "") -> VendorOrder:
    """Delivery confirmed (by the customer, or automatically): starts the escrow clock."""
    return ORDER_LIFECYCLE.apply(
        _locked(order),
        OrderStatus.COMPLETED,
        actor=actor,
        reason=reason,
        updates={"completed_at": clock.now()},
    )


def _restock(order: VendorOrder) -> None:
    for line in order.lines.order_by("listing_id", "variant_id"):
        key = ItemKey(line.listing_id, line.variant_id or 0)
        stock.give_back(key, line.quantity)
        stock.record(key, MovementKind.RETURN, line.quantity, order.reference).save()


@transaction.atomic
def order_cancel(
    *, actor: User | None, order: VendorOrder, reason: str = "", by_customer: bool = False
) -> VendorOrder:
    """Cancel before shipping: stock goes back and a paid order is refunded in full. A
    customer may cancel only until the vendor accepts."""
    order = _locked(order)
    ORDER_LIFECYCLE.check(order.status, OrderStatus.CANCELLED)
    if by_customer and order.status not in (OrderStatus.RESERVED, OrderStatus.PAID):
        raise InvalidTransition(
            "The vendor has accepted this order; ask them to cancel it.",
            extra={"from": order.status, "to": OrderStatus.CANCELLED},
        )
    if order.paid_at is not None:
        payments.refund_create(
            reference=order.reference,
            amount=None,
            reason="order cancelled",
            actor=actor,
            idempotency_key=f"{order.reference}:refund:cancelled",
        )
    if order.status == OrderStatus.RESERVED:
        # The units are held by the checkout's live reservations of this vendor's lines
        # (other vendors' parts keep theirs). Give back only what a conditional release
        # frees: past its expiry, a reservation may already have been released by the next
        # buyer — its units back in stock and perhaps sold again.
        for reservation in StockReservation.objects.filter(
            checkout_id=order.checkout_id,
            status=ReservationStatus.LIVE,
            listing__vendor_id=order.vendor_id,
        ).order_by("listing_id", "variant_id"):
            stock.release(reservation, reference=order.reference)
    else:
        _restock(order)
    return ORDER_LIFECYCLE.apply(
        order,
        OrderStatus.CANCELLED,
        actor=actor,
        reason=reason,
        updates={"cancelled_at": clock.now()},
    )


# --- automatic moves -------------------------------------------------------------------------


def escalate_unaccepted(*, limit: int = 200) -> int:
    """Paid orders the vendor has not accepted: after ACCEPT_WITHIN_HOURS remind the vendor,
    after OPERATOR_AFTER_HOURS tell the operators, after AUTO_CANCEL_AFTER_HOURS cancel with
    a full refund and restock."""
    now = clock.now()
    acted = 0
    for order in VendorOrder.objects.filter(status=OrderStatus.PAID).select_related("vendor")[
        :limit
    ]:
        assert order.paid_at is not None
        waited = now - order.paid_at
        if waited >= timedelta(hours=AUTO_CANCEL_AFTER_HOURS):
            order_cancel(actor=None, order=order, reason="not accepted in time")
            acted += 1
        elif waited >= timedelta(hours=OPERATOR_AFTER_HOURS) and order.escalation_level < 2:
            _escalate(order, level=2)
            acted += 1
        elif waited >= timedelta(hours=ACCEPT_WITHIN_HOURS) and order.escalation_level < 1:
            _escalate(order, level=1)
            acted += 1
    return acted


def _escalate(order: VendorOrder, *, level: int) -> None:
    with transaction.atomic():
        if not VendorOrder.objects.filter(pk=order.pk, escalation_level__lt=level).update(
            escalation_level=level
        ):
            return
        audit_log(actor=None, action="order.escalated", target=order, data={"level": level})
        vendor_email = order.vendor.contact_email
        if level == 1 and vendor_email:
            transaction.on_commit(
                lambda: send_mail(
                    f"Order {order.pk} is waiting for you",
                    f"Order {order.pk} was paid {ACCEPT_WITHIN_HOURS} hours ago. Accept it, or it "
                    f"is cancelled and refunded after {AUTO_CANCEL_AFTER_HOURS} hours.",
                    None,
                    [vendor_email],
                    fail_silently=True,
                )
            )
        if level == 2:
            # The marketplace's operators are its users with the role; ADMINS (the site's
            # technical contacts) are told too when a deployment sets them.
            recipients = sorted(
                {
                    *User.objects.filter(is_operator=True, is_active=True).values_list(
                        "email", flat=True
                    ),
                    *(email for _, email in settings.ADMINS),
                }
            )
            if recipients:
                transaction.on_commit(
                    lambda: send_mail(
                        f"Order {order.pk} not accepted by {order.vendor.name}",
                        f"Paid {OPERATOR_AFTER_HOURS}+ hours ago and still not accepted. "
                        f"It is cancelled and refunded at {AUTO_CANCEL_AFTER_HOURS} hours.",
                        None,
                        recipients,
                        fail_silently=True,
                    )
                )


def complete_delivered(*, limit: int = 500) -> int:
    cutoff = clock.now() - timedelta(days=AUTO_COMPLETE_AFTER_DAYS)
    done = 0
    for order in VendorOrder.objects.filter(status=OrderStatus.DELIVERED, delivered_at__lte=cutoff)[
        :limit
    ]:
        order_complete(actor=None, order=order, reason="completed automatically after delivery")
        done += 1
    return done


def release_due_escrow(*, limit: int = 500) -> int:
    cutoff = clock.now() - timedelta(hours=settings.AGORA_ESCROW_RELEASE_HOURS)
    released = 0
    for order_id in list(
        VendorOrder.objects.filter(
            status=OrderStatus.COMPLETED, completed_at__lte=cutoff, escrow_released_at__isnull=True
        ).values_list("pk", flat=True)[:limit]
    ):
        with transaction.atomic():
            order = VendorOrder.objects.select_for_update().get(pk=order_id)
            if order.escrow_released_at is None and payments.escrow_release(
                reference=order.reference
            ):
                VendorOrder.objects.filter(pk=order.pk).update(escrow_released_at=clock.now())
                released += 1
    return released
