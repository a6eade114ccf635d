from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.search import selectors as search_selectors
from agora.web.public import queries, seo
from agora.web.public.cards import listing_card, vendor_card
from agora.web.public.views.common import seo_context, shared_cache


@require_safe
@shared_cache
def home(request: HttpRequest) -> HttpResponse:
    """Search box, top categories, the newest listings and the best-rated vendors
    (5 queries)."""
    categories = catalog_selectors.categories_all()
    featured = catalog_selectors.listings_search(
        filters=catalog_selectors.ListingFilters(sort="newest"),
        cursor=None,
        limit=8,
        with_facets=False,
    ).page.items
    vendors = queries.vendors_featured(limit=6)
    popular_in, popular = search_selectors.popular(user=request.user)
    site = seo.absolute(request, "/")
    website = {
        "@type": "WebSite",
        "@id": f"{site}#website",
        "name": "Agora",
        "url": site,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": f"{site}search?q={{q}}"},
            "query-input": "required name=q",
        },
    }
    context = seo_context(
        request,
        title="Agora — book local services and buy from independent shops",
        description=(
            "Find and book car workshops, electricians, plumbers and cleaners near you, "
            "and buy from independent shops — one checkout, trusted reviews."
        ),
        crumbs=[seo.home_crumb()],
        nodes=[website],
    )
    context["breadcrumbs"] = []  # the home page is the root: no trail to show
    context.update(
        categories=[c for c in categories if c.parent_id is None],
        featured_listings=[listing_card(listing) for listing in featured],
        featured_vendors=[vendor_card(vendor) for vendor in vendors],
        popular_listings=[listing_card(listing) for listing in popular],
        popular_in=popular_in,
    )
    return render(request, "web/public/home.html", context)
