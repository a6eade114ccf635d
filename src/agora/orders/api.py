from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agora.accounts.auth import acting_user, bearer
from agora.accounts.models import User
from agora.catalog.selectors import listing_get_for_staff
from agora.core.money import MoneySchema
from agora.core.pagination import PageOut
from agora.orders import selectors
from agora.orders.models import VendorOrder
from agora.orders.schemas import (
    CartCheckoutIn,
    CartItemIn,
    CartItemOut,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    LowStockOut,
    OrderOut,
    OrderStatusOut,
    PayIn,
    ReasonIn,
    RestockIn,
    ShipIn,
    ShippingRulesIn,
    StockCountIn,
    StockLevelOut,
)
from agora.orders.services import cart, checkout, fulfilment, inventory
from agora.vendors.selectors import MANAGER_ROLES, vendor_get_for_staff

router = Router(tags=["orders"])


def _key(request: HttpRequest, fallback: str) -> str:
    return request.headers.get("Idempotency-Key") or fallback


@router.post(
    "/checkout",
    response={201: CheckoutOut},
    auth=bearer,
    summary="Buy from one or more vendors (Idempotency-Key)",
)
def checkout_create(request: HttpRequest, payload: CheckoutIn) -> Status[CheckoutOut]:
    user = acting_user(request)
    created = checkout.checkout_create(
        customer=user,
        items=[checkout.ItemRequest(i.listing_id, i.variant_id, i.quantity) for i in payload.items],
        shipping_address=payload.shipping_address.dict(),
        payment_method=payload.payment_method,
        idempotency_key=_key(request, f"checkout:{request.request_id}"),  # type: ignore[attr-defined]
    )
    return Status(
        201, CheckoutOut.of(selectors.checkout_get_for_customer(user=user, checkout_id=created.pk))
    )


@router.post(
    "/checkout/{checkout_id}/pay",
    response=CheckoutOut,
    auth=bearer,
    summary="Pay a reserved checkout (Idempotency-Key)",
)
def checkout_pay(request: HttpRequest, checkout_id: int, payload: PayIn) -> CheckoutOut:
    user = acting_user(request)
    found = selectors.checkout_get_for_customer(user=user, checkout_id=checkout_id)
    checkout.checkout_pay(
        customer=user,
        checkout=found,
        payment_method=payload.payment_method,
        idempotency_key=_key(request, f"pay:{request.request_id}"),  # type: ignore[attr-defined]
    )
    return CheckoutOut.of(selectors.checkout_get_for_customer(user=user, checkout_id=checkout_id))


@router.get("/checkout/{checkout_id}", response=CheckoutOut, auth=bearer)
def checkout_detail(request: HttpRequest, checkout_id: int) -> CheckoutOut:
    return CheckoutOut.of(
        selectors.checkout_get_for_customer(user=acting_user(request), checkout_id=checkout_id)
    )


def _status(order: VendorOrder) -> OrderStatusOut:
    return OrderStatusOut(id=order.pk, status=order.status)


def _staff_order(request: HttpRequest, order_id: int) -> tuple[User, VendorOrder]:
    user = acting_user(request)
    return user, selectors.order_get_for_staff(user=user, order_id=order_id)


@router.post("/orders/{order_id}/accept", response=OrderStatusOut, auth=bearer)
def order_accept(request: HttpRequest, order_id: int) -> OrderStatusOut:
    user, order = _staff_order(request, order_id)
    return _status(fulfilment.order_accept(actor=user, order=order))


@router.post("/orders/{order_id}/ship", response=OrderStatusOut, auth=bearer)
def order_ship(request: HttpRequest, order_id: int, payload: ShipIn) -> OrderStatusOut:
    user, order = _staff_order(request, order_id)
    return _status(
        fulfilment.order_ship(
            actor=user,
            order=order,
            carrier=payload.carrier,
            tracking_number=payload.tracking_number,
        )
    )


@router.post(
    "/orders/{order_id}/deliver",
    response=OrderStatusOut,
    auth=bearer,
    summary="Mark delivered (vendor)",
)
def order_deliver(request: HttpRequest, order_id: int) -> OrderStatusOut:
    user, order = _staff_order(request, order_id)
    return _status(fulfilment.order_deliver(actor=user, order=order))


@router.post(
    "/orders/{order_id}/confirm",
    response=OrderStatusOut,
    auth=bearer,
    summary="Confirm delivery (customer)",
)
def order_confirm(request: HttpRequest, order_id: int) -> OrderStatusOut:
    user = acting_user(request)
    order = selectors.order_get_for_customer(user=user, order_id=order_id)
    return _status(
        fulfilment.order_complete(
            actor=user, order=order, reason="delivery confirmed by the customer"
        )
    )


@router.post(
    "/orders/{order_id}/cancel",
    response=OrderStatusOut,
    auth=bearer,
    summary="Cancel (customer before acceptance, or vendor)",
)
def order_cancel(
    request: HttpRequest, order_id: int, payload: ReasonIn | None = None
) -> OrderStatusOut:
    user = acting_user(request)
    order = selectors.order_get_visible(user=user, order_id=order_id)
    by_customer = order.customer_id == user.pk
    return _status(
        fulfilment.order_cancel(
            actor=user,
            order=order,
            reason=payload.reason if payload else "",
            by_customer=by_customer,
        )
    )


