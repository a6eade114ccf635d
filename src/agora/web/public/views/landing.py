from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.catalog.models import Category, City
from agora.web.public import seo
from agora.web.public.cards import ListingCard, listing_card
from agora.web.public.views.common import describe, next_page_url, seo_context, shared_cache
from agora.web.public.views.search import search_url

LISTINGS_PER_PAGE = 24


def _category_by_slug(categories: list[Category], slug: str) -> Category:
    for category in categories:
        if category.slug == slug:
            return category
    raise Http404("No such category.")


def _item_list(request: HttpRequest, name: str, cards: list[ListingCard]) -> dict[str, Any]:
    return {
        "@type": "ItemList",
        "name": name,
        "numberOfItems": len(cards),
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": index,
                "url": seo.absolute(request, card.url),
                "name": card.listing.title,
            }
            for index, card in enumerate(cards, start=1)
        ],
    }


@require_safe
@shared_cache
def category_landing(
    request: HttpRequest, category_slug: str, city_slug: str | None = None
) -> HttpResponse:
    """`/c/<category>/` and `/c/<category>/<city>/`: the category and everything below it,
    with links to subcategories and cities (9 queries). Unknown slugs are 404."""
    categories = catalog_selectors.categories_all()
    category = _category_by_slug(categories, category_slug)
    cities = catalog_selectors.cities_all()
    city: City | None = None
    if city_slug is not None:
        city = next((c for c in cities if c.slug == city_slug), None)
        if city is None:
            raise Http404("No such city.")
    cursor = request.GET.get("cursor") or None
    found = catalog_selectors.listings_search(
        filters=catalog_selectors.ListingFilters(
            category=category.slug, city=city.slug if city else None, sort="newest"
        ),
        cursor=cursor,
        limit=LISTINGS_PER_PAGE,
    )
    chain = catalog_selectors.category_chain(category, {c.pk: c for c in categories})
    cards = [listing_card(listing) for listing in found.page.items]
    where = f" in {city.name}" if city else ""
    heading = f"{category.name}{where}"
    lead = category.description or f"{category.name} from independent local vendors."
    more = "+" if found.page.next_cursor else ""
    context = seo_context(
        request,
        title=f"{heading} — compare and book online | Agora",
        description=describe(
            f"{heading}: {len(cards)}{more} offers from local vendors with prices, ratings "
            f"and live availability. {lead}"
        ),
        crumbs=seo.category_crumbs(chain, city),
        nodes=[_item_list(request, heading, cards)],
        # Later pages and empty pages are thin: followed, not indexed.
        noindex=bool(cursor) or not cards,
    )
    sub_counts = found.facets.get("category", {})
    city_names = {c.slug: c.name for c in cities}
    context.update(
        category=category,
        city=city,
        heading=heading,
        lead=lead,
        results=cards,
        next_url=next_page_url(request, found.page.next_cursor),
        subcategories=[
            {"name": c.name, "url": seo.category_path(c, city), "count": sub_counts.get(c.slug, 0)}
            for c in categories
            if c.parent_id == category.pk
        ],
        city_links=sorted(
            (
                {
                    "name": city_names.get(slug, slug),
                    "url": f"/c/{category.slug}/{slug}/",
                    "count": n,
                }
                for slug, n in found.facets.get("city", {}).items()
            ),
            key=lambda link: str(link["name"]),
        ),
        search_url=search_url(
            QueryDict(mutable=True), category=category.slug, city=city.slug if city else None
        ),
    )
    return render(request, "web/public/landing.html", context)
