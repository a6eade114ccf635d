"""Stock of products and variants, changed only by conditional UPDATEs.

`take` is `UPDATE ... SET stock = stock - n WHERE id = %s AND stock >= n`: the database
decides atomically whether the units are there, so two buyers can never both take the
last one, and the row stays locked until the transaction ends. Callers take items in
`ItemKey` order, so two checkouts with the same items in opposite orders wait for each
other instead of deadlocking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.db.models import F, QuerySet

from agora.catalog.models import Listing, ProductVariant
from agora.orders.models import MovementKind, ReservationStatus, StockMovement, StockReservation


@dataclass(frozen=True, order=True)
class ItemKey:
    listing_id: int
    variant_id: int  # 0 for a product without variants

    @property
    def variant(self) -> int | None:
        return self.variant_id or None


def _rows(key: ItemKey) -> QuerySet[Listing] | QuerySet[ProductVariant]:
    if key.variant_id:
        return ProductVariant.objects.filter(pk=key.variant_id)
    return Listing.objects.filter(pk=key.listing_id)


class Level(NamedTuple):
    """An item's stock after a change, and its low-stock threshold."""

    stock: int
    threshold: int


_TAKE = (
    "UPDATE {table} SET stock = stock - %s WHERE id = %s AND stock >= %s"
    " RETURNING stock, low_stock_threshold"
)


def take(key: ItemKey, quantity: int) -> Level | None:
    """Take `quantity` units if they are there and return the level left; None (and
    nothing changed) if they are not. One statement: the conditional UPDATE returns the
    new level, so low-stock checks need no second read."""
    if not connection.features.can_return_columns_from_insert:  # SQLite < 3.35: no RETURNING
        if not _rows(key).filter(stock__gte=quantity).update(stock=F("stock") - quantity):
            return None
        return Level(*levels([key])[key])
    model = ProductVariant if key.variant_id else Listing
    row_id = key.variant_id or key.listing_id
    # Only our own model's quoted table name is interpolated; the values are parameters.
    sql = _TAKE.format(table=connection.ops.quote_name(model._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [quantity, row_id, quantity])
        row = cursor.fetchone()
    return None if row is None else Level(int(row[0]), int(row[1]))


def locked_level(key: ItemKey) -> int:
    """The item's stock, with its row locked until the transaction ends."""
    return int(_rows(key).select_for_update().values_list("stock", flat=True).get())


def set_level(key: ItemKey, level: int) -> None:
    _rows(key).update(stock=level)


def give_back(key: ItemKey, quantity: int) -> None:
    _rows(key).update(stock=F("stock") + quantity)


def record(key: ItemKey, kind: str, quantity: int, reference: str) -> StockMovement:
    return StockMovement(
        listing_id=key.listing_id,
        variant_id=key.variant,
        kind=kind,
        quantity=quantity,
        reference=reference,
    )


def release(reservation: StockReservation, *, reference: str) -> bool:
    """Release a live reservation and put its units back; False (nothing changed) when it
    is no longer live — a buyer or the sweeper released it first, or a payment consumed it."""
    if not StockReservation.objects.filter(pk=reservation.pk, status=ReservationStatus.LIVE).update(
        status=ReservationStatus.RELEASED
    ):
        return False
    key = ItemKey(reservation.listing_id, reservation.variant_id or 0)
    give_back(key, reservation.quantity)
    record(key, MovementKind.RELEASE, reservation.quantity, reference).save()
    return True


def release_expired(keys: Iterable[ItemKey], *, now: datetime) -> int:
    """Return the units of live reservations past their expiry for these items.

    Called inside the buyer's transaction before taking stock, so an expired reservation
    never blocks a buyer, whatever the sweeping task has done. One query finds them for
    all the items; releasing (rare) goes item by item in `keys` order. Precondition:
    `keys` sorted (lock order)."""
    keys = list(keys)
    wanted = set(keys)
    found: dict[ItemKey, list[tuple[int, int, int]]] = defaultdict(list)
    for pk, listing_id, variant_id, quantity, checkout_id in (
        StockReservation.objects.filter(
            listing_id__in={key.listing_id for key in keys},
            status=ReservationStatus.LIVE,
            expires_at__lte=now,
        )
        .order_by()
        .values_list("pk", "listing_id", "variant_id", "quantity", "checkout_id")
    ):
        key = ItemKey(listing_id, variant_id or 0)
        if key in wanted:
            found[key].append((pk, quantity, checkout_id))
    released = 0
    for key in keys:
        # Conditional: a concurrent sweeper may have released some already.
        for pk, quantity, checkout_id in sorted(found.get(key, ())):
            if StockReservation.objects.filter(pk=pk, status=ReservationStatus.LIVE).update(
                status=ReservationStatus.RELEASED
            ):
                give_back(key, quantity)
                record(key, MovementKind.RELEASE, quantity, f"checkout:{checkout_id}").save()
                released += 1
    return released


def levels(keys: Iterable[ItemKey]) -> dict[ItemKey, tuple[int, int]]:
    """(stock, low-stock threshold) per item, two queries."""
    keys = list(keys)
    plain = [k.listing_id for k in keys if not k.variant_id]
    variants = [k.variant_id for k in keys if k.variant_id]
    result: dict[ItemKey, tuple[int, int]] = {}
    for listing_id, stock, threshold in Listing.objects.filter(pk__in=plain).values_list(
        "pk", "stock", "low_stock_threshold"
    ):
        result[ItemKey(listing_id, 0)] = (stock, threshold)
    for variant_id, listing_id, stock, threshold in ProductVariant.objects.filter(
        pk__in=variants
    ).values_list("pk", "listing_id", "stock", "low_stock_threshold"):
        result[ItemKey(listing_id, variant_id)] = (stock, threshold)
    return result
