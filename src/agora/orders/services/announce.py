"""What a vendor order's events say: `announce` writes one into the outbox
(agora.notifications.outbox) inside the caller's transaction, beside its audit row.

The data comes from rows the caller has loaded already (the order with its vendor): an
event costs its INSERT (and on SQLite the UPDATE giving its stream position), never a
query for words. Each event carries the customer's page (`url`) and the vendor portal's
(`vendor_url`); escalations add the operators' (`operator_url`).
"""

from __future__ import annotations

from typing import Any

from agora.notifications import outbox
from agora.notifications.models import Event
from agora.orders.models import OrderLine, VendorOrder
from agora.payments import services as payments

# Lines named in an order's mail; the rest are counted ("and 3 more").
LINES_IN_MAIL = 5


def money_data(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def order_data(order: VendorOrder, *, vendor_name: str, timezone: str) -> dict[str, Any]:
    """What every order event carries."""
    return {
        "id": order.pk,
        "status": order.status,
        "url": f"/account/orders/{order.pk}/",
        "vendor_url": f"/vendor/orders/{order.pk}/?vendor={order.vendor_id}",
        "vendor_name": vendor_name,
        "timezone": timezone,
        "total": money_data(order.total_amount, order.currency),
    }


def lines_data(lines: list[OrderLine]) -> dict[str, Any]:
    """The first lines by name and quantity, and how many more there are."""
    return {
        "lines": [
            {"title": line.title, "quantity": line.quantity} for line in lines[:LINES_IN_MAIL]
        ],
        "line_count": len(lines),
        "more_lines": max(0, len(lines) - LINES_IN_MAIL),
    }


def paid_spec(
    order: VendorOrder,
    *,
    lines: list[OrderLine],
    vendor_name: str,
    timezone: str,
    customer_name: str,
) -> outbox.EventSpec:
    """`order.paid` for `outbox.emit_many` (a checkout pays all its orders at once): the
    customer's receipt for this vendor's part, the vendor's new order to accept."""
    data = order_data(order, vendor_name=vendor_name, timezone=timezone)
    data.update(
        lines_data(lines),
        customer_name=customer_name,
        subtotal=money_data(order.subtotal_amount, order.currency),
        shipping=money_data(order.shipping_amount, order.currency),
        receipt_url=f"/account/checkouts/{order.checkout_id}/receipt/",
    )
    return ("order.paid", order, data, order.customer_id, order.vendor_id, False)


def announce(name: str, order: VendorOrder, *, operators: bool = False, **extra: Any) -> Event:
    """Emit order event `name` (`order.shipped`) to the order's customer and vendor.
    Precondition: inside the transaction of the change, `order.vendor` loaded."""
    data = order_data(order, vendor_name=order.vendor.name, timezone=order.vendor.timezone)
    data.update(extra)
    return outbox.emit(
        name,
        subject=order,
        data=data,
        user_id=order.customer_id,
        vendor_id=order.vendor_id,
        operators=operators,
    )


def refunded(amount: int | None, currency: str) -> dict[str, Any]:
    """The event's `refund` (a Money dict), when there was one."""
    return {} if not amount else {"refund": money_data(amount, currency)}


def describe_sale(order_id: int) -> payments.SaleSubject | None:
    """How payments announces a refund or a dispute of `order:<id>` (one query)."""
    order = VendorOrder.objects.select_related("vendor").filter(pk=order_id).first()
    if order is None:
        return None
    return payments.SaleSubject(
        event_prefix="order",
        customer_id=order.customer_id,
        data={
            **order_data(order, vendor_name=order.vendor.name, timezone=order.vendor.timezone),
            "kind": "order",
            "title": f"Order {order.pk}",
        },
    )


def register() -> None:
    """Called once at start-up (OrdersConfig.ready)."""
    payments.sale_describer_register(kind="order", describer=describe_sale)
