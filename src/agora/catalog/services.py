"""Catalogue writes: categories and cities (operators), listings, variants, price rules and
images (vendor owners and managers)."""

from __future__ import annotations

import io
import secrets
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from agora.accounts.models import User
from agora.catalog.attributes import check_schema, validate_attributes
from agora.catalog.errors import CatalogError, CatalogErrorCode
from agora.catalog.models import (
    AdjustmentKind,
    Category,
    City,
    Listing,
    ListingImage,
    ListingKind,
    ListingStatus,
    PriceDimension,
    PriceRule,
    ProductVariant,
)
from agora.catalog.selectors import category_effective_schema
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import Forbidden, InvalidInput, NotFound
from agora.core.money import Money
from agora.core.validation import (
    check_coordinates,
    check_single_line,
    check_timezone,
    field_error,
)
from agora.vendors.models import Vendor

MAX_IMAGE_BYTES = 8 * 1024 * 1024
THUMBNAIL_SIZE = (480, 480)
MAX_IMAGE_PIXELS = 40_000_000
MAX_AMOUNT = 2**31 - 1  # the integer columns' limit on PostgreSQL


def _require_operator(actor: User) -> None:
    if not actor.is_operator:
        raise Forbidden("Only operators manage the category tree.")


# --- categories and cities ------------------------------------------------------------


@transaction.atomic
def category_create(
    *,
    actor: User,
    slug: str,
    name: str,
    parent: str | None = None,
    attribute_schema: dict[str, Any] | None = None,
    description: str = "",
) -> Category:
    _require_operator(actor)
    schema = check_schema(attribute_schema or {})
    parent_obj = None
    if parent:
        parent_obj = Category.objects.filter(slug=parent).first()
        if parent_obj is None:
            raise field_error("parent", f"unknown category {parent!r}")
    if Category.objects.filter(slug=slug).exists():
        raise CatalogError(f"A category {slug!r} exists already.", code=CatalogErrorCode.SLUG_TAKEN)
    path = f"{parent_obj.path}/{slug}" if parent_obj else slug
    try:
        with transaction.atomic():
            category = Category.objects.create(
                slug=slug,
                name=name.strip(),
                parent=parent_obj,
                path=path,
                attribute_schema=schema,
                description=description,
            )
    except IntegrityError as error:
        raise CatalogError(
            f"A category {slug!r} exists already.", code=CatalogErrorCode.SLUG_TAKEN
        ) from error
    audit_log(actor=actor, action="category.created", target=category, data={"path": path})
    return category


@transaction.atomic
def category_update(
    *,
    actor: User,
    category: Category,
    name: str | None = None,
    attribute_schema: dict[str, Any] | None = None,
    description: str | None = None,
) -> Category:
    _require_operator(actor)
    if name is not None:
        category.name = name.strip()
    if attribute_schema is not None:
        category.attribute_schema = check_schema(attribute_schema)
    if description is not None:
        category.description = description
    category.save()
    audit_log(actor=actor, action="category.updated", target=category)
    return category


@transaction.atomic
def city_create(
    *, actor: User, slug: str, name: str, country: str, lat: Decimal, lng: Decimal, timezone: str
) -> City:
    _require_operator(actor)
    check_timezone(timezone)
    check_coordinates(lat, lng)
    if len(country) != 2 or not country.isalpha():
        raise field_error("country", "use an ISO 3166-1 alpha-2 code such as GB")
    if City.objects.filter(slug=slug).exists():
        raise CatalogError(f"A city {slug!r} exists already.", code=CatalogErrorCode.SLUG_TAKEN)
    city = City.objects.create(
        slug=slug, name=name, country=country.upper(), lat=lat, lng=lng, timezone=timezone
    )
    audit_log(actor=actor, action="city.created", target=city)
    return city


# --- listings ------------------------------------------------------------------------

