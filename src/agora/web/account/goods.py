"""Buying goods: the cart (one cart, many vendors), checkout paying once with the sandbox
card, the confirmation, and each vendor's order with its status and tracking.

The same services as `agora.orders.api`: `cart_set_item`, `checkout_create`,
`checkout_pay`, `order_complete`, `order_cancel`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agora.accounts.models import User
from agora.catalog.models import ListingKind, ListingStatus
from agora.core import clock
from agora.core.audit import audit_trail
from agora.core.errors import DomainError, NotFound
from agora.orders import selectors
from agora.orders.models import Cart, CartItem, Checkout, OrderStatus, ShippingRule, VendorOrder
from agora.orders.services import cart as carts
from agora.orders.services import checkout as checkouts
from agora.orders.services import fulfilment
from agora.orders.shipping import ShippingRuleSpec, shipping_amount
from agora.payments.errors import PaymentError
from agora.vendors.models import VendorStatus
from agora.web.access import customer_required
from agora.web.account import display, once
from agora.web.account.common import customer
from agora.web.account.forms import (
    COUNTRIES,
    CartAddForm,
    CartLineForm,
    CheckoutForm,
    PayForm,
)
from agora.web.account.refusals import (
    attach_to_form,
    form_again,
    refusal_message,
    short_lines,
)

SESSION_COUNTRY = "account.ship_to"


# --- the cart as the page shows it ------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    listing_id: int
    variant_id: int | None
    title: str
    quantity: int
    unit_price: str
    line_total: str
    on_sale: bool
    in_stock: int


@dataclass
class VendorGroup:
    vendor_id: int
    vendor_name: str
    lines: list[CartLine] = field(default_factory=list)
    subtotal_amount: int = 0
    weight_grams: int = 0
    shipping_amount: int = 0
    currency: str = "GBP"

    @property
    def subtotal(self) -> str:
        return display.money(self.subtotal_amount, self.currency)

    @property
    def shipping(self) -> str:
        return display.money(self.shipping_amount, self.currency)

    @property
    def total(self) -> str:
        return display.money(self.subtotal_amount + self.shipping_amount, self.currency)


@dataclass(frozen=True)
class CartView:
    groups: list[VendorGroup]
    total: str
    count: int
    has_unavailable: bool
    currencies: set[str]


def _cart_view(cart: Cart, *, country: str) -> CartView:
    """The cart grouped by vendor with each vendor's shipping to `country`. Prices and
    shipping follow the same rules the checkout charges by (agora.orders.shipping); the
    checkout prices everything again from the live catalogue. Two queries."""
    items = list(
        CartItem.objects.filter(cart=cart)
        .select_related("listing", "listing__vendor", "variant")
        .order_by("id")
    )
    groups: dict[int, VendorGroup] = {}
    has_unavailable = False
    for item in items:
        listing, variant = item.listing, item.variant
        on_sale = (
            listing.status == ListingStatus.ACTIVE
            and listing.vendor.status == VendorStatus.ACTIVE
            and listing.kind == ListingKind.PRODUCT
        )
        has_unavailable = has_unavailable or not on_sale
        unit = (
            variant.price_amount
            if variant is not None and variant.price_amount is not None
            else listing.price_amount
        )
        group = groups.setdefault(
            listing.vendor_id,
            VendorGroup(listing.vendor_id, listing.vendor.name, currency=listing.currency),
        )
        group.lines.append(
            CartLine(
                listing_id=listing.pk,
                variant_id=item.variant_id,
                title=listing.title + (f" — {variant.name}" if variant else ""),
                quantity=item.quantity,
                unit_price=display.money(unit, listing.currency),
                line_total=display.money(unit * item.quantity, listing.currency),
                on_sale=on_sale,
                in_stock=variant.stock if variant is not None else listing.stock,
            )
        )
        if on_sale:
            group.subtotal_amount += unit * item.quantity
            group.weight_grams += listing.weight_grams * item.quantity
    rules: dict[int, list[ShippingRuleSpec]] = defaultdict(list)
    if groups:
        for rule in ShippingRule.objects.filter(vendor_id__in=list(groups)):
            rules[rule.vendor_id].append(
                ShippingRuleSpec(
                    rule.country,
                    rule.kind,
                    rule.amount,
                    rule.min_weight_grams,
                    rule.max_weight_grams,
                    rule.threshold_amount,
                )
            )
    for group in groups.values():
        if group.subtotal_amount:
            group.shipping_amount = shipping_amount(
                rules[group.vendor_id],
                country=country,
                subtotal=group.subtotal_amount,
                weight_grams=group.weight_grams,
            )
    currencies = {group.currency for group in groups.values()}
    currency = next(iter(currencies)) if len(currencies) == 1 else "GBP"
    total = sum(g.subtotal_amount + g.shipping_amount for g in groups.values())
    return CartView(
        groups=sorted(groups.values(), key=lambda g: (g.vendor_name, g.vendor_id)),
        total=display.money(total, currency) if len(currencies) <= 1 else "",
        count=sum(item.quantity for item in items),
        has_unavailable=has_unavailable,
        currencies=currencies,
    )


def _country(request: HttpRequest) -> str:
    known = {code for code, _ in COUNTRIES}
    chosen = request.GET.get("country")
    if chosen in known:
        request.session[SESSION_COUNTRY] = chosen
        return str(chosen)
    stored = request.session.get(SESSION_COUNTRY)
    return str(stored) if stored in known else "GB"


def _cart(user: User) -> Cart:
    return carts.cart_for_user(user=user)


@customer_required
@require_safe
def cart_page(request: HttpRequest) -> HttpResponse:
    country = _country(request)
    view = _cart_view(_cart(customer(request)), country=country)
    return render(
        request,
        "web/account/cart.html",
        {
            "page_title": "Your cart",
            "cart": view,
            "country": country,
            "countries": COUNTRIES,
        },
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def cart_add(request: HttpRequest) -> HttpResponse:
    """POST (from the public pages): add to the cart. GET with the same fields, where a
    signed-out visitor lands after signing in: confirm before adding."""
    if request.method != "POST":
        form = CartAddForm(request.GET or None)
        if not request.GET:
            return redirect("web:account-cart")
        listing = None
        if form.is_valid():
            listing = _product_or_none(form.cleaned_data["listing_id"])
        return render(
            request,
            "web/account/cart_add.html",
            {"page_title": "Add to your cart", "form": form, "listing": listing},
            status=200 if listing is not None else 404,
        )
    form = CartAddForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "web/account/cart_add.html",
            {"page_title": "Add to your cart", "form": form, "listing": None},
            status=400,
        )
    cart = _cart(customer(request))
    listing_id = form.cleaned_data["listing_id"]
    variant_id = form.cleaned_data["variant_id"]
    current = (
        CartItem.objects.filter(cart=cart, listing_id=listing_id, variant_id=variant_id)
        .values_list("quantity", flat=True)
        .first()
        or 0
    )
    try:
        carts.cart_set_item(
            cart=cart,
            listing_id=listing_id,
            variant_id=variant_id,
            quantity=min(current + form.cleaned_data["quantity"], checkouts.MAX_QUANTITY),
        )
    except DomainError as error:
        attach_to_form(form, error)
        return render(
            request,
            "web/account/cart_add.html",
            {
                "page_title": "Add to your cart",
                "form": form,
                "listing": _product_or_none(listing_id),
            },
            status=error.status,
        )
    messages.success(request, "Added to your cart.")
    return redirect("web:account-cart")


def _product_or_none(listing_id: int) -> object | None:
    from agora.catalog.selectors import public_listings

    return (
        public_listings()
        .filter(pk=listing_id, kind=ListingKind.PRODUCT)
        .select_related("vendor")
        .prefetch_related("variants")
        .first()
    )


@customer_required
@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    """Set a line's quantity; 0 removes it."""
    form = CartLineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 0 and 999.")
        return redirect("web:account-cart")
    try:
        carts.cart_set_item(
            cart=_cart(customer(request)),
            listing_id=form.cleaned_data["listing_id"],
            variant_id=form.cleaned_data["variant_id"],
            quantity=form.cleaned_data["quantity"],
        )
    except NotFound:
        # No longer on sale: it can still be taken out of the cart.
        CartItem.objects.filter(
            cart__user=customer(request),
            listing_id=form.cleaned_data["listing_id"],
            variant_id=form.cleaned_data["variant_id"],
        ).delete()
        messages.info(request, "Removed an item that is no longer on sale.")
        return redirect("web:account-cart")
    except DomainError as error:
        messages.error(request, refusal_message(error))
        return redirect("web:account-cart")
    messages.success(
        request, "Removed from your cart." if form.cleaned_data["quantity"] == 0 else "Updated."
    )
    return redirect("web:account-cart")


