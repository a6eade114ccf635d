"""Carts: a signed-in customer's, or an anonymous session's merged into it at sign-in."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from agora.accounts.models import User
from agora.catalog.models import Listing, ListingKind
from agora.catalog.selectors import public_listings
from agora.core import clock
from agora.core.errors import NotFound
from agora.core.validation import field_error
from agora.orders.models import Cart, CartItem, Checkout
from agora.orders.services import checkout
from agora.payments.errors import PaymentError


def cart_for_user(*, user: User) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def cart_for_session(*, session_key: str) -> Cart:
    cart, _ = Cart.objects.get_or_create(session_key=session_key)
    return cart


def _check(listing_id: int, variant_id: int | None) -> Listing:
    listing = public_listings().filter(pk=listing_id, kind=ListingKind.PRODUCT).first()
    if listing is None:
        raise NotFound("No such product on sale.")
    variant_ids = set(listing.variants.values_list("pk", flat=True))
    if variant_ids and variant_id not in variant_ids:
        raise field_error("variant_id", f"choose one of {sorted(variant_ids)}")
    if not variant_ids and variant_id is not None:
        raise field_error("variant_id", "this product has no variants")
    return listing


@transaction.atomic
def cart_set_item(*, cart: Cart, listing_id: int, variant_id: int | None, quantity: int) -> Cart:
    """Set the quantity of an item (0 removes it). Stock is checked at checkout, where it
    is reserved; a cart promises nothing."""
    if not 0 <= quantity <= 999:
        raise field_error("quantity", "between 0 and 999")
    _check(listing_id, variant_id)
    items = CartItem.objects.filter(cart=cart, listing_id=listing_id, variant_id=variant_id)
    if quantity == 0:
        items.delete()
    elif not items.update(quantity=quantity):
        CartItem.objects.create(
            cart=cart, listing_id=listing_id, variant_id=variant_id, quantity=quantity
        )
    Cart.objects.filter(pk=cart.pk).update(updated_at=clock.now())
    return cart


@transaction.atomic
def cart_merge(*, session_key: str, user: User) -> Cart:
    """Move an anonymous session's items into the user's cart (quantities add up)."""
    target = cart_for_user(user=user)
    source = Cart.objects.filter(session_key=session_key).first()
    if source is None or source.pk == target.pk:
        return target
    for item in source.items.all():
        updated = CartItem.objects.filter(
            cart=target, listing_id=item.listing_id, variant_id=item.variant_id
        ).update(quantity=F("quantity") + item.quantity)
        if not updated:
            try:
                with transaction.atomic():
                    CartItem.objects.create(
                        cart=target,
                        listing_id=item.listing_id,
                        variant_id=item.variant_id,
                        quantity=item.quantity,
                    )
            except IntegrityError:
                pass
    source.delete()
    return target


@transaction.atomic
def cart_clear(*, cart: Cart) -> None:
    cart.items.all().delete()


def cart_checkout(
    *,
    cart: Cart,
    customer: User,
    shipping_address: dict[str, Any],
    payment_method: str | None,
    idempotency_key: str,
) -> Checkout:
    """Check out everything in the cart, then empty it.

    The cart is emptied when the checkout exists, paid or not: a declined card leaves the
    items reserved in that checkout (the 402 names it, to pay again), and keeping them in
    the cart too would let a retry reserve the same units a second time. Not atomic on
    purpose: a declined payment's reservation must commit, as in `checkout_create`."""
    items = [
        checkout.ItemRequest(item.listing_id, item.variant_id, item.quantity)
        for item in cart.items.order_by("id")
    ]
    try:
        created = checkout.checkout_create(
            customer=customer,
            items=items,
            shipping_address=shipping_address,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
        )
    except PaymentError as error:
        if "checkout_id" in error.extra:
            cart_clear(cart=cart)
        raise
    cart_clear(cart=cart)
    return created
