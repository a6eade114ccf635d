from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from agora.catalog.models import City, Listing, ListingImage, ProductVariant
from agora.core.money import MoneySchema
from agora.vendors.schemas import StrictIn

MAX_INT = 2**31 - 1  # the integer columns' limit on PostgreSQL


class CategoryOut(Schema):
    slug: str
    name: str
    parent: str | None
    path: str
    description: str
    attribute_schema: dict[str, Any] = Field(
        description="The effective JSON Schema for listing attributes (inherited from ancestors)."
    )
    own_attribute_schema: dict[str, Any]


class CategoryIn(StrictIn):
    slug: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)
    name: str = Field(min_length=1, max_length=120)
    parent: str | None = None
    attribute_schema: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


class CategoryPatchIn(StrictIn):
    name: str | None = Field(None, min_length=1, max_length=120)
    attribute_schema: dict[str, Any] | None = None
    description: str | None = None


class CityOut(Schema):
    slug: str
    name: str
    country: str
    lat: float
    lng: float
    timezone: str

    @classmethod
    def of(cls, city: City) -> CityOut:
        return cls(
            slug=city.slug,
            name=city.name,
            country=city.country,
            lat=float(city.lat),
            lng=float(city.lng),
            timezone=city.timezone,
        )


class CityIn(StrictIn):
    slug: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)
    name: str = Field(min_length=1, max_length=120)
    country: str = Field(min_length=2, max_length=2)
    lat: Decimal = Field(max_digits=9, decimal_places=6)
    lng: Decimal = Field(max_digits=9, decimal_places=6)
    timezone: str


class ListingIn(StrictIn):
    kind: str = Field(examples=["service"])
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10000)
    category: str
    price: MoneySchema
    attributes: dict[str, Any] = Field(default_factory=dict)
    status: str = "active"
    duration_minutes: int | None = Field(None, ge=1, le=1440)
    capacity: int | None = Field(None, ge=1, le=1000)
    buffer_before_minutes: int | None = Field(None, ge=0, le=1440)
    buffer_after_minutes: int | None = Field(None, ge=0, le=1440)
    min_notice_minutes: int | None = Field(None, ge=0, le=60 * 24 * 60)
    horizon_days: int | None = Field(None, ge=1, le=730)
    slot_step_minutes: int | None = Field(None, ge=5, le=1440)
    auto_accept: bool = False
    sku: str | None = Field(None, max_length=64)
    stock: int | None = Field(None, ge=0, le=MAX_INT)
    low_stock_threshold: int | None = Field(None, ge=0, le=MAX_INT)
    weight_grams: int | None = Field(None, ge=0, le=MAX_INT)


class ListingPatchIn(StrictIn):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10000)
    category: str | None = None
    price: MoneySchema | None = None
    attributes: dict[str, Any] | None = None
    status: str | None = None
    duration_minutes: int | None = Field(None, ge=1, le=1440)
    capacity: int | None = Field(None, ge=1, le=1000)
    buffer_before_minutes: int | None = Field(None, ge=0, le=1440)
    buffer_after_minutes: int | None = Field(None, ge=0, le=1440)
    min_notice_minutes: int | None = Field(None, ge=0, le=60 * 24 * 60)
    horizon_days: int | None = Field(None, ge=1, le=730)
    slot_step_minutes: int | None = Field(None, ge=5, le=1440)
    auto_accept: bool | None = None
    sku: str | None = Field(None, max_length=64)
    stock: int | None = Field(None, ge=0, le=MAX_INT)
    low_stock_threshold: int | None = Field(None, ge=0, le=MAX_INT)
    weight_grams: int | None = Field(None, ge=0, le=MAX_INT)


class VendorBriefOut(Schema):
    id: int
    name: str
    slug: str
    city: str | None


class VariantOut(Schema):
    id: int
    name: str
    sku: str
    price: MoneySchema
    stock: int
    low_stock_threshold: int
    attributes: dict[str, Any]


