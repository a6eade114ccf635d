"""The earliest free time at every workshop of a category in a city — "who can do it
soonest" — loaded by htmx into the category × city landing page, so the page itself stays
at its few queries and this list at its own fixed handful."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from agora.bookings import selectors as booking_selectors
from agora.catalog import selectors as catalog_selectors
from agora.core import clock
from agora.core.errors import NotFound
from agora.web.public import seo
from agora.web.public.views.slots import book_url

DAYS_AHEAD = 14
SHOWN = 6


@require_safe
def first_free(request: HttpRequest, category_slug: str, city_slug: str) -> HttpResponse:
    city = next((c for c in catalog_selectors.cities_all() if c.slug == city_slug), None)
    if city is None:
        raise Http404("No such city.")
    now = clock.now()
    try:
        found = booking_selectors.first_available_slots(
            category=category_slug,
            city=city.slug,
            start=now,
            end=now + timedelta(days=DAYS_AHEAD),
            limit=SHOWN,
        )
    except NotFound:
        raise Http404("No such category.") from None
    items: list[dict[str, Any]] = []
    for item in found:
        listing = item.listing
        local = item.slot.start.astimezone(ZoneInfo(listing.vendor.timezone))
        items.append(
            {
                "when": f"{local:%a} {local.day} {local:%b, %H:%M}",
                "iso": item.slot.start.isoformat(),
                "book_url": book_url(listing.pk, item.slot.start),
                "listing_title": listing.title,
                "listing_url": seo.listing_path(listing),
                "vendor_name": listing.vendor.name,
                "price": seo.price_text(listing.price),
            }
        )
    context = {"items": items, "city": city, "days": DAYS_AHEAD}
    if request.htmx:  # type: ignore[attr-defined]
        template = "web/public/partials/first_free.html"
    else:
        template = "web/public/first_free_page.html"
        context.update(
            page_title=f"Earliest free times in {city.name} — Agora",
            meta_description=f"Who can do it soonest in {city.name}.",
            canonical_url=seo.absolute(request, f"/c/{category_slug}/{city.slug}/"),
            noindex=True,
        )
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response
