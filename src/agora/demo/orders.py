"""Shipping rules for the demo shops and orders in every state, made through the real
services (the clock set back for the older ones)."""

from __future__ import annotations

from datetime import timedelta

from agora.accounts.models import User
from agora.catalog.models import Listing, ListingKind
from agora.core import clock
from agora.orders.models import ShippingRule, VendorOrder
from agora.orders.services import checkout, fulfilment, inventory
from agora.vendors.models import Vendor, VendorStatus

ADDRESSES = {
    "GBP": {
        "name": "Chloe Customer",
        "line1": "12 Park Road",
        "city": "London",
        "postcode": "N1 7AA",
        "country": "GB",
    },
    "AUD": {
        "name": "Chloe Customer",
        "line1": "4 Beach Street",
        "city": "Sydney",
        "postcode": "2000",
        "country": "AU",
    },
}
SHIPPING = [
    {"kind": "flat", "country": "", "amount": 695},
    {
        "kind": "weight_band",
        "country": "",
        "amount": 495,
        "min_weight_grams": 0,
        "max_weight_grams": 2000,
    },
    {"kind": "free_over", "country": "", "threshold_amount": 5000},
]


def _shops() -> list[Vendor]:
    return list(
        Vendor.objects.filter(status=VendorStatus.ACTIVE, listings__kind=ListingKind.PRODUCT)
        .distinct()
        .order_by("id")
    )


def _owner(vendor: Vendor) -> User:
    membership = vendor.memberships.order_by("id").first()
    assert membership is not None
    return membership.user


def _item(listing: Listing, quantity: int = 1) -> checkout.ItemRequest:
    variant = listing.variants.order_by("id").first()
    return checkout.ItemRequest(listing.pk, variant.pk if variant else None, quantity)


def load() -> str:
    shops = _shops()
    for shop in shops:
        if not ShippingRule.objects.filter(vendor=shop).exists():
            inventory.shipping_rules_replace(actor=_owner(shop), vendor=shop, rules=SHIPPING)
    customer = User.objects.get(email="customer@agora.test")
    if VendorOrder.objects.filter(customer=customer).exists():
        return f"shipping rules for {len(shops)} shops; orders already there"
    by_currency: dict[str, list[Listing]] = {}
    for listing in Listing.objects.filter(
        kind=ListingKind.PRODUCT, vendor__in=shops, status="active"
    ).order_by("id"):
        by_currency.setdefault(listing.currency, []).append(listing)
    gbp = by_currency.get("GBP", [])
    made = 0
    now = clock.now()
    plans = [
        ("completed", 20), ("delivered", 9), ("shipped", 3), ("accepted", 2), ("paid", 1),
        ("cancelled", 4), ("reserved", 0), ("expired", 1),
    ]  # fmt: skip
    for number, (target, days_ago) in enumerate(plans):
        items = (
            [_item(gbp[(number + step) % len(gbp)]) for step in (0, 3)]
            if len(gbp) > 3
            else [_item(gbp[0])]
        )
        at = now - timedelta(days=days_ago, minutes=30 if target == "expired" else 0)
        with clock.frozen(at):
            made_checkout = checkout.checkout_create(
                customer=customer,
                items=items,
                shipping_address=ADDRESSES["GBP"],
                payment_method=None if target in ("reserved", "expired") else "pm_card_visa",
                idempotency_key=f"demo-order-{number}",
            )
        made += 1
        for order in VendorOrder.objects.filter(checkout=made_checkout).select_related("vendor"):
            staff = _owner(order.vendor)
            with clock.frozen(at + timedelta(hours=2)):
                if target in ("accepted", "shipped", "delivered", "completed"):
                    fulfilment.order_accept(actor=staff, order=order)
                if target in ("shipped", "delivered", "completed"):
                    fulfilment.order_ship(
                        actor=staff,
                        order=order,
                        carrier="Royal Mail",
                        tracking_number=f"RM{order.pk:08d}GB",
                    )
            if target in ("delivered", "completed"):
                with clock.frozen(at + timedelta(days=2)):
                    fulfilment.order_deliver(actor=staff, order=order)
            if target == "completed":
                with clock.frozen(at + timedelta(days=3)):
                    fulfilment.order_complete(
                        actor=customer, order=order, reason="delivery confirmed"
                    )
            if target == "cancelled":
                fulfilment.order_cancel(
                    actor=customer, order=order, reason="Ordered the wrong size", by_customer=True
                )
    checkout.expire_reservations()
    fulfilment.release_due_escrow()
    states = sorted(set(VendorOrder.objects.values_list("status", flat=True)))
    return f"shipping rules for {len(shops)} shops, {made} checkouts; order states: {', '.join(states)}"
