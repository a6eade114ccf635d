from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.catalog.models import ListingKind
from agora.core.errors import DomainError
from agora.vendors import selectors as vendor_selectors
from agora.web.public import seo
from agora.web.public.cards import listing_card, vendor_card
from agora.web.public.forms import SearchForm
from agora.web.public.views.common import seo_context, shared_cache

RESULTS_PER_PAGE = 20


def search_url(params: QueryDict, **changes: str | None) -> str:
    """/search with `params`, minus the cursor (a new filter starts at page one)."""
    query = params.copy()
    query.pop("cursor", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    encoded = query.urlencode()
    return f"/search?{encoded}" if encoded else "/search"


def _facet_links(
    params: QueryDict, name: str, counts: dict[str, int], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """One link per facet value; following the selected one removes the filter."""
    current = params.get(name, "")
    links = [
        {
            "label": labels.get(value, value),
            "count": count,
            "url": search_url(params, **{name: None if value == current else value}),
            "active": value == current,
        }
        for value, count in counts.items()
    ]
    return sorted(links, key=lambda link: (-link["count"], link["label"]))


@require_safe
@shared_cache
def search(request: HttpRequest) -> HttpResponse:
    """Results with facets, sort and cursor pages (9 queries at most). Bad filters are
    explained on the form with status 400."""
    categories = catalog_selectors.categories_all()
    cities = catalog_selectors.cities_all()
    form = SearchForm(request.GET or None, categories=categories, cities=cities)
    context: dict[str, Any] = {"form": form, "results": [], "facets": [], "vendors": []}
    status = 200
    if request.GET and not form.is_valid():
        status = 400
    else:
        filters = form.filters() if request.GET else catalog_selectors.ListingFilters()
        cursor = (form.cleaned_data.get("cursor") if request.GET else None) or None
        try:
            found = catalog_selectors.listings_search(
                filters=filters, cursor=cursor, limit=RESULTS_PER_PAGE
            )
        except DomainError as error:  # a forged or stale cursor
            form.add_error(None, error.detail)
            status = 400
        else:
            labels = {
                "kind": {k.value: k.label for k in ListingKind},
                "category": {c.slug: c.name for c in categories},
                "city": {c.slug: c.name for c in cities},
            }
            titles = {"kind": "Type", "category": "Category", "city": "City"}
            context["results"] = [listing_card(listing) for listing in found.page.items]
            context["facets"] = [
                {
                    "name": name,
                    "title": titles[name],
                    "links": _facet_links(request.GET, name, found.facets[name], labels[name]),
                }
                for name in ("kind", "category", "city")
            ]
            if found.page.next_cursor:
                query = request.GET.copy()
                query["cursor"] = found.page.next_cursor
                context["next_url"] = f"/search?{query.urlencode()}"
            if filters.q and not cursor:
                vendors = vendor_selectors.vendors_public(q=filters.q, city=filters.city, limit=4)
                context["vendors"] = [vendor_card(vendor) for vendor in vendors.items]
    query_text = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    heading = f"Results for “{query_text}”" if query_text else "All listings"
    context["heading"] = heading
    canonical = search_url(request.GET)
    context.update(
        seo_context(
            request,
            title=f"{heading} — Agora search",
            description=(
                f"{heading} on Agora: compare prices, ratings and availability of local "
                "services and shops."
            ),
            crumbs=[seo.home_crumb(), seo.Crumb("Search", canonical)],
            nodes=[],
            canonical_path=canonical,
            # Result pages are for people; the landing pages are the indexable versions.
            noindex=True,
        )
    )
    return render(request, "web/public/search.html", context, status=status)
