from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.catalog.models import Category, Listing
from agora.reviews import selectors as review_selectors
from agora.vendors.models import Vendor
from agora.web.public import queries, reviews, seo
from agora.web.public.cards import listing_card
from agora.web.public.views.common import describe, next_page_url, seo_context, shared_cache

LISTINGS_PER_PAGE = 30
WEEKDAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def opening_hours(vendor: Vendor) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Weekly hours for people (a row a day) and for schema.org
    (OpeningHoursSpecification); both empty when the vendor has published none."""
    schedule = getattr(vendor, "schedule", None)
    weekly = schedule.weekly if schedule is not None else {}
    if not weekly:
        return [], []
    rows, specs = [], []
    for key, day in WEEKDAY_NAMES.items():
        intervals = weekly.get(key) or []
        hours = ", ".join(f"{start}–{end}" for start, end in intervals)
        rows.append({"day": day, "hours": hours or "Closed"})
        specs += [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{day}",
                "opens": start,
                "closes": end,
            }
            for start, end in intervals
        ]
    return rows, specs


def _crumbs(vendor: Vendor, listings: list[Listing]) -> list[seo.Crumb]:
    """Home › <top category> in <city> › vendor: the landing page the vendor belongs to."""
    crumbs = [seo.home_crumb()]
    if listings and vendor.city is not None:
        top = _root_category(listings[0].category)
        if top is not None:
            name = f"{top.name} in {vendor.city.name}"
            crumbs.append(seo.Crumb(name, seo.category_path(top, vendor.city)))
    crumbs.append(seo.Crumb(vendor.name, seo.vendor_path(vendor)))
    return crumbs


def _root_category(category: Category) -> Category | None:
    root_slug = category.path.split("/")[0]
    if category.slug == root_slug:
        return category
    return next((c for c in catalog_selectors.categories_all() if c.slug == root_slug), None)


@require_safe
@shared_cache
def vendor_page(request: HttpRequest, vendor_slug: str) -> HttpResponse:
    """An active vendor's profile, hours, listings, rating and published reviews; 404 for
    any other status. Seven queries."""
    vendor = queries.vendor_get_public(slug=vendor_slug)
    if vendor is None:
        raise Http404("No such vendor.")
    cursor = request.GET.get("cursor") or None
    found = catalog_selectors.listings_search(
        filters=catalog_selectors.ListingFilters(vendor_id=vendor.pk, sort="newest"),
        cursor=cursor,
        limit=LISTINGS_PER_PAGE,
        with_facets=False,
    )
    listings = found.page.items
    summary = review_selectors.rating_for_vendor(vendor.pk)
    rating = reviews.rating_of(summary)
    review_page = review_selectors.reviews_for_vendor(
        vendor_id=vendor.pk,
        cursor=request.GET.get("reviews") or None,
        limit=reviews.REVIEWS_PER_PAGE,
    )
    review_items = reviews.review_items(review_page)
    hours, hours_spec = opening_hours(vendor)
    node = seo.vendor_node(
        request, vendor, category_slugs={listing.category.slug for listing in listings}
    )
    reviews.with_reviews(node, summary, review_items)
    if hours_spec:
        node["openingHoursSpecification"] = hours_spec
    where = f" in {vendor.city.name}" if vendor.city else ""
    about = vendor.description or "Book online or buy with one secure checkout."
    context = seo_context(
        request,
        title=f"{vendor.name}{where} — prices, reviews and booking | Agora",
        description=describe(
            f"{vendor.name}{where}. {about}" + (f" {rating.label}." if rating.count else "")
        ),
        crumbs=_crumbs(vendor, listings),
        nodes=[node],
        noindex=bool(cursor) or "reviews" in request.GET,
    )
    context.update(
        vendor=vendor,
        rating=rating,
        hours=hours,
        results=[listing_card(listing) for listing in listings],
        next_url=next_page_url(request, found.page.next_cursor),
        reviews=review_items,
        distribution=reviews.distribution(summary) if summary.count else [],
        reviews_next_url=reviews.next_url(request, review_page.next_cursor),
    )
    return render(request, "web/public/vendor.html", context)
