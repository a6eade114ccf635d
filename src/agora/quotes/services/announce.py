"""What quote events say. Each is written into the outbox in the change's transaction,
from rows the caller has loaded (no query for words). Requests are announced to the
invited vendors' staff (one event per vendor), quotes to the customer, decisions to the
vendors they concern. Every event carries the customer's page (`url`), the vendor
portal's (`vendor_url`) and the operator's (`operator_url`)."""

from __future__ import annotations

from typing import Any

from agora.core.money import Money
from agora.notifications import outbox
from agora.notifications.outbox import EventSpec
from agora.quotes.models import Invitation, Quote, QuoteRequest
from agora.vendors.models import Vendor


def money_data(money: Money | None) -> dict[str, Any] | None:
    return None if money is None else {"amount": money.amount, "currency": money.currency}


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def request_urls(request_id: int, vendor_id: int | None = None) -> dict[str, str]:
    urls = {
        "url": f"/account/quotes/{request_id}/",
        "operator_url": f"/operator/quotes/{request_id}/",
    }
    if vendor_id is not None:
        urls["vendor_url"] = f"/vendor/quotes/{request_id}/?vendor={vendor_id}"
    return urls


def request_data(request: QuoteRequest, *, vendor: Vendor | None = None) -> dict[str, Any]:
    """Precondition: `request.category` (and `request.city`, when set) loaded."""
    return {
        "id": request.pk,
        "status": request.status,
        **request_urls(request.pk, vendor.pk if vendor else None),
        "title": request.title,
        "category_name": request.category.name,
        "city_name": request.city.name if request.city_id and request.city else "",
        "urgency": request.urgency,
        "window_start": request.window_start.isoformat() if request.window_start else None,
        "window_end": request.window_end.isoformat() if request.window_end else None,
        "budget": money_data(request.budget),
        "expires_at": request.expires_at.isoformat(),
        "timezone": vendor.timezone if vendor else "Europe/London",
    }


def quote_data(quote: Quote, *, request: QuoteRequest, vendor: Vendor) -> dict[str, Any]:
    return {
        "id": quote.pk,
        "request_id": request.pk,
        "status": quote.status,
        **request_urls(request.pk, vendor.pk),
        "title": request.title,
        "vendor_name": vendor.name,
        "price": money_data(quote.price),
        "pricing": quote.pricing,
        "revision": quote.revision,
        "valid_until": quote.valid_until.isoformat(),
        "start": quote.start.isoformat() if quote.start else None,
        "duration_minutes": quote.duration_minutes,
        "timezone": vendor.timezone,
    }


def announce_invitations(
    request: QuoteRequest, invitations: list[Invitation], *, customer_name: str
) -> None:
    """`quote.requested` to each newly invited vendor (invitation.vendor loaded)."""
    specs: list[EventSpec] = []
    for invitation in invitations:
        data = request_data(request, vendor=invitation.vendor)
        data.update(
            customer_name=customer_name,
            kind=invitation.kind,
            wave=invitation.wave,
            respond_by=invitation.respond_by.isoformat() if invitation.respond_by else None,
            vendor_name=invitation.vendor.name,
        )
        specs.append(("quote.requested", request, data, None, invitation.vendor_id, False))
    outbox.emit_many(specs)


def announce_quote(
    name: str,
    quote: Quote,
    *,
    request: QuoteRequest,
    vendor: Vendor,
    to_customer: bool = False,
    to_vendor: bool = False,
    **extra: Any,
) -> None:
    data = quote_data(quote, request=request, vendor=vendor)
    data.update(extra)
    outbox.emit(
        name,
        subject=quote,
        data=data,
        user_id=request.customer_id if to_customer else None,
        vendor_id=vendor.pk if to_vendor else None,
    )


def announce_to_vendors(
    name: str, request: QuoteRequest, vendors: list[Vendor], **extra: Any
) -> None:
    """One event per vendor about the request (a cancellation)."""
    specs: list[EventSpec] = []
    for vendor in vendors:
        data = request_data(request, vendor=vendor)
        data.update(vendor_name=vendor.name, **extra)
        specs.append((name, request, data, None, vendor.pk, False))
    outbox.emit_many(specs)


def announce_to_customer(name: str, request: QuoteRequest, **extra: Any) -> None:
    data = request_data(request)
    data.update(extra)
    outbox.emit(name, subject=request, data=data, user_id=request.customer_id)