class VariantIn(StrictIn):
    name: str = Field(min_length=1, max_length=120)
    sku: str = Field("", max_length=64)
    price: MoneySchema | None = None
    stock: int = Field(0, ge=0, le=MAX_INT)
    low_stock_threshold: int = Field(0, ge=0, le=MAX_INT)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ImageOut(Schema):
    id: int
    url: str
    thumbnail_url: str
    alt: str
    width: int
    height: int

    @classmethod
    def of(cls, image: ListingImage) -> ImageOut:
        return cls(
            id=image.pk,
            url=image.image.url,
            thumbnail_url=image.thumbnail.url,
            alt=image.alt,
            width=image.width,
            height=image.height,
        )


class ListingOut(Schema):
    id: int
    vendor_id: int
    vendor: VendorBriefOut
    category: str
    kind: str
    title: str
    description: str
    status: str
    price: MoneySchema
    price_is_from: bool
    attributes: dict[str, Any]
    duration_minutes: int | None
    capacity: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    slot_step_minutes: int | None
    auto_accept: bool
    sku: str
    stock: int
    low_stock_threshold: int
    weight_grams: int
    variants: list[VariantOut]
    images: list[ImageOut]
    rating_average: float | None
    rating_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, listing: Listing) -> ListingOut:
        vendor = listing.vendor
        variants: list[ProductVariant] = list(listing.variants.all())
        return cls(
            id=listing.pk,
            vendor_id=listing.vendor_id,
            vendor=VendorBriefOut(
                id=vendor.pk,
                name=vendor.name,
                slug=vendor.slug,
                city=vendor.city.slug if vendor.city else None,
            ),
            category=listing.category.slug,
            kind=listing.kind,
            title=listing.title,
            description=listing.description,
            status=listing.status,
            price=MoneySchema(amount=listing.price_amount, currency=listing.currency),
            price_is_from=listing.kind == "quote",
            attributes=listing.attributes,
            duration_minutes=listing.duration_minutes,
            capacity=listing.capacity,
            buffer_before_minutes=listing.buffer_before_minutes,
            buffer_after_minutes=listing.buffer_after_minutes,
            min_notice_minutes=listing.min_notice_minutes,
            horizon_days=listing.horizon_days,
            slot_step_minutes=listing.slot_step_minutes,
            auto_accept=listing.auto_accept,
            sku=listing.sku,
            stock=listing.stock,
            low_stock_threshold=listing.low_stock_threshold,
            weight_grams=listing.weight_grams,
            variants=[
                VariantOut(
                    id=v.pk,
                    name=v.name,
                    sku=v.sku,
                    price=MoneySchema(
                        amount=v.price_amount
                        if v.price_amount is not None
                        else listing.price_amount,
                        currency=listing.currency,
                    ),
                    stock=v.stock,
                    low_stock_threshold=v.low_stock_threshold,
                    attributes=v.attributes,
                )
                for v in variants
            ],
            images=[ImageOut.of(image) for image in listing.images.all()],
            rating_average=listing.rating_average,
            rating_count=listing.rating_count,
            created_at=listing.created_at,
            updated_at=listing.updated_at,
        )


class ListingPageOut(Schema):
    items: list[ListingOut]
    next_cursor: str | None
    facets: dict[str, dict[str, int]]


class PriceRuleIn(StrictIn):
    dimension: str
    option: str = Field(min_length=1, max_length=64)
    label: str = Field("", max_length=120)
    adjustment: str
    amount: int = Field(0, ge=-MAX_INT, le=MAX_INT)
    multiplier_bp: int = 10000


class PriceRulesIn(StrictIn):
    rules: list[PriceRuleIn]


class PriceRuleOut(Schema):
    dimension: str
    option: str
    label: str
    adjustment: str
    amount: int
    multiplier_bp: int


class PriceLineOut(Schema):
    dimension: str
    option: str
    label: str
    amount: MoneySchema


class PriceQuoteOut(Schema):
    base: MoneySchema
    lines: list[PriceLineOut]
    total: MoneySchema