# --- checkout -----------------------------------------------------------------------------------


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def checkout_page(request: HttpRequest) -> HttpResponse:
    cart = _cart(customer(request))
    status = 200
    lines: list[dict[str, object]] = []
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            outcome = _check_out(request, cart, form)
            if isinstance(outcome, HttpResponse):
                return outcome
            status = outcome.status
            lines = short_lines(outcome)
            form = form_again(CheckoutForm, request.POST, outcome)
        else:
            status = 400
        country = str(form.data.get("country") or _country(request))
    else:
        country = _country(request)
        form = CheckoutForm(
            initial={"token": once.new_token(), "country": country, "name": customer(request).name}
        )
    view = _cart_view(cart, country=country if country in dict(COUNTRIES) else "GB")
    if not view.groups and request.method != "POST":
        messages.info(request, "Your cart is empty.")
        return redirect("web:account-cart")
    return render(
        request,
        "web/account/checkout.html",
        {"page_title": "Check out", "cart": view, "form": form, "short_lines": lines},
        status=status,
    )


def _check_out(request: HttpRequest, cart: Cart, form: CheckoutForm) -> HttpResponse | DomainError:
    """Reserve and pay once per form token. A declined card keeps the reservation (as the
    API does): the cart is emptied and the customer pays again on the checkout's page."""
    token = form.cleaned_data["token"]
    user = customer(request)
    with transaction.atomic():
        done = once.claim(user=user, purpose="checkout", token=token)
        if done:
            return redirect(done)
        try:
            created = carts.cart_checkout(
                cart=cart,
                customer=user,
                shipping_address=form.address(),
                payment_method=form.cleaned_data["payment_method"],
                idempotency_key=f"web-{token}",
            )
        except PaymentError as error:
            checkout_id = error.extra.get("checkout_id")
            if checkout_id is None:
                transaction.set_rollback(True)
                return error
            # cart_checkout emptied the cart: the items wait, reserved, in the checkout.
            path = reverse("web:account-checkout-pay", args=[checkout_id])
            once.remember(user=user, purpose="checkout", token=token, result=path)
            messages.error(
                request,
                f"{refusal_message(error)} Your items stay reserved for you for a few minutes.",
            )
            return redirect(path)
        except DomainError as error:
            transaction.set_rollback(True)
            return error
        path = reverse("web:account-checkout", args=[created.pk])
        once.remember(user=user, purpose="checkout", token=token, result=path)
    return redirect(path)


