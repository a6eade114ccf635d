from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.vendors import selectors as vendor_selectors


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    categories = [c for c in catalog_selectors.categories_all() if c.parent_id is None]
    featured = catalog_selectors.listings_search(
        filters=catalog_selectors.ListingFilters(sort="newest"),
        cursor=None,
        limit=8,
        with_facets=False,
    ).page.items
    vendors = vendor_selectors.vendors_public(limit=6).items
    return render(
        request,
        "web/public/home.html",
        {
            "categories": categories,
            "featured_listings": featured,
            "featured_vendors": vendors,
            "page_title": "Agora — book local services and buy from independent shops",
            "meta_description": (
                "Find and book car workshops, electricians, plumbers and cleaners near you, "
                "and buy from independent shops — one checkout, trusted reviews."
            ),
        },
    )
