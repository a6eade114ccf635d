"""Builders and read-outs shared by the goods tests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Model, Sum

from agora.accounts.models import ApiToken, User
from agora.catalog.models import Listing, ProductVariant
from agora.core import clock
from agora.core.models import AuditLog
from agora.orders.models import (
    Cart,
    CartItem,
    Checkout,
    LowStockAlert,
    OrderLine,
    ShippingRule,
    StockMovement,
    StockReservation,
    VendorOrder,
)
from agora.orders.services import checkout as checkout_services
from agora.orders.stock import ItemKey
from agora.payments.models import JournalEntry, JournalTransaction, Payment, Refund
from agora.vendors.models import Vendor
from tests.conftest import ApiClient
from tests.factories import (
    ListingFactory,
    ProductFactory,
    ProductVariantFactory,
    UserFactory,
    VendorFactory,
    VendorMembershipFactory,
)
from tests.vendors.helpers import snapshot

# A Monday; London is on UTC in winter.
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ADDRESS = {
    "name": "Alice Buyer",
    "line1": "1 High Street",
    "city": "London",
    "postcode": "N1 1AA",
    "country": "GB",
}
VISA = "pm_card_visa"

# Every row a goods request could write: a refused request changes none of them.
ORDER_MODELS: tuple[type[Model], ...] = (
    Checkout,
    VendorOrder,
    OrderLine,
    StockReservation,
    StockMovement,
    LowStockAlert,
    ShippingRule,
    Cart,
    CartItem,
    Listing,
    ProductVariant,
    Payment,
    Refund,
    JournalTransaction,
    JournalEntry,
    AuditLog,
)


def rows() -> dict[str, list[dict[str, Any]]]:
    return snapshot(*ORDER_MODELS)


def client_for(user: User, *, days: int = 90) -> ApiClient:
    """An API client with a bearer token valid for `days` from agora's clock.

    The token row is written as `token_issue` writes it (only the SHA-256 is kept), without
    signing in: the lifecycle tests move the clock by days, past a normal token's 12 hours.
    """
    raw = "agora_" + secrets.token_urlsafe(32)
    now = clock.now()
    ApiToken.objects.create(
        user=user,
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        prefix=raw[:12],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return ApiClient(raw)


@dataclass
class Market:
    """Two active London vendors selling in GBP, with their people and products.

    Vendor A sells a widget (£12.99, 400 g, 10 in stock, low-stock alert at 3) and tyres in
    two sizes (16": £45.00, 4 in stock; 17": the listing's £39.99, 3 in stock; 8 kg), and
    offers a bookable service; vendor B sells a gadget (£24.50, 1.2 kg, 5 in stock). No
    shipping rules yet: shipping is free until a vendor sets some.
    """

    vendor_a: Vendor
    vendor_b: Vendor
    owner_a: User
    staff_a: User
    owner_b: User
    alice: User
    bob: User
    widget: Listing
    tyre: Listing
    tyre_16: ProductVariant
    tyre_17: ProductVariant
    gadget: Listing
    service: Listing
    as_owner_a: ApiClient
    as_staff_a: ApiClient
    as_owner_b: ApiClient
    as_alice: ApiClient
    as_bob: ApiClient


def make_market() -> Market:
    owner_a, staff_a, owner_b = UserFactory(), UserFactory(), UserFactory()
    alice = UserFactory(name="Alice Buyer")
    bob = UserFactory(name="Bob Buyer")
    vendor_a = VendorFactory(
        name="Anvil Parts", owner=owner_a, contact_email="orders@anvil.example"
    )
    VendorMembershipFactory(vendor=vendor_a, user=staff_a, role="staff")
    vendor_b = VendorFactory(name="Bolt Supplies", owner=owner_b)
    widget = ProductFactory(
        vendor=vendor_a,
        title="Widget",
        price_amount=1299,
        stock=10,
        weight_grams=400,
        low_stock_threshold=3,
    )
    tyre = ProductFactory(
        vendor=vendor_a, title="Tyre", price_amount=3999, stock=0, weight_grams=8000
    )
    tyre_16 = ProductVariantFactory(listing=tyre, name='16"', price_amount=4500, stock=4)
    tyre_17 = ProductVariantFactory(listing=tyre, name='17"', price_amount=None, stock=3)
    gadget = ProductFactory(
        vendor=vendor_b, title="Gadget", price_amount=2450, stock=5, weight_grams=1200
    )
    service = ListingFactory(vendor=vendor_a, title="Fitting", kind="service")
    return Market(
        vendor_a=vendor_a,
        vendor_b=vendor_b,
        owner_a=owner_a,
        staff_a=staff_a,
        owner_b=owner_b,
        alice=alice,
        bob=bob,
        widget=widget,
        tyre=tyre,
        tyre_16=tyre_16,
        tyre_17=tyre_17,
        gadget=gadget,
        service=service,
        as_owner_a=client_for(owner_a),
        as_staff_a=client_for(staff_a),
        as_owner_b=client_for(owner_b),
        as_alice=client_for(alice),
        as_bob=client_for(bob),
    )


# --- items and checkouts -------------------------------------------------------------------


Item = Listing | ProductVariant


def key_of(item: Item) -> ItemKey:
    if isinstance(item, ProductVariant):
        return ItemKey(item.listing_id, item.pk)
    return ItemKey(item.pk, 0)


def line(item: Item, quantity: int = 1) -> dict[str, Any]:
    """One `items` entry of POST /checkout."""
    if isinstance(item, ProductVariant):
        return {"listing_id": item.listing_id, "variant_id": item.pk, "quantity": quantity}
    return {"listing_id": item.pk, "quantity": quantity}


def checkout_body(
    *lines: dict[str, Any], pay: str | None = None, country: str = "GB"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": list(lines),
        "shipping_address": {**ADDRESS, "country": country},
    }
    if pay is not None:
        body["payment_method"] = pay
    return body


def post_checkout(
    client: ApiClient,
    *lines: dict[str, Any],
    pay: str | None = None,
    key: str | None = None,
    country: str = "GB",
) -> Any:
    return client.post(
        "/checkout", checkout_body(*lines, pay=pay, country=country), idempotency_key=key
    )


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def buy(
    customer: User, *items: tuple[Item, int], pay: str | None = VISA, key: str = "k"
) -> Checkout:
    """A checkout made through the service (faster than HTTP, for building state)."""
    return checkout_services.checkout_create(
        customer=customer,
        items=[
            checkout_services.ItemRequest(key_of(item).listing_id, key_of(item).variant, quantity)
            for item, quantity in items
        ],
        shipping_address=dict(ADDRESS),
        payment_method=pay,
        idempotency_key=key,
    )


def order_of(checkout: Checkout | int, vendor: Vendor) -> VendorOrder:
    checkout_id = checkout if isinstance(checkout, int) else checkout.pk
    return VendorOrder.objects.get(checkout_id=checkout_id, vendor=vendor)


def level(item: Item) -> int:
    """The item's stock as the database holds it now."""
    return int(type(item).objects.values_list("stock", flat=True).get(pk=item.pk))


def movements(item: Item) -> list[tuple[str, int, str]]:
    key = key_of(item)
    return list(
        StockMovement.objects.filter(listing_id=key.listing_id, variant_id=key.variant)
        .order_by("id")
        .values_list("kind", "quantity", "reference")
    )


def movement_sum(item: Item) -> int:
    key = key_of(item)
    total = StockMovement.objects.filter(
        listing_id=key.listing_id, variant_id=key.variant
    ).aggregate(total=Sum("quantity"))["total"]
    return int(total or 0)


def reservations(checkout: Checkout | int) -> list[tuple[int, int | None, int, str]]:
    checkout_id = checkout if isinstance(checkout, int) else checkout.pk
    return list(
        StockReservation.objects.filter(checkout_id=checkout_id)
        .order_by("listing_id", "variant_id")
        .values_list("listing_id", "variant_id", "quantity", "status")
    )


def vendor_share(gross: int, commission_bp: int = 300, fee_bp: int = 290) -> int:
    """What reaches the vendor's escrow from a sale of `gross`: the seeded 3 % commission
    and 2.9 % processing fee, each rounded half up — computed here independently."""

    def part(bp: int) -> int:
        return int((Decimal(gross) * bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    return gross - part(commission_bp) - part(fee_bp)