@dataclass(frozen=True)
class OrderRow:
    order: VendorOrder
    status_text: str
    subtotal: str
    shipping: str
    total: str
    lines: list[tuple[str, int, str, str]]  # title, quantity, unit price, line total


def _order_row(order: VendorOrder) -> OrderRow:
    money = display.money
    return OrderRow(
        order=order,
        status_text=display.order_status_text(order.status),
        subtotal=money(order.subtotal_amount, order.currency),
        shipping=money(order.shipping_amount, order.currency),
        total=money(order.total_amount, order.currency),
        lines=[
            (
                line.title,
                line.quantity,
                money(line.unit_price_amount, order.currency),
                money(line.line_total_amount, order.currency),
            )
            for line in order.lines.all()
        ],
    )


def _zone(checkout: Checkout) -> str:
    """Checkout times read in the (first) vendor's zone, like the rest of the order."""
    orders = list(checkout.orders.all())
    return orders[0].vendor.timezone if orders else "UTC"


def _checkout_context(checkout: Checkout) -> dict[str, object]:
    return {
        "checkout": checkout,
        "orders": [_order_row(order) for order in checkout.orders.all()],
        "total": display.money(checkout.total_amount, checkout.currency),
        "address": checkout.shipping_address,
    }


@customer_required
@require_safe
def checkout_detail(request: HttpRequest, checkout_id: int) -> HttpResponse:
    checkout = selectors.checkout_get_for_customer(user=customer(request), checkout_id=checkout_id)
    return render(
        request,
        "web/account/checkout_detail.html",
        {"page_title": f"Order {checkout.pk}", **_checkout_context(checkout)},
    )


