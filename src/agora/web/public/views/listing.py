from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.catalog.models import Category, Listing, ListingKind, ListingStatus
from agora.core.money import Money
from agora.reviews import selectors as review_selectors
from agora.vendors.models import VendorStatus
from agora.web.public import reviews, seo
from agora.web.public.cards import listing_card
from agora.web.public.views.common import describe, listing_or_404, seo_context, shared_cache

MAX_QUANTITY = 99


def _is_public(listing: Listing) -> bool:
    return listing.status == ListingStatus.ACTIVE and listing.vendor.status == VendorStatus.ACTIVE


@require_safe
@shared_cache
def listing_page(request: HttpRequest, listing_id: int) -> HttpResponse:
    """Price, details and the next step: live slots (services), variants, stock and a cart
    form (goods), or a quote request (quote jobs); rating and published reviews. Seven
    queries."""
    listing = listing_or_404(request, listing_id)
    by_id = {c.pk: c for c in catalog_selectors.categories_all()}
    category = by_id.get(listing.category_id, listing.category)
    city = listing.vendor.city
    crumbs = [
        *seo.category_crumbs(catalog_selectors.category_chain(category, by_id), city),
        seo.Crumb(listing.title, seo.listing_path(listing)),
    ]
    variants = list(listing.variants.all())
    is_product = listing.kind == ListingKind.PRODUCT
    stock = sum(v.stock for v in variants) if variants else listing.stock
    in_stock = stock > 0 if is_product else True
    card = listing_card(listing)
    rating_summary = review_selectors.rating_for_listing(listing.pk)
    review_page = review_selectors.reviews_for_listing(
        listing_id=listing.pk,
        cursor=request.GET.get("reviews") or None,
        limit=reviews.REVIEWS_PER_PAGE,
    )
    review_items = reviews.review_items(review_page)
    node = reviews.with_reviews(
        seo.listing_node(request, listing, in_stock=in_stock), rating_summary, review_items
    )
    where = f" in {city.name}" if city else ""
    summary = {
        ListingKind.SERVICE: f"Book online with live availability. {card.price}",
        ListingKind.PRODUCT: f"{card.price}, {'in stock' if in_stock else 'out of stock'}",
        ListingKind.QUOTE: f"Request a free quote, from {card.price}",
    }[ListingKind(listing.kind)]
    public = _is_public(listing)
    context = seo_context(
        request,
        title=f"{listing.title} — {listing.vendor.name}{where} | Agora",
        description=describe(
            f"{listing.title} by {listing.vendor.name}{where}. {summary}. {listing.description}"
        ),
        crumbs=crumbs,
        nodes=[node],
        # Staff previewing a draft see it; search engines never index it.
        noindex=not public or "reviews" in request.GET,
    )
    context.update(
        listing=listing,
        card=card,
        public=public,
        vendor_url=seo.vendor_path(listing.vendor),
        variants=[
            {
                "variant": variant,
                "price": seo.price_text(
                    Money(variant.price_amount or listing.price_amount, listing.currency)
                ),
            }
            for variant in variants
        ],
        stock=stock,
        in_stock=in_stock,
        max_quantity=min(stock, MAX_QUANTITY),
        price_rules=list(listing.price_rules.all()) if not is_product else [],
        attributes=attribute_rows(listing, category, by_id),
        rating=reviews.rating_of(rating_summary),
        reviews=review_items,
        distribution=reviews.distribution(rating_summary) if rating_summary.count else [],
        reviews_next_url=reviews.next_url(request, review_page.next_cursor),
    )
    return render(request, "web/public/listing.html", context)


def attribute_rows(
    listing: Listing, category: Category, by_id: dict[int, Category]
) -> list[dict[str, str]]:
    """Listing attributes as label/value rows, labelled from the category's JSON Schema
    (its `title`, else the key written out)."""
    properties = catalog_selectors.category_effective_schema(category, by_id).get("properties", {})
    rows = []
    for key, value in (listing.attributes or {}).items():
        label = properties.get(key, {}).get("title") or key.replace("_", " ").capitalize()
        if isinstance(value, bool):
            text = "Yes" if value else "No"
        elif isinstance(value, list):
            text = ", ".join(str(item) for item in value)
        else:
            text = str(value)
        rows.append({"label": label, "value": text})
    return rows
