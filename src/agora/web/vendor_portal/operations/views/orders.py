"""Orders: the list with a status filter, one order with its lines and shipping address,
and the vendor's moves — accept, ship (carrier + tracking number), deliver, cancel —
through the same fulfilment services as `POST /api/v1/orders/{id}/...`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from agora.accounts.models import User
from agora.core.audit import audit_trail
from agora.core.errors import DomainError
from agora.core.money import Money
from agora.orders.models import OrderStatus, VendorOrder
from agora.orders.services import fulfilment
from agora.vendors.selectors import StaffContext
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.operations import selectors
from agora.web.vendor_portal.operations.forms import CancelForm, ShipForm, add_domain_error
from agora.web.vendor_portal.operations.views.common import is_htmx, page, staff_for


@dataclass(frozen=True)
class OrderAction:
    name: str
    label: str
    style: str = ""


def order_actions(order: VendorOrder) -> list[OrderAction]:
    if order.status == OrderStatus.PAID:
        return [OrderAction("accept", "Accept order"), OrderAction("cancel", "Cancel", "danger")]
    if order.status == OrderStatus.ACCEPTED:
        return [OrderAction("ship", "Ship"), OrderAction("cancel", "Cancel", "danger")]
    if order.status == OrderStatus.SHIPPED:
        return [OrderAction("deliver", "Mark delivered")]
    return []


def present_order(order: VendorOrder) -> VendorOrder:
    currency = order.currency
    order.total = Money(order.total_amount, currency)  # type: ignore[attr-defined]
    order.subtotal = Money(order.subtotal_amount, currency)  # type: ignore[attr-defined]
    order.shipping = Money(order.shipping_amount, currency)  # type: ignore[attr-defined]
    lines = list(order.lines.all())  # prefetched
    for line in lines:
        line.unit_price = Money(line.unit_price_amount, currency)  # type: ignore[attr-defined]
        line.line_total = Money(line.line_total_amount, currency)  # type: ignore[attr-defined]
    order.line_list = lines  # type: ignore[attr-defined]
    order.item_count = sum(line.quantity for line in lines)  # type: ignore[attr-defined]
    order.actions = order_actions(order)  # type: ignore[attr-defined]
    order.action_names = {a.name for a in order.actions}  # type: ignore[attr-defined]
    return order


@require_safe
@vendor_staff_required
def order_list(request: HttpRequest) -> HttpResponse:
    staff = staff_for(request)
    status = request.GET.get("status") or None
    result = selectors.orders_page(
        staff=staff, status=status, cursor=request.GET.get("cursor") or None
    )
    return page(
        request,
        "orders.html",
        staff,
        {
            "page_title": "Orders — vendor portal",
            "orders": [present_order(o) for o in result.items],
            "next_cursor": result.next_cursor,
            "status": status or "",
            "status_choices": OrderStatus.choices,
        },
    )


def _detail_context(order: VendorOrder, ship_form: forms.Form | None = None) -> dict[str, Any]:
    return {
        "page_title": f"Order #{order.pk} — vendor portal",
        "order": present_order(order),
        "address": order.checkout.shipping_address or {},
        "history": list(audit_trail(order).select_related("actor")),
        "ship_form": ship_form or ShipForm(),
        "cancel_form": CancelForm(),
    }


@require_safe
@vendor_staff_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    staff = staff_for(request)
    order = selectors.order_get(staff=staff, user=request.user, order_id=order_id)
    return page(request, "order_detail.html", staff, _detail_context(order))


Move = Callable[[User, VendorOrder, dict[str, Any]], VendorOrder]

MOVES: dict[str, tuple[Move, str]] = {
    "accept": (lambda u, o, f: fulfilment.order_accept(actor=u, order=o), "Order accepted."),
    "ship": (
        lambda u, o, f: fulfilment.order_ship(
            actor=u, order=o, carrier=f["carrier"], tracking_number=f["tracking_number"]
        ),
        "Order shipped; the customer can track it.",
    ),
    "deliver": (
        lambda u, o, f: fulfilment.order_deliver(actor=u, order=o),
        "Order marked delivered.",
    ),
    "cancel": (
        lambda u, o, f: fulfilment.order_cancel(actor=u, order=o, reason=f["reason"]),
        "Order cancelled; stock is back and the customer is refunded.",
    ),
}

FORMS: dict[str, type[forms.Form]] = {"ship": ShipForm, "cancel": CancelForm}


def _order_page(
    request: HttpRequest, staff: StaffContext, context: dict[str, Any], status: int
) -> HttpResponse:
    if is_htmx(request):
        return page(request, "partials/order_card.html", staff, context)
    return page(request, "order_detail.html", staff, context, status=status)


@require_POST
@vendor_staff_required
def order_move(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    staff = staff_for(request)
    order = selectors.order_get(staff=staff, user=request.user, order_id=order_id)
    if action not in MOVES:
        raise Http404("No such action.")
    move, done = MOVES[action]
    form_class = FORMS.get(action)
    form = form_class(request.POST) if form_class else None
    error, status = "", 200
    if form is not None and not form.is_valid():
        error, status = "Please correct the fields below.", 422
    else:
        try:
            move(request.user, order, form.cleaned_data if form else {})  # type: ignore[arg-type]
        except DomainError as refusal:
            error, status = refusal.detail, int(refusal.status)
            if form is not None:
                add_domain_error(form, refusal)
    order = selectors.order_get(staff=staff, user=request.user, order_id=order.pk)
    ship_form = form if action == "ship" and error else None
    context = _detail_context(order, ship_form)
    context.update({"error": error, "notice": "" if error else done})
    if error or is_htmx(request):
        return _order_page(request, staff, context, status if not is_htmx(request) else 200)
    messages.success(request, f"Order #{order.pk}: {done}")
    return redirect(f"/vendor/orders/{order.pk}/")