SERVICE_FIELDS = frozenset(
    {
        "duration_minutes",
        "capacity",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_minutes",
        "horizon_days",
        "slot_step_minutes",
        "auto_accept",
    }
)
PRODUCT_FIELDS = frozenset({"sku", "stock", "low_stock_threshold", "weight_grams"})
COMMON_FIELDS = frozenset({"title", "description", "category", "price", "attributes", "status"})
# What a vendor may change on its listing. The vendor, kind, currency and rating fields
# are absent: a listing cannot be moved to another vendor or rated by its seller.
EDITABLE_LISTING_FIELDS = COMMON_FIELDS | SERVICE_FIELDS | PRODUCT_FIELDS
VENDOR_SETTABLE_STATUSES = frozenset(ListingStatus.values)
# Listing fields that may be cleared with null; every other editable field is NOT NULL.
NULLABLE_LISTING_FIELDS = frozenset({"duration_minutes", "slot_step_minutes"})


def _category(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise field_error("category", f"unknown category {slug!r}; see GET /api/v1/categories")
    return category


def _check_kind_fields(kind: str, values: dict[str, Any]) -> None:
    if kind == ListingKind.SERVICE:
        duration = values.get("duration_minutes")
        if not duration or duration <= 0:
            raise field_error("duration_minutes", "a service needs a duration in minutes")
        if duration > 24 * 60:
            raise field_error("duration_minutes", "at most 1440 minutes (one day)")
        if values.get("capacity", 1) < 1:
            raise field_error("capacity", "at least 1")
        if not 1 <= values.get("horizon_days", 365) <= 730:
            raise field_error("horizon_days", "between 1 and 730 days")
        step = values.get("slot_step_minutes")
        if step is not None and not 5 <= step <= 24 * 60:
            raise field_error("slot_step_minutes", "between 5 and 1440 minutes")
    elif values.get("duration_minutes"):
        raise field_error("duration_minutes", "only services have a duration")


def _check_price(price: Money, vendor: Vendor) -> None:
    if price.currency != vendor.currency:
        raise field_error("price.currency", f"this vendor sells in {vendor.currency}")
    if price.amount < 0:
        raise field_error("price.amount", "must not be negative")
    if price.amount > MAX_AMOUNT:
        raise field_error("price.amount", f"at most {MAX_AMOUNT}")


@transaction.atomic
def listing_create(
    *,
    actor: User,
    vendor: Vendor,
    kind: str,
    title: str,
    category: str,
    price: Money,
    description: str = "",
    attributes: dict[str, Any] | None = None,
    status: str = ListingStatus.ACTIVE,
    **kind_fields: Any,
) -> Listing:
    """Create a listing for `vendor`. Precondition: `actor` is the vendor's owner or manager
    (checked by the caller through vendor_get_for_staff)."""
    if kind not in ListingKind.values:
        raise field_error("kind", f"one of {', '.join(ListingKind.values)}")
    if status not in VENDOR_SETTABLE_STATUSES:
        raise field_error("status", "one of draft, active, archived")
    if not title.strip():
        raise field_error("title", "must not be blank")
    check_single_line(title.strip(), "title")
    unknown = set(kind_fields) - SERVICE_FIELDS - PRODUCT_FIELDS
    if unknown:
        raise field_error(sorted(unknown)[0], "is not a field you can set")
    values = {key: value for key, value in kind_fields.items() if value is not None}
    _check_kind_fields(kind, values)
    _check_price(price, vendor)
    category_obj = _category(category)
    attributes = validate_attributes(attributes or {}, category_effective_schema(category_obj))
    now = clock.now()
    listing = Listing.objects.create(
        vendor=vendor,
        category=category_obj,
        kind=kind,
        title=title.strip(),
        description=description,
        status=status,
        price_amount=price.amount,
        currency=price.currency,
        attributes=attributes,
        created_at=now,
        updated_at=now,
        **values,
    )
    audit_log(
        actor=actor, action="listing.created", target=listing, data={"kind": kind, "status": status}
    )
    return listing


@transaction.atomic
def listing_update(*, actor: User, listing: Listing, changes: dict[str, Any]) -> Listing:
    """Apply `changes` (EDITABLE_LISTING_FIELDS only). Attributes are re-validated whenever
    they or the category change, so a listing always obeys its category's schema."""
    forbidden = set(changes) - EDITABLE_LISTING_FIELDS
    if forbidden:
        raise field_error(sorted(forbidden)[0], "is not a field you can set")
    nulled = sorted(f for f, v in changes.items() if v is None and f not in NULLABLE_LISTING_FIELDS)
    if nulled:
        raise field_error(nulled[0], "must not be null")
    if "stock" in changes:
        # Stock moves under concurrent checkouts and every change is a stock movement:
        # it is set through the orders' restock and stock-count services, never overwritten.
        raise field_error(
            "stock", "change it with POST /listings/{id}/restock or /listings/{id}/stock-count"
        )
    if "status" in changes and changes["status"] not in VENDOR_SETTABLE_STATUSES:
        raise field_error("status", "one of draft, active, archived")
    if "title" in changes and not str(changes["title"]).strip():
        raise field_error("title", "must not be blank")
    if "title" in changes:
        check_single_line(str(changes["title"]), "title")
    updates = dict(changes)
    if "price" in updates:
        price: Money = updates.pop("price")
        _check_price(price, listing.vendor)
        updates["price_amount"] = price.amount
    if "category" in updates:
        updates["category"] = _category(updates["category"])
    kind_values = {
        field: updates.get(field, getattr(listing, field))
        for field in SERVICE_FIELDS | PRODUCT_FIELDS
    }
    _check_kind_fields(listing.kind, kind_values)
    if "attributes" in updates or "category" in updates:
        category = updates.get("category", listing.category)
        updates["attributes"] = validate_attributes(
            updates.get("attributes", listing.attributes), category_effective_schema(category)
        )
    for field, value in updates.items():
        setattr(listing, field, value)
    listing.updated_at = clock.now()
    # Only the changed columns: `stock` in particular moves under concurrent checkouts by
    # conditional UPDATEs, and writing back this (possibly stale) copy would undo sales.
    listing.save(update_fields=[*updates.keys(), "updated_at"])
    audit_log(
        actor=actor, action="listing.updated", target=listing, data={"fields": sorted(changes)}
    )
    return listing


# --- variants -------------------------------------------------------------------------


@transaction.atomic
def variant_create(
    *,
    actor: User,
    listing: Listing,
    name: str,
    sku: str = "",
    price: Money | None = None,
    stock: int = 0,
    low_stock_threshold: int = 0,
    attributes: dict[str, Any] | None = None,
) -> ProductVariant:
    if listing.kind != ListingKind.PRODUCT:
        raise field_error("listing", "only products have variants")
    if not name.strip():
        raise field_error("name", "must not be blank")
    if price is not None:
        _check_price(price, listing.vendor)
    if stock < 0 or low_stock_threshold < 0:
        raise field_error("stock", "must not be negative")
    variant = ProductVariant.objects.create(
        listing=listing,
        name=name.strip(),
        sku=sku,
        price_amount=price.amount if price else None,
        stock=stock,
        low_stock_threshold=low_stock_threshold,
        attributes=attributes or {},
        position=listing.variants.count(),
    )
    audit_log(
        actor=actor,
        action="listing.variant_created",
        target=listing,
        data={"variant_id": variant.pk},
    )
    return variant


# --- price rules ---------------------------------------------------------------------


@transaction.atomic
def price_rules_replace(
    *, actor: User, listing: Listing, rules: list[dict[str, Any]]
) -> list[PriceRule]:
    """Replace the listing's price rules as a whole (the editor saves the full table)."""
    seen = set()
    objects = []
    for index, rule in enumerate(rules):
        dimension, option = rule.get("dimension"), rule.get("option")
        loc = f"rules.{index}"
        if dimension not in PriceDimension.values:
            raise field_error(f"{loc}.dimension", f"one of {', '.join(PriceDimension.values)}")
        if not option:
            raise field_error(f"{loc}.option", "must not be blank")
        if (dimension, option) in seen:
            raise field_error(f"{loc}.option", "each option once per dimension")
        seen.add((dimension, option))
        adjustment = rule.get("adjustment")
        if adjustment not in AdjustmentKind.values:
            raise field_error(f"{loc}.adjustment", "addon or multiplier")
        multiplier_bp = int(rule.get("multiplier_bp", 10000))
        if adjustment == AdjustmentKind.MULTIPLIER and not 0 <= multiplier_bp <= 100000:
            raise field_error(f"{loc}.multiplier_bp", "between 0 and 100000 (×10)")
        objects.append(
            PriceRule(
                listing=listing,
                dimension=dimension,
                option=option,
                label=rule.get("label", ""),
                adjustment=adjustment,
                amount=int(rule.get("amount", 0)) if adjustment == AdjustmentKind.ADDON else 0,
                multiplier_bp=multiplier_bp if adjustment == AdjustmentKind.MULTIPLIER else 10000,
            )
        )
    PriceRule.objects.filter(listing=listing).delete()
    created = PriceRule.objects.bulk_create(objects)
    audit_log(
        actor=actor,
        action="listing.price_rules_replaced",
        target=listing,
        data={"count": len(created)},
    )
    return created


# --- images --------------------------------------------------------------------------


def _open_image(upload: UploadedFile) -> Image.Image:
    if upload.size is None or upload.size == 0 or upload.size > MAX_IMAGE_BYTES:
        raise InvalidInput(
            f"Images must be between 1 byte and {MAX_IMAGE_BYTES // (1024 * 1024)} MB.",
            errors=[{"loc": ["file"], "msg": "bad size", "type": "file"}],
        )
    data = upload.read()
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise InvalidInput(
                "The image has too many pixels.",
                errors=[{"loc": ["file"], "msg": "too large", "type": "file"}],
            )
        if image.format not in {"JPEG", "PNG", "WEBP"}:
            raise InvalidInput(
                "Use a JPEG, PNG or WebP image.",
                errors=[{"loc": ["file"], "msg": "format", "type": "file"}],
            )
        image.load()
        return image
    except Image.DecompressionBombError as error:
        raise InvalidInput(
            "The image has too many pixels.",
            errors=[{"loc": ["file"], "msg": "too large", "type": "file"}],
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InvalidInput(
            "That file is not an image.",
            errors=[{"loc": ["file"], "msg": "not an image", "type": "file"}],
        ) from error


# Metadata that says where, when and with what a photo was taken: GPS, camera serials.
_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment")


def _carries_metadata(image: Image.Image) -> bool:
    text = getattr(image, "text", None)  # PNG tEXt/iTXt chunks
    return bool(image.getexif()) or any(k in image.info for k in _METADATA_KEYS) or bool(text)


def _public_original(
    image: Image.Image, oriented: Image.Image, upload: UploadedFile
) -> UploadedFile | ContentFile[bytes]:
    """The upload as anyone may download it: as sent when it carries no metadata, else
    re-encoded in its format from the upright pixels, without EXIF, XMP, comments or
    text chunks (the colour profile stays)."""
    if not _carries_metadata(image):
        return upload
    options: dict[str, Any] = {}
    if image.info.get("icc_profile"):
        options["icc_profile"] = image.info["icc_profile"]
    if image.format == "JPEG":
        options.update(quality=92, optimize=True)
    elif image.format == "WEBP":
        options.update(quality=90)
    buffer = io.BytesIO()
    oriented.save(buffer, format=image.format or "PNG", **options)
    return ContentFile(buffer.getvalue())


@transaction.atomic
def listing_image_add(
    *, actor: User, listing: Listing, upload: UploadedFile, alt: str = ""
) -> ListingImage:
    """Store the image and a 480px JPEG thumbnail, both with the EXIF orientation applied
    and without metadata (a phone's photo names where it was taken)."""
    image = _open_image(upload)
    oriented = ImageOps.exif_transpose(image)
    thumbnail = oriented.convert("RGB")
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=82, optimize=True)
    token = secrets.token_hex(8)
    record = ListingImage(
        listing=listing,
        alt=alt[:200],
        width=oriented.width,
        height=oriented.height,
        position=listing.images.count(),
    )
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[image.format or "JPEG"]
    record.image.save(
        f"{listing.pk}-{token}.{extension}", _public_original(image, oriented, upload), save=False
    )
    record.thumbnail.save(
        f"{listing.pk}-{token}-thumb.jpg", ContentFile(buffer.getvalue()), save=False
    )
    record.save()
    audit_log(
        actor=actor, action="listing.image_added", target=listing, data={"image_id": record.pk}
    )
    return record


@transaction.atomic
def listing_image_delete(*, actor: User, listing: Listing, image_id: int) -> None:
    image = ListingImage.objects.filter(listing=listing, pk=image_id).first()
    if image is None:
        raise NotFound("No such image.")
    image.image.delete(save=False)
    image.thumbnail.delete(save=False)
    image.delete()
    audit_log(
        actor=actor, action="listing.image_deleted", target=listing, data={"image_id": image_id}
    )
