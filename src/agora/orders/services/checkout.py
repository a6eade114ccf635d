"""Multi-vendor checkout: one customer payment, one order per vendor, stock reserved with
an expiry until paid (ARCHITECTURE.md invariant 2: no overselling)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from agora.accounts.models import User
from agora.catalog.models import Listing, ListingKind, ProductVariant
from agora.catalog.selectors import public_listings
from agora.core import clock
from agora.core.audit import audit_log_many
from agora.core.countries import ISO_3166_ALPHA2
from agora.core.errors import InvalidInput, InvalidTransition, NotFound
from agora.core.locking import lock_row, retry_when_busy
from agora.core.money import Money
from agora.notifications import outbox
from agora.orders import stock, timers
from agora.orders.errors import OrderError, OrderErrorCode, out_of_stock
from agora.orders.models import (
    Checkout,
    CheckoutStatus,
    LowStockAlert,
    MovementKind,
    OrderLine,
    OrderStatus,
    ReservationStatus,
    ShippingRule,
    StockReservation,
    VendorOrder,
)
from agora.orders.services.announce import first_name, paid_spec
from agora.orders.shipping import ShippingRuleSpec, shipping_amount
from agora.orders.states import ORDER_LIFECYCLE
from agora.orders.stock import ItemKey
from agora.payments import services as payments
from agora.payments.commission import SaleContext
from agora.payments.errors import PaymentError

MAX_LINES = 50
MAX_QUANTITY = 999


@dataclass(frozen=True)
class ItemRequest:
    listing_id: int
    variant_id: int | None
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    key: ItemKey
    listing: Listing
    variant: ProductVariant | None
    quantity: int
    unit_price: int

    @property
    def title(self) -> str:
        return f"{self.listing.title} — {self.variant.name}" if self.variant else self.listing.title


def _line_error(index: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(
        message,
        errors=[{"loc": ["body", "items", index, field], "msg": message, "type": "value_error"}],
    )


def _price_lines(items: list[ItemRequest]) -> list[PricedLine]:
    """Validate the requested items against the live catalogue and price them from it
    (a client's idea of the price is never trusted). Two queries."""
    if not items:
        raise InvalidInput(
            "A checkout needs at least one item.",
            errors=[{"loc": ["body", "items"], "msg": "empty", "type": "value_error"}],
        )
    if len(items) > MAX_LINES:
        raise InvalidInput(
            f"At most {MAX_LINES} lines.",
            errors=[{"loc": ["body", "items"], "msg": "too many", "type": "value_error"}],
        )
    listings = {
        listing.pk: listing
        for listing in public_listings()
        .filter(pk__in={item.listing_id for item in items})
        .select_related("vendor", "category")
        .prefetch_related("variants")
    }
    lines: dict[ItemKey, PricedLine] = {}
    for index, item in enumerate(items):
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise _line_error(index, "quantity", f"between 1 and {MAX_QUANTITY}")
        listing = listings.get(item.listing_id)
        if listing is None:
            raise _line_error(index, "listing_id", "no such listing on sale")
        if listing.kind != ListingKind.PRODUCT:
            raise _line_error(
                index, "listing_id", "only products can be bought; services are booked"
            )
        variants = {v.pk: v for v in listing.variants.all()}
        variant = None
        if variants:
            if item.variant_id not in variants:
                raise _line_error(index, "variant_id", f"choose one of {sorted(variants)}")
            variant = variants[item.variant_id]
        elif item.variant_id is not None:
            raise _line_error(index, "variant_id", "this product has no variants")
        key = ItemKey(listing.pk, variant.pk if variant else 0)
        price = (
            variant.price_amount
            if variant and variant.price_amount is not None
            else listing.price_amount
        )
        previous = lines.get(key)
        quantity = item.quantity + (previous.quantity if previous else 0)
        if quantity > MAX_QUANTITY:  # the same item over several lines counts as one
            raise _line_error(index, "quantity", f"at most {MAX_QUANTITY} of one item in all")
        lines[key] = PricedLine(
            key=key, listing=listing, variant=variant, quantity=quantity, unit_price=price
        )
    return [lines[key] for key in sorted(lines)]


def _check_address(address: dict[str, Any]) -> dict[str, Any]:
    country = str(address.get("country", ""))
    if country not in ISO_3166_ALPHA2:
        raise InvalidInput(
            "Use an ISO 3166-1 alpha-2 country code such as GB.",
            errors=[
                {
                    "loc": ["body", "shipping_address", "country"],
                    "msg": "ISO 3166-1 alpha-2",
                    "type": "value_error",
                }
            ],
        )
    return address


@dataclass(frozen=True)
class VendorPart:
    vendor_id: int
    lines: list[PricedLine]
    subtotal: int
    shipping: int
    weight_grams: int

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping


def _split_by_vendor(lines: list[PricedLine], country: str) -> list[VendorPart]:
    by_vendor: dict[int, list[PricedLine]] = defaultdict(list)
    for line in lines:
        by_vendor[line.listing.vendor_id].append(line)
    rules: dict[int, list[ShippingRuleSpec]] = defaultdict(list)
    for rule in ShippingRule.objects.filter(vendor_id__in=by_vendor):
        rules[rule.vendor_id].append(
            ShippingRuleSpec(
                rule.country,
                rule.kind,
                rule.amount,
                rule.min_weight_grams,
                rule.max_weight_grams,
                rule.threshold_amount,
            )
        )
    parts = []
    for vendor_id in sorted(by_vendor):
        vendor_lines = by_vendor[vendor_id]
        subtotal = sum(line.unit_price * line.quantity for line in vendor_lines)
        weight = sum(line.listing.weight_grams * line.quantity for line in vendor_lines)
        shipping = shipping_amount(
            rules[vendor_id], country=country, subtotal=subtotal, weight_grams=weight
        )
        parts.append(VendorPart(vendor_id, vendor_lines, subtotal, shipping, weight))
    return parts


def checkout_create(
    *,
    customer: User,
    items: list[ItemRequest],
    shipping_address: dict[str, Any],
    payment_method: str | None,
    idempotency_key: str,
) -> Checkout:
    """Reserve stock for every line across vendors, all or nothing (409 out_of_stock names
    the short lines), then pay at once when `payment_method` is given. A declined card
    leaves the reservation in place (pay again with POST /checkout/{id}/pay)."""
    lines = _price_lines(items)
    currencies = {line.listing.currency for line in lines}
    if len(currencies) > 1:
        raise InvalidInput(
            "One checkout cannot mix currencies.",
            errors=[
                {
                    "loc": ["body", "items"],
                    "msg": f"mixes {sorted(currencies)}",
                    "type": "value_error",
                }
            ],
        )
    address = _check_address(shipping_address)
    parts = _split_by_vendor(lines, address["country"])
    checkout, declined = _reserve_and_pay(
        customer=customer,
        lines=lines,
        parts=parts,
        currency=currencies.pop(),
        address=address,
        payment_method=payment_method,
        idempotency_key=idempotency_key,
    )
    if declined is not None:
        raise declined
    return checkout


@retry_when_busy()
def _reserve_and_pay(
    *,
    customer: User,
    lines: list[PricedLine],
    parts: list[VendorPart],
    currency: str,
    address: dict[str, Any],
    payment_method: str | None,
    idempotency_key: str,
) -> tuple[Checkout, PaymentError | None]:
    """One transaction: any other failure of the payment (an unknown payment method, 422)
    must undo the reservation too — the client never learns this checkout's id. A decline
    is returned, not raised, so that the reservation commits."""
    reserved = _reserve(
        customer=customer, lines=lines, parts=parts, currency=currency, address=address
    )
    checkout = reserved.checkout
    declined: PaymentError | None = None
    if payment_method:
        try:
            # Paid in the transaction that made it: nobody else can see, lock or expire
            # the checkout yet, and its orders and lines are in memory already.
            with transaction.atomic():
                _pay(
                    customer=customer,
                    checkout=checkout,
                    orders=reserved.orders,
                    payment_method=payment_method,
                    idempotency_key=idempotency_key,
                    now=clock.now(),
                )
        except PaymentError as error:
            # A decline keeps the stock reserved until expires_at (the reservation
            # commits): tell the client where to pay again.
            error.extra.update(checkout_id=checkout.pk, expires_at=checkout.expires_at.isoformat())
            declined = error
    if not payment_method or declined is not None:
        timers.after_reservation(expires_at=checkout.expires_at)
    return checkout, declined


@dataclass(frozen=True)
class OrderToPay:
    """A vendor order with what its payment needs (its lines' listings and categories)
    and its `order.paid` event (the vendor's name and time zone)."""

    order: VendorOrder
    lines: list[OrderLine]
    vendor_tier: str
    vendor_name: str
    vendor_timezone: str


@dataclass(frozen=True)
class Reserved:
    checkout: Checkout
    orders: list[OrderToPay]


@retry_when_busy()
def _reserve(
    *,
    customer: User,
    lines: list[PricedLine],
    parts: list[VendorPart],
    currency: str,
    address: dict[str, Any],
) -> Reserved:
    now = clock.now()
    keys = [line.key for line in lines]  # sorted: the lock order
    stock.release_expired(keys, now=now)
    levels: dict[ItemKey, tuple[int, int]] = {}
    short_lines = []
    for line in lines:
        taken = stock.take(line.key, line.quantity)
        if taken is None:
            short_lines.append(line)
        else:
            levels[line.key] = (taken.stock, taken.threshold)
    if short_lines:
        available = stock.levels(line.key for line in short_lines)
        raise out_of_stock(
            [
                {
                    "listing_id": line.key.listing_id,
                    "variant_id": line.key.variant,
                    "title": line.title,
                    "requested": line.quantity,
                    "available": available.get(line.key, (0, 0))[0],
                }
                for line in short_lines
            ]
        )
    expires_at = now + timedelta(minutes=settings.AGORA_STOCK_HOLD_MINUTES)
    checkout = Checkout.objects.create(
        customer=customer,
        currency=currency,
        total_amount=sum(part.total for part in parts),
        shipping_address=address,
        expires_at=expires_at,
        created_at=now,
    )
    orders = VendorOrder.objects.bulk_create(
        [
            VendorOrder(
                checkout=checkout,
                vendor_id=part.vendor_id,
                customer=customer,
                currency=currency,
                subtotal_amount=part.subtotal,
                shipping_amount=part.shipping,
                total_amount=part.total,
                weight_grams=part.weight_grams,
                created_at=now,
            )
            for part in parts
        ]
    )
    order_lines = {
        order.pk: [
            OrderLine(
                order=order,
                listing=line.listing,
                variant=line.variant,
                title=line.title[:300],
                unit_price_amount=line.unit_price,
                quantity=line.quantity,
                line_total_amount=line.unit_price * line.quantity,
            )
            for line in part.lines
        ]
        for order, part in zip(orders, parts, strict=True)
    }
    OrderLine.objects.bulk_create([line for group in order_lines.values() for line in group])
    StockReservation.objects.bulk_create(
        [
            StockReservation(
                checkout=checkout,
                listing_id=line.key.listing_id,
                variant_id=line.key.variant,
                quantity=line.quantity,
                expires_at=expires_at,
            )
            for line in lines
        ]
    )
    stock.StockMovement.objects.bulk_create(
        [
            stock.record(line.key, MovementKind.RESERVATION, -line.quantity, checkout.reference)
            for line in lines
        ]
    )
    _alert_low_stock(lines, levels)
    audit_log_many(
        actor=customer,
        action="order.reserved",
        targets=list(orders),
        data={"to": OrderStatus.RESERVED},
    )
    return Reserved(
        checkout=checkout,
        orders=[
            OrderToPay(
                order=order,
                lines=order_lines[order.pk],
                vendor_tier=part.lines[0].listing.vendor.tier,
                vendor_name=part.lines[0].listing.vendor.name,
                vendor_timezone=part.lines[0].listing.vendor.timezone,
            )
            for order, part in zip(orders, parts, strict=True)
        ],
    )


def _alert_low_stock(lines: list[PricedLine], known: dict[ItemKey, tuple[int, int]]) -> None:
    """One open alert per item whose stock fell to its threshold (vendors see them in
    GET /vendors/{id}/low-stock). `known`: levels the stock UPDATEs returned; the others
    are read. Open alerts are looked up only when some item is at its threshold."""
    missing = [line.key for line in lines if line.key not in known]
    levels = {**known, **(stock.levels(missing) if missing else {})}
    if not any(
        threshold and level <= threshold
        for level, threshold in (levels.get(line.key, (0, 0)) for line in lines)
    ):
        return
    open_alerts = set(
        LowStockAlert.objects.filter(
            resolved_at__isnull=True, listing_id__in=[line.key.listing_id for line in lines]
        ).values_list("listing_id", "variant_id")
    )
    new = []
    alerted = []
    for line in lines:
        level, threshold = levels.get(line.key, (0, 0))
        if (
            threshold
            and level <= threshold
            and (line.key.listing_id, line.key.variant) not in open_alerts
        ):
            alerted.append(line)
            new.append(
                LowStockAlert(
                    vendor_id=line.listing.vendor_id,
                    listing_id=line.key.listing_id,
                    variant_id=line.key.variant,
                    stock=level,
                    threshold=threshold,
                )
            )
    LowStockAlert.objects.bulk_create(new)
    # The vendor's managers hear of each new alert once (an open alert is not repeated).
    outbox.emit_many(
        [
            (
                "stock.low",
                alert,
                {
                    "id": alert.pk,
                    "listing_id": alert.listing_id,
                    "variant_id": alert.variant_id,
                    "title": line.title,
                    "stock": alert.stock,
                    "threshold": alert.threshold,
                    "url": f"/vendor/listings/{alert.listing_id}/?vendor={alert.vendor_id}",
                    "vendor_url": f"/vendor/listings/{alert.listing_id}/?vendor={alert.vendor_id}",
                },
                None,
                alert.vendor_id,
                False,
            )
            for alert, line in zip(new, alerted, strict=True)
        ]
    )


def _largest_line_category(lines: list[OrderLine]) -> str:
    line = max(lines, key=lambda line: (line.line_total_amount, -line.pk))
    return line.listing.category.path


@retry_when_busy()
def checkout_pay(
    *, customer: User, checkout: Checkout, payment_method: str, idempotency_key: str
) -> Checkout:
    """Pay a reserved checkout: one charge, one payment per vendor order (commission by the
    order's largest line's category), orders → paid, reservations consumed.

    Locks the checkout's row alone; its orders change by conditional UPDATEs and their
    vendors and categories are only read (never locked: they are shared)."""
    locked = lock_row(Checkout.objects.filter(pk=checkout.pk))
    if locked is None:
        raise NotFound("No such checkout.")
    checkout = locked
    if checkout.customer_id != customer.pk:
        raise InvalidTransition("Only the customer who made the checkout pays for it.")
    if checkout.status == CheckoutStatus.EXPIRED:
        raise OrderError(
            "The reservation has expired; check out again.", code=OrderErrorCode.CHECKOUT_EXPIRED
        )
    if checkout.status != CheckoutStatus.RESERVED:
        raise InvalidTransition(
            f"Only a reserved checkout can be paid; this one is {checkout.status}.",
            extra={"from": checkout.status, "to": CheckoutStatus.PAID},
        )
    now = clock.now()
    if checkout.expires_at <= now:
        raise OrderError(
            "The reservation has expired; check out again.", code=OrderErrorCode.CHECKOUT_EXPIRED
        )
    orders = list(
        checkout.orders.filter(status=OrderStatus.RESERVED)
        .select_related("vendor")
        .prefetch_related("lines__listing__category")
        .order_by("id")
    )
    if not orders:
        raise InvalidTransition("Every order of this checkout was cancelled.")
    _pay(
        customer=customer,
        checkout=checkout,
        orders=[
            OrderToPay(
                order=order,
                lines=list(order.lines.all()),
                vendor_tier=order.vendor.tier,
                vendor_name=order.vendor.name,
                vendor_timezone=order.vendor.timezone,
            )
            for order in orders
        ],
        payment_method=payment_method,
        idempotency_key=idempotency_key,
        now=now,
    )
    return checkout


def _pay(
    *,
    customer: User,
    checkout: Checkout,
    orders: list[OrderToPay],
    payment_method: str,
    idempotency_key: str,
    now: datetime,
) -> None:
    """Precondition: inside a transaction; `checkout` is reserved, unexpired and locked
    (or made in this transaction); `orders` are its reserved orders."""
    # Claim the reservations before charging. Once the hold runs out, the next buyer's
    # release_expired may release them while this payment is still in flight; its
    # conditional UPDATE now waits for this transaction and then finds them consumed. If one
    # was released first (the hold ran out just now), the units may be sold again: expired.
    claimed = StockReservation.objects.filter(
        checkout=checkout, status=ReservationStatus.LIVE
    ).update(status=ReservationStatus.CONSUMED)
    if claimed != sum(len(item.lines) for item in orders):
        raise OrderError(
            "The reservation has expired; check out again.", code=OrderErrorCode.CHECKOUT_EXPIRED
        )
    payments.payments_collect(
        charge_group=checkout.reference,
        parts=[
            payments.SalePart(
                reference=item.order.reference,
                amount=Money(item.order.total_amount, item.order.currency),
                sale=SaleContext(
                    vendor_id=item.order.vendor_id,
                    vendor_tier=item.vendor_tier,
                    category_path=_largest_line_category(item.lines),
                    listing_id=None,
                ),
            )
            for item in orders
        ],
        payment_method=payment_method,
        idempotency_key=f"{checkout.reference}:pay:{idempotency_key}",
    )
    _mark_paid(orders, actor=customer, now=now)
    Checkout.objects.filter(pk=checkout.pk).update(status=CheckoutStatus.PAID, paid_at=now)
    checkout.status, checkout.paid_at = CheckoutStatus.PAID, now


def _mark_paid(items: list[OrderToPay], *, actor: User, now: datetime) -> None:
    """`ORDER_LIFECYCLE` reserved → paid for all the orders at once: one conditional UPDATE,
    one INSERT of their audit rows and one of their `order.paid` events (the machine's
    per-row `apply` costs a savepoint, an UPDATE and an INSERT per order). Any order that
    moved meanwhile → 409, and the caller's transaction rolls back."""
    orders = [item.order for item in items]
    for order in orders:
        ORDER_LIFECYCLE.check(order.status, OrderStatus.PAID)
    moved = VendorOrder.objects.filter(
        pk__in=[order.pk for order in orders], status=OrderStatus.RESERVED
    ).update(status=OrderStatus.PAID, paid_at=now)
    if moved != len(orders):
        raise InvalidTransition(
            "An order of this checkout changed meanwhile; it cannot be paid now.",
            extra={"from": OrderStatus.RESERVED, "to": OrderStatus.PAID},
        )
    for order in orders:
        order.status, order.paid_at = OrderStatus.PAID, now
    audit_log_many(
        actor=actor,
        action=f"{ORDER_LIFECYCLE.name}.{OrderStatus.PAID}",
        targets=list(orders),
        data={"from": OrderStatus.RESERVED, "to": OrderStatus.PAID, "reason": ""},
    )
    customer_name = first_name(actor.name)
    outbox.emit_many(
        [
            paid_spec(
                item.order,
                lines=item.lines,
                vendor_name=item.vendor_name,
                timezone=item.vendor_timezone,
                customer_name=customer_name,
            )
            for item in items
        ]
    )


def expire_reservations(*, limit: int = 200) -> int:
    """Reserved checkouts past their expiry: stock back, orders and checkout expired."""
    now = clock.now()
    done = 0
    for checkout_id in list(
        Checkout.objects.filter(status=CheckoutStatus.RESERVED, expires_at__lte=now).values_list(
            "pk", flat=True
        )[:limit]
    ):
        with transaction.atomic():
            checkout = (
                Checkout.objects.select_for_update()
                .filter(pk=checkout_id, status=CheckoutStatus.RESERVED)
                .first()
            )
            if checkout is None:
                continue
            reservations = list(
                StockReservation.objects.filter(
                    checkout=checkout, status=ReservationStatus.LIVE
                ).order_by("listing_id", "variant_id")
            )
            for reservation in reservations:
                key = ItemKey(reservation.listing_id, reservation.variant_id or 0)
                if StockReservation.objects.filter(
                    pk=reservation.pk, status=ReservationStatus.LIVE
                ).update(status=ReservationStatus.RELEASED):
                    stock.give_back(key, reservation.quantity)
                    stock.record(
                        key, MovementKind.RELEASE, reservation.quantity, checkout.reference
                    ).save()
            for order in checkout.orders.filter(status=OrderStatus.RESERVED):
                ORDER_LIFECYCLE.apply(
                    order, OrderStatus.EXPIRED, actor=None, reason="reservation expired"
                )
            Checkout.objects.filter(pk=checkout.pk).update(status=CheckoutStatus.EXPIRED)
            done += 1
    return done
