"""Quote-based jobs. The services have no quote flow yet (request → vendors' quotes →
accept → booking), so the page says how to reach the vendor instead of pretending."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from agora.catalog.models import ListingKind
from agora.catalog.selectors import listing_get_visible
from agora.web.access import customer_required
from agora.web.account import display
from agora.web.account.common import customer


@customer_required
@require_safe
def quote(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = listing_get_visible(user=customer(request), listing_id=listing_id)
    if listing.kind == ListingKind.SERVICE:
        return redirect("web:account-book", listing_id=listing.pk)
    if listing.kind != ListingKind.QUOTE:
        return redirect(f"/l/{listing.pk}/")
    return render(
        request,
        "web/account/quote.html",
        {
            "page_title": f"Ask for a quote: {listing.title}",
            "listing": listing,
            "vendor": listing.vendor,
            "from_price": display.money(listing.price_amount, listing.currency),
        },
    )
