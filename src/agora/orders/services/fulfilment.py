"""A vendor order after payment: accept, ship with tracking, deliver, complete — or
cancel with restock and refund. Escalation and automatic completion run as tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from agora.accounts.models import User
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidInput, InvalidTransition, NotFound
from agora.core.locking import lock_row, retry_when_busy
from agora.orders import stock, timers
from agora.orders.models import (
    MovementKind,
    OrderStatus,
    ReservationStatus,
    StockReservation,
    VendorOrder,
)
from agora.orders.services.announce import announce, first_name, refunded
from agora.orders.states import ORDER_LIFECYCLE
from agora.orders.stock import ItemKey
from agora.payments import services as payments

ACCEPT_WITHIN_HOURS = 24
OPERATOR_AFTER_HOURS = 48
AUTO_CANCEL_AFTER_HOURS = 72
AUTO_COMPLETE_AFTER_DAYS = 7


def _locked(order: VendorOrder) -> VendorOrder:
    """The order's own row, locked and fresh; its vendor read along, not locked (a
    vendor's row is not what any move of one of its orders decides on)."""
    locked = lock_row(VendorOrder.objects.filter(pk=order.pk).select_related("vendor"))
    if locked is None:
        raise NotFound("No such order.")
    return locked


@retry_when_busy()
def order_accept(*, actor: User, order: VendorOrder) -> VendorOrder:
    order = ORDER_LIFECYCLE.apply(
        _locked(order), OrderStatus.ACCEPTED, actor=actor, updates={"accepted_at": clock.now()}
    )
    announce("order.accepted", order)
    return order


@retry_when_busy()
def order_ship(
    *, actor: User, order: VendorOrder, carrier: str, tracking_number: str
) -> VendorOrder:
    if not carrier.strip() or not tracking_number.strip():
        raise InvalidInput(
            "Give the carrier and the tracking number.",
            errors=[{"loc": ["body", "tracking_number"], "msg": "required", "type": "missing"}],
        )
    order = ORDER_LIFECYCLE.apply(
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
    announce("order.shipped", order, carrier=order.carrier, tracking_number=order.tracking_number)
    return order


@retry_when_busy()
def order_deliver(*, actor: User, order: VendorOrder) -> VendorOrder:
    order = ORDER_LIFECYCLE.apply(
        _locked(order), OrderStatus.DELIVERED, actor=actor, updates={"delivered_at": clock.now()}
    )
    # Delivered orders can be reviewed: the customer is told where.
    announce("order.delivered", order, review_url=f"/account/reviews/new/order/{order.pk}/")
    timers.after_delivery(delivered_at=order.delivered_at or clock.now())
    return order


@retry_when_busy()
def order_complete(*, actor: User | None, order: VendorOrder, reason: str = "") -> VendorOrder:
    """Delivery confirmed (by the customer, or automatically): starts the escrow clock."""
    order = ORDER_LIFECYCLE.apply(
        _locked(order),
        OrderStatus.COMPLETED,
        actor=actor,
        reason=reason,
        updates={"completed_at": clock.now()},
    )
    timers.after_completion(completed_at=order.completed_at or clock.now())
    return order


def _restock(order: VendorOrder) -> None:
    for line in order.lines.order_by("listing_id", "variant_id"):
        key = ItemKey(line.listing_id, line.variant_id or 0)
        stock.give_back(key, line.quantity)
        stock.record(key, MovementKind.RETURN, line.quantity, order.reference).save()


@retry_when_busy()
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
    refund = None
    if order.paid_at is not None:
        # Told in `order.cancelled` below, so payments does not announce it again.
        refund = payments.refund_create(
            reference=order.reference,
            amount=None,
            reason="order cancelled",
            actor=actor,
            idempotency_key=f"{order.reference}:refund:cancelled",
            announce=False,
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
    was_paid = order.paid_at is not None
    ORDER_LIFECYCLE.apply(
        order,
        OrderStatus.CANCELLED,
        actor=actor,
        reason=reason,
        updates={"cancelled_at": clock.now()},
    )
    # An unpaid reservation given up concerns nobody else: the vendor never had the order.
    if was_paid:
        by = "customer" if by_customer else "vendor" if actor is not None else "system"
        words: dict[str, Any] = {"by": by, "reason": reason}
        if refund is not None:
            words.update(refunded(refund.amount, refund.currency))
        if actor is not None and actor.pk == order.customer_id:
            words["customer_name"] = first_name(actor.name)
        announce("order.cancelled", order, **words)
    return order


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
        # Level 1 reminds the vendor's owners and managers; level 2 tells the operators
        # too (and the vendor once more: operators are now looking at it).
        assert order.paid_at is not None
        announce(
            "order.escalated",
            order,
            operators=level >= 2,
            level=level,
            paid_at=order.paid_at.isoformat(),
            hours_waiting=ACCEPT_WITHIN_HOURS if level == 1 else OPERATOR_AFTER_HOURS,
            cancel_at=(order.paid_at + timedelta(hours=AUTO_CANCEL_AFTER_HOURS)).isoformat(),
            operator_url=f"/operator/sales/{order.reference}/",
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
