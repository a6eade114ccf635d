"""Vendor-side stock: restocking, adjustments, low-stock alerts, shipping rules."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from agora.accounts.models import User
from agora.catalog.models import Listing, ListingKind
from agora.core import clock
from agora.core.audit import audit_log
from agora.core.countries import ISO_3166_ALPHA2
from agora.core.errors import NotFound
from agora.core.validation import field_error
from agora.orders import stock
from agora.orders.models import LowStockAlert, MovementKind, ShippingKind, ShippingRule
from agora.orders.stock import ItemKey
from agora.vendors.models import Vendor
from agora.vendors.selectors import MANAGER_ROLES, staff_context_get


def _check_stock_keeper(actor: User, listing: Listing) -> None:
    """Only the vendor's owners and managers change stock levels (restock, count): 403 for
    the `staff` role, 404 for anyone else. Here rather than in each door, so the API and
    the pages refuse the same people."""
    staff_context_get(user=actor, vendor_id=listing.vendor_id, roles=MANAGER_ROLES)


def _key(listing: Listing, variant_id: int | None) -> ItemKey:
    if listing.kind != ListingKind.PRODUCT:
        raise field_error("listing", "only products have stock")
    variant_ids = set(listing.variants.values_list("pk", flat=True))
    if variant_ids and variant_id not in variant_ids:
        raise (
            NotFound("No such variant.")
            if variant_id is not None
            else field_error("variant_id", "choose a variant")
        )
    if not variant_ids and variant_id is not None:
        raise NotFound("No such variant.")
    return ItemKey(listing.pk, variant_id or 0)


@transaction.atomic
def restock(*, actor: User, listing: Listing, variant_id: int | None, quantity: int) -> int:
    """Add `quantity` units (a delivery from the supplier); resolves a low-stock alert when
    the level is back above its threshold. Returns the new level. Owners and managers
    only."""
    _check_stock_keeper(actor, listing)
    if not 1 <= quantity <= 1_000_000:
        raise field_error("quantity", "between 1 and 1,000,000")
    key = _key(listing, variant_id)
    stock.give_back(key, quantity)
    stock.record(key, MovementKind.RESTOCK, quantity, f"user:{actor.pk}").save()
    level, threshold = stock.levels([key])[key]
    if level > threshold:
        LowStockAlert.objects.filter(
            listing_id=key.listing_id, variant_id=key.variant, resolved_at__isnull=True
        ).update(resolved_at=clock.now())
    audit_log(
        actor=actor,
        action="listing.restocked",
        target=listing,
        data={"variant_id": variant_id, "quantity": quantity, "level": level},
    )
    return level


@transaction.atomic
def stock_count(*, actor: User, listing: Listing, variant_id: int | None, level: int) -> int:
    """Set the stock to what a count found (shrinkage, damage, a miscount). The difference
    is recorded as an adjustment movement, so the history always adds up to the level.

    The item's row is locked for the read and the write: a checkout taking units at the
    same moment waits, then takes from the counted level, and its sale is not undone.
    Owners and managers only."""
    _check_stock_keeper(actor, listing)
    if not 0 <= level <= 1_000_000:
        raise field_error("level", "between 0 and 1,000,000")
    key = _key(listing, variant_id)
    before = stock.locked_level(key)
    if level != before:
        stock.set_level(key, level)
        stock.record(key, MovementKind.ADJUSTMENT, level - before, f"user:{actor.pk}").save()
    _, threshold = stock.levels([key])[key]
    if level > threshold:
        LowStockAlert.objects.filter(
            listing_id=key.listing_id, variant_id=key.variant, resolved_at__isnull=True
        ).update(resolved_at=clock.now())
    audit_log(
        actor=actor,
        action="listing.stock_counted",
        target=listing,
        data={"variant_id": variant_id, "before": before, "level": level},
    )
    return level


@transaction.atomic
def shipping_rules_replace(
    *, actor: User, vendor: Vendor, rules: list[dict[str, Any]]
) -> list[ShippingRule]:
    objects = []
    for index, rule in enumerate(rules):
        kind = rule.get("kind")
        if kind not in ShippingKind.values:
            raise field_error(f"rules.{index}.kind", "flat, weight_band or free_over")
        country = str(rule.get("country") or "").upper()
        if country and country not in ISO_3166_ALPHA2:
            raise field_error(f"rules.{index}.country", "ISO 3166-1 alpha-2, or empty for anywhere")
        if kind == ShippingKind.FREE_OVER and rule.get("threshold_amount") is None:
            raise field_error(f"rules.{index}.threshold_amount", "free_over needs a threshold")
        objects.append(
            ShippingRule(
                vendor=vendor,
                country=country,
                kind=kind,
                amount=int(rule.get("amount") or 0),
                min_weight_grams=int(rule.get("min_weight_grams") or 0),
                max_weight_grams=rule.get("max_weight_grams"),
                threshold_amount=rule.get("threshold_amount"),
            )
        )
    ShippingRule.objects.filter(vendor=vendor).delete()
    created = ShippingRule.objects.bulk_create(objects)
    audit_log(
        actor=actor, action="vendor.shipping_rules_set", target=vendor, data={"count": len(created)}
    )
    return created
