from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.catalog.models import ListingKind
from agora.core.errors import DomainError
from agora.search import selectors as search_selectors
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


FACET_TITLES = {
    "kind": "Type",
    "category": "Category",
    "city": "City",
    "price_band": "Price",
    "rating": "Rating",
}
PRICE_LABELS = {
    "0-25": "Under 25",
    "25-50": "25 to 50",
    "50-100": "50 to 100",
    "100-250": "100 to 250",
    "250-500": "250 to 500",
    "500+": "500 and more",
}


def _band_link(params: QueryDict, key: str, count: int) -> dict[str, Any]:
    """A price band sets both price bounds (in major units); following it again clears them."""
    low, _, high = key.rstrip("+").partition("-")
    active = params.get("min_price", "") == low and params.get("max_price", "") == high
    changes: dict[str, str | None] = (
        {"min_price": None, "max_price": None}
        if active
        else {"min_price": low, "max_price": high or None}
    )
    return {
        "label": PRICE_LABELS.get(key, key),
        "count": count,
        "url": search_url(params, **changes),
        "active": active,
    }


def _facet_sections(
    params: QueryDict, facets: dict[str, dict[str, int]], labels: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    sections = []
    for name in ("category", "city", "kind", "price_band", "rating"):
        counts = facets.get(name, {})
        if name == "price_band":
            links = [_band_link(params, key, n) for key, n in counts.items()]
        elif name == "rating":
            links = [
                {
                    "label": f"{step} stars and up",
                    "count": n,
                    "url": search_url(
                        params, min_rating=None if params.get("min_rating") == step else step
                    ),
                    "active": params.get("min_rating") == step,
                }
                for step, n in counts.items()
            ]
        else:
            links = _facet_links(params, name, counts, labels.get(name, {}))
        sections.append({"name": name, "title": FACET_TITLES[name], "links": links})
    for name, counts in facets.items():
        if name.startswith("attr."):
            title = name.removeprefix("attr.").replace("_", " ").capitalize()
            links = _facet_links(params, name, counts, {"true": "Yes", "false": "No"})
            sections.append({"name": name.replace(".", "-"), "title": title, "links": links})
    return sections


@require_safe
@shared_cache
def search(request: HttpRequest) -> HttpResponse:
    """Results ranked by the search engine, with facet counts, the total, sort, "near",
    availability and cursor pages. Bad filters are explained on the form with status 400."""
    categories = catalog_selectors.categories_all()
    cities = catalog_selectors.cities_all()
    form = SearchForm(request.GET or None, categories=categories, cities=cities)
    context: dict[str, Any] = {"form": form, "results": [], "facets": [], "vendors": []}
    status = 200
    if request.GET and not form.is_valid():
        status = 400
    else:
        boost = search_selectors.customer_categories(request.user)
        query = (
            form.query(boost_categories=boost) if request.GET else search_selectors.SearchQuery()
        )
        attrs = tuple(
            sorted(
                (k.removeprefix("attr."), str(v))
                for k, v in request.GET.items()
                if k.startswith("attr.") and v
            )
        )[:8]
        if attrs:
            query = dataclasses.replace(query, attrs=attrs)
        cursor = (form.cleaned_data.get("cursor") if request.GET else None) or None
        try:
            found = search_selectors.listings_search(
                query=query, cursor=cursor, limit=RESULTS_PER_PAGE
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
            context["results"] = [
                listing_card(
                    hit.listing, distance_km=hit.distance_km, next_available=hit.next_available
                )
                for hit in found.items
            ]
            context["facets"] = _facet_sections(request.GET, found.facets, labels)
            context["total"] = found.total
            context["total_is_estimate"] = found.total_is_estimate
            context["place"] = form.place if form.is_bound else None
            if found.did_you_mean:
                context["did_you_mean"] = found.did_you_mean
                context["did_you_mean_url"] = search_url(request.GET, q=found.did_you_mean)
            if found.next_cursor:
                params = request.GET.copy()
                params["cursor"] = found.next_cursor
                context["next_url"] = f"/search?{params.urlencode()}"
            if query.q and not cursor:
                vendors = vendor_selectors.vendors_public(q=query.q, city=query.city, limit=4)
                context["vendors"] = [vendor_card(vendor) for vendor in vendors.items]
            if not found.items:
                context["popular"] = [c for c in categories if c.parent_id is None]
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
