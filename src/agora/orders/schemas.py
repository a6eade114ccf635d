from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field, field_validator

from agora.core.countries import ISO_3166_ALPHA2
from agora.core.money import MoneySchema
from agora.core.validation import Id
from agora.orders.models import Checkout, VendorOrder
from agora.vendors.schemas import StrictIn


class ItemIn(StrictIn):
    listing_id: Id
    variant_id: Id | None = None
    quantity: int = Field(strict=True, ge=1, le=999)


class AddressIn(StrictIn):
    name: str = Field(min_length=1, max_length=120)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field(min_length=1, max_length=120)
    postcode: str = Field(min_length=1, max_length=20)
    country: str = Field(min_length=2, max_length=2, examples=["GB"])

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        if value not in ISO_3166_ALPHA2:
            raise ValueError("an ISO 3166-1 alpha-2 country code such as GB")
        return value


class CheckoutIn(StrictIn):
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    shipping_address: AddressIn
    payment_method: str | None = Field(None, max_length=100)


class CartCheckoutIn(StrictIn):
    shipping_address: AddressIn
    payment_method: str | None = Field(None, max_length=100)


class PayIn(StrictIn):
    payment_method: str = Field(min_length=1, max_length=100)


class LineOut(Schema):
    listing_id: int
    variant_id: int | None
    title: str
    quantity: int
    unit_price: MoneySchema
    total: MoneySchema


class OrderOut(Schema):
    id: int
    checkout_id: int
    vendor_id: int
    vendor_name: str
    customer_id: int
    status: str
    items: list[LineOut]
    subtotal: MoneySchema
    shipping: MoneySchema
    total: MoneySchema
    carrier: str
    tracking_number: str
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, order: VendorOrder) -> OrderOut:
        def money(amount: int) -> MoneySchema:
            return MoneySchema(amount=amount, currency=order.currency)

        return cls(
            id=order.pk,
            checkout_id=order.checkout_id,
            vendor_id=order.vendor_id,
            vendor_name=order.vendor.name,
            customer_id=order.customer_id,
            status=order.status,
            items=[
                LineOut(
                    listing_id=line.listing_id,
                    variant_id=line.variant_id,
                    title=line.title,
                    quantity=line.quantity,
                    unit_price=money(line.unit_price_amount),
                    total=money(line.line_total_amount),
                )
                for line in order.lines.all()
            ],
            subtotal=money(order.subtotal_amount),
            shipping=money(order.shipping_amount),
            total=money(order.total_amount),
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            created_at=order.created_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
        )


class CheckoutOut(Schema):
    id: int
    status: str
    expires_at: datetime
    total: MoneySchema
    orders: list[OrderOut]

    @classmethod
    def of(cls, checkout: Checkout) -> CheckoutOut:
        return cls(
            id=checkout.pk,
            status=checkout.status,
            expires_at=checkout.expires_at,
            total=MoneySchema(amount=checkout.total_amount, currency=checkout.currency),
            orders=[OrderOut.of(order) for order in checkout.orders.all()],
        )


class ShipIn(StrictIn):
    carrier: str = Field(min_length=1, max_length=60)
    tracking_number: str = Field(min_length=1, max_length=100)


class ReasonIn(StrictIn):
    reason: str = Field("", max_length=500)


class OrderStatusOut(Schema):
    id: int
    status: str


class CartItemIn(StrictIn):
    listing_id: Id
    variant_id: Id | None = None
    quantity: int = Field(strict=True, ge=0, le=999)


class CartItemOut(Schema):
    listing_id: int
    variant_id: int | None
    title: str
    quantity: int
    unit_price: MoneySchema


class CartOut(Schema):
    items: list[CartItemOut]


class RestockIn(StrictIn):
    variant_id: Id | None = None
    quantity: int = Field(strict=True, ge=1, le=1_000_000)


class StockCountIn(StrictIn):
    variant_id: Id | None = None
    level: int = Field(strict=True, ge=0, le=1_000_000, description="The stock a count found.")


class StockLevelOut(Schema):
    listing_id: int
    variant_id: int | None
    stock: int


class LowStockOut(Schema):
    listing_id: int
    variant_id: int | None
    title: str
    stock: int
    threshold: int
    created_at: datetime


class ShippingRuleIn(StrictIn):
    kind: str = Field(pattern="^(flat|weight_band|free_over)$")
    country: str = Field("", max_length=2)
    amount: int = Field(0, ge=0, le=10_000_000)
    min_weight_grams: int = Field(0, ge=0, le=10_000_000)
    max_weight_grams: int | None = Field(None, ge=0, le=10_000_000)
    threshold_amount: int | None = Field(None, ge=0, le=100_000_000)


class ShippingRulesIn(StrictIn):
    rules: list[ShippingRuleIn]
