"""Order reads, scoped: a customer sees their own checkouts and orders; vendor staff see
their vendors' orders; anyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from agora.core.errors import NotFound
from agora.core.pagination import Page, paginate
from agora.orders.models import Checkout, LowStockAlert, OrderLine, StockMovement, VendorOrder
from agora.vendors.selectors import staff_vendor_ids


def _orders() -> QuerySet[VendorOrder]:
    return VendorOrder.objects.select_related("vendor", "checkout").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def checkout_get_for_customer(*, user: Any, checkout_id: int) -> Checkout:
    checkout = (
        Checkout.objects.filter(pk=checkout_id, customer_id=user.pk)
        .prefetch_related(Prefetch("orders", queryset=_orders().order_by("id")))
        .first()
    )
    if checkout is None:
        raise NotFound("No such checkout.")
    return checkout


def order_get_visible(*, user: Any, order_id: int) -> VendorOrder:
    order = (
        _orders()
        .filter(Q(customer_id=user.pk) | Q(vendor_id__in=staff_vendor_ids(user=user)), pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def order_get_for_staff(*, user: Any, order_id: int) -> VendorOrder:
    order = _orders().filter(pk=order_id, vendor_id__in=staff_vendor_ids(user=user)).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def order_get_for_customer(*, user: Any, order_id: int) -> VendorOrder:
    order = _orders().filter(pk=order_id, customer_id=user.pk).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def orders_for_user(
    *, user: Any, as_vendor: bool, status: str | None, cursor: str | None, limit: int = 20
) -> Page[VendorOrder]:
    orders = (
        _orders().filter(vendor_id__in=staff_vendor_ids(user=user))
        if as_vendor
        else _orders().filter(customer_id=user.pk)
    )
    if status:
        orders = orders.filter(status=status)
    return paginate(orders, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def low_stock_alerts(*, vendor_id: int) -> list[LowStockAlert]:
    return list(
        LowStockAlert.objects.filter(vendor_id=vendor_id, resolved_at__isnull=True)
        .select_related("listing", "variant")
        .order_by("-created_at")
    )


def stock_movements(
    *, listing_id: int, variant_id: int | None, limit: int = 200
) -> list[StockMovement]:
    return list(
        StockMovement.objects.filter(listing_id=listing_id, variant_id=variant_id).order_by(
            "-created_at", "-id"
        )[:limit]
    )