@customer_required
@require_http_methods(["GET", "HEAD", "POST"])
def checkout_pay(request: HttpRequest, checkout_id: int) -> HttpResponse:
    """Pay a reserved checkout again after a declined card."""
    checkout = selectors.checkout_get_for_customer(user=customer(request), checkout_id=checkout_id)
    status = 200
    if checkout.status != "reserved":
        return redirect("web:account-checkout", checkout_id=checkout.pk)
    if request.method == "POST":
        form = PayForm(request.POST)
        if form.is_valid():
            token = form.cleaned_data["token"]
            refusal: DomainError | None = None
            with transaction.atomic():
                done = once.claim(user=customer(request), purpose="checkout-pay", token=token)
                if done:
                    return redirect(done)
                try:
                    checkouts.checkout_pay(
                        customer=customer(request),
                        checkout=checkout,
                        payment_method=form.cleaned_data["payment_method"],
                        idempotency_key=f"web-{token}",
                    )
                except DomainError as error:
                    transaction.set_rollback(True)
                    refusal = error
                else:
                    path = reverse("web:account-checkout", args=[checkout.pk])
                    once.remember(
                        user=customer(request), purpose="checkout-pay", token=token, result=path
                    )
                    messages.success(request, "Paid. Thank you!")
                    return redirect(path)
            assert refusal is not None
            status = refusal.status
            form = form_again(PayForm, request.POST, refusal)
        else:
            status = 400
    else:
        form = PayForm(initial={"token": once.new_token()})
    live = checkout.expires_at > clock.now()
    seconds_left = max(0, int((checkout.expires_at - clock.now()).total_seconds()))
    return render(
        request,
        "web/account/checkout_pay.html",
        {
            "page_title": "Pay for your order",
            "form": form,
            "live": live,
            "expires_at_iso": checkout.expires_at.isoformat(),
            "expires_at_text": display.local_time(checkout.expires_at, _zone(checkout)),
            "minutes_left": (seconds_left + 59) // 60,
            **_checkout_context(checkout),
        },
        status=status if live else 409,
    )


@customer_required
@require_safe
def checkout_receipt(request: HttpRequest, checkout_id: int) -> HttpResponse:
    checkout = selectors.checkout_get_for_customer(user=customer(request), checkout_id=checkout_id)
    orders = list(checkout.orders.all())
    receipt = display.receipt_for(
        {order.reference: f"{order.vendor.name} (order {order.pk})" for order in orders},
        timezone=_zone(checkout),
    )
    if receipt is None:
        raise NotFound("Nothing has been paid for this order yet.")
    return render(
        request,
        "web/account/checkout_receipt.html",
        {
            "page_title": f"Receipt for order {checkout.pk}",
            "receipt": receipt,
            **_checkout_context(checkout),
        },
    )


# --- one vendor's order ------------------------------------------------------------------------


@customer_required
@require_safe
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get_for_customer(user=customer(request), order_id=order_id)
    timezone = order.vendor.timezone
    steps = [
        display.TimelineStep(
            status=str(entry.data.get("to") or entry.action.removeprefix("order.")),
            text=display.order_status_text(
                str(entry.data.get("to") or entry.action.removeprefix("order."))
            ),
            at=display.local_time(entry.at, timezone),
            by="by you"
            if entry.actor_id == order.customer_id
            else "automatically"
            if entry.actor_id is None
            else "by the vendor",
            reason=str(entry.data.get("reason", "")),
        )
        for entry in audit_trail(order)
    ]
    return render(
        request,
        "web/account/order_detail.html",
        {
            "page_title": f"Order {order.pk} from {order.vendor.name}",
            "row": _order_row(order),
            "order": order,
            "timeline": steps,
            "can_confirm": order.status == OrderStatus.DELIVERED,
            "can_cancel": order.status in (OrderStatus.RESERVED, OrderStatus.PAID),
            "can_review": order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED),
            "paid": order.paid_at is not None,
        },
    )


@customer_required
@require_POST
def order_confirm(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get_for_customer(user=customer(request), order_id=order_id)
    try:
        fulfilment.order_complete(
            actor=customer(request), order=order, reason="delivery confirmed by the customer"
        )
    except DomainError as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, "Thank you — delivery confirmed.")
    return redirect("web:account-order", order_id=order.pk)


@customer_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get_for_customer(user=customer(request), order_id=order_id)
    try:
        fulfilment.order_cancel(
            actor=customer(request),
            order=order,
            reason="cancelled by the customer",
            by_customer=True,
        )
    except DomainError as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(
            request,
            "Order cancelled."
            + (" You will be refunded in full." if order.paid_at is not None else ""),
        )
    return redirect("web:account-order", order_id=order.pk)