@router.get("/orders/{order_id}", response=OrderOut, auth=bearer)
def order_detail(request: HttpRequest, order_id: int) -> OrderOut:
    return OrderOut.of(selectors.order_get_visible(user=acting_user(request), order_id=order_id))


class OrderListQuery(Schema):
    as_: str = Field("customer", alias="as", pattern="^(customer|vendor)$")
    status: str | None = None
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/orders",
    response=PageOut[OrderOut],
    auth=bearer,
    summary="My orders (as customer or vendor staff)",
)
def order_list(request: HttpRequest, query: Query[OrderListQuery]) -> PageOut[OrderOut]:
    page = selectors.orders_for_user(
        user=acting_user(request),
        as_vendor=query.as_ == "vendor",
        status=query.status,
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[OrderOut](
        items=[OrderOut.of(o) for o in page.items], next_cursor=page.next_cursor
    )


# --- cart ---------------------------------------------------------------------------------


def _cart_out(user: User) -> CartOut:
    items = cart.cart_for_user(user=user).items.select_related("listing", "variant").order_by("id")
    return CartOut(
        items=[
            CartItemOut(
                listing_id=item.listing_id,
                variant_id=item.variant_id,
                title=item.listing.title + (f" — {item.variant.name}" if item.variant else ""),
                quantity=item.quantity,
                unit_price=MoneySchema(
                    amount=item.variant.price_amount
                    if item.variant and item.variant.price_amount is not None
                    else item.listing.price_amount,
                    currency=item.listing.currency,
                ),
            )
            for item in items
        ]
    )


@router.get("/cart", response=CartOut, auth=bearer)
def cart_detail(request: HttpRequest) -> CartOut:
    return _cart_out(acting_user(request))


@router.put(
    "/cart/items", response=CartOut, auth=bearer, summary="Set an item's quantity (0 removes it)"
)
def cart_set_item(request: HttpRequest, payload: CartItemIn) -> CartOut:
    user = acting_user(request)
    cart.cart_set_item(
        cart=cart.cart_for_user(user=user),
        listing_id=payload.listing_id,
        variant_id=payload.variant_id,
        quantity=payload.quantity,
    )
    return _cart_out(user)


@router.post(
    "/cart/checkout",
    response={201: CheckoutOut},
    auth=bearer,
    summary="Check out the cart (Idempotency-Key)",
)
def cart_checkout(request: HttpRequest, payload: CartCheckoutIn) -> Status[CheckoutOut]:
    user = acting_user(request)
    created = cart.cart_checkout(
        cart=cart.cart_for_user(user=user),
        customer=user,
        shipping_address=payload.shipping_address.dict(),
        payment_method=payload.payment_method,
        idempotency_key=_key(request, f"cart:{request.request_id}"),  # type: ignore[attr-defined]
    )
    return Status(
        201, CheckoutOut.of(selectors.checkout_get_for_customer(user=user, checkout_id=created.pk))
    )


# --- vendor stock and shipping --------------------------------------------------------------


@router.post(
    "/listings/{listing_id}/restock", response=StockLevelOut, auth=bearer, summary="Add stock"
)
def restock(request: HttpRequest, listing_id: int, payload: RestockIn) -> StockLevelOut:
    user = acting_user(request)
    listing = listing_get_for_staff(user=user, listing_id=listing_id)
    level = inventory.restock(
        actor=user, listing=listing, variant_id=payload.variant_id, quantity=payload.quantity
    )
    return StockLevelOut(listing_id=listing.pk, variant_id=payload.variant_id, stock=level)


@router.post(
    "/listings/{listing_id}/stock-count",
    response=StockLevelOut,
    auth=bearer,
    summary="Set stock to a counted level (recorded as an adjustment)",
)
def stock_count(request: HttpRequest, listing_id: int, payload: StockCountIn) -> StockLevelOut:
    user = acting_user(request)
    listing = listing_get_for_staff(user=user, listing_id=listing_id)
    level = inventory.stock_count(
        actor=user, listing=listing, variant_id=payload.variant_id, level=payload.level
    )
    return StockLevelOut(listing_id=listing.pk, variant_id=payload.variant_id, stock=level)


@router.get(
    "/vendors/{vendor_id}/low-stock",
    response=list[LowStockOut],
    auth=bearer,
    summary="Low-stock alerts",
)
def low_stock(request: HttpRequest, vendor_id: int) -> list[LowStockOut]:
    vendor = vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    return [
        LowStockOut(
            listing_id=alert.listing_id,
            variant_id=alert.variant_id,
            title=alert.listing.title + (f" — {alert.variant.name}" if alert.variant else ""),
            stock=alert.stock,
            threshold=alert.threshold,
            created_at=alert.created_at,
        )
        for alert in selectors.low_stock_alerts(vendor_id=vendor.pk)
    ]


@router.put(
    "/vendors/{vendor_id}/shipping-rules",
    response={204: None},
    auth=bearer,
    summary="Replace shipping rules",
)
def shipping_rules(request: HttpRequest, vendor_id: int, payload: ShippingRulesIn) -> HttpResponse:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    inventory.shipping_rules_replace(
        actor=user, vendor=vendor, rules=[r.dict() for r in payload.rules]
    )
    return HttpResponse(status=204)
