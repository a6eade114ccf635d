"""GET /listings (the search), /search/suggest and /listings/{id}/related."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from agora.accounts.auth import optional_user
from agora.catalog.schemas import ListingOut
from agora.catalog.selectors import listing_get_visible
from agora.core.caching import cache_read
from agora.core.errors import InvalidInput
from agora.core.validation import Moment
from agora.search import selectors
from agora.search.schemas import (
    RelatedOut,
    SearchHitOut,
    SearchPageOut,
    SuggestionOut,
    SuggestionsOut,
)

router = Router(tags=["search"])

MAX_ATTRIBUTE_FILTERS = 8


class ListingQuery(Schema):
    q: str | None = Field(None, max_length=200)
    category: str | None = None
    city: str | None = None
    vendor: int | None = None
    kind: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    min_price: int | None = Field(None, ge=0, le=2**31 - 1)
    max_price: int | None = Field(None, ge=0, le=2**31 - 1)
    min_rating: float | None = Field(None, ge=0, le=5)
    available_from: Moment | None = None
    available_to: Moment | None = None
    sort: str | None = None
    cursor: str | None = None
    limit: int = 20


def attribute_filters(request: HttpRequest) -> tuple[tuple[str, str], ...]:
    """`attr.<name>=<value>` query parameters."""
    pairs = [
        (key.removeprefix("attr."), value)
        for key in request.GET
        if key.startswith("attr.")
        for value in request.GET.getlist(key)
        if value
    ]
    if len(pairs) > MAX_ATTRIBUTE_FILTERS:
        raise InvalidInput(
            f"At most {MAX_ATTRIBUTE_FILTERS} attribute filters.",
            errors=[{"loc": ["query", "attr"], "msg": "too many", "type": "value_error"}],
        )
    return tuple(sorted(pairs))


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(
            f"{name} needs a time zone offset.",
            errors=[{"loc": ["query", name], "msg": "needs an offset", "type": "datetime"}],
        )
    return moment


@router.get("/listings", response=SearchPageOut, summary="Search active listings")
def listing_search(request: HttpRequest, query: Query[ListingQuery]) -> SearchPageOut:
    user = optional_user(request)
    result = selectors.listings_search(
        query=selectors.SearchQuery(
            q=query.q,
            category=query.category,
            city=query.city,
            vendor_id=query.vendor,
            kind=query.kind,
            min_price=query.min_price,
            max_price=query.max_price,
            min_rating=query.min_rating,
            lat=query.lat,
            lng=query.lng,
            radius_km=query.radius_km,
            sort=query.sort,
            available_from=_aware(query.available_from, "available_from"),
            available_to=_aware(query.available_to, "available_to"),
            attrs=attribute_filters(request),
            boost_categories=selectors.customer_categories(user) if query.q else (),
        ),
        cursor=query.cursor,
        limit=query.limit,
    )
    return SearchPageOut(
        items=[SearchHitOut.of_hit(hit) for hit in result.items],
        next_cursor=result.next_cursor,
        total=result.total,
        total_is_estimate=result.total_is_estimate,
        facets=result.facets,
        did_you_mean=result.did_you_mean,
    )


class SuggestQuery(Schema):
    q: str = Field("", max_length=100)
    limit: int = Field(8, ge=1, le=20)


@router.get("/search/suggest", response=SuggestionsOut, summary="Type-ahead suggestions")
def search_suggest(
    request: HttpRequest, response: HttpResponse, query: Query[SuggestQuery]
) -> SuggestionsOut:
    found = selectors.suggest(q=query.q, limit=query.limit)
    cache_read(response, public=True)
    return SuggestionsOut(items=[SuggestionOut.of(s) for s in found])


@router.get(
    "/listings/{listing_id}/related",
    response=RelatedOut,
    summary="Listings often booked or bought by the same customers, else similar ones nearby",
)
def listing_related(request: HttpRequest, response: HttpResponse, listing_id: int) -> RelatedOut:
    listing_get_visible(user=optional_user(request), listing_id=listing_id)  # 404 otherwise
    found = selectors.related(listing_id=listing_id)
    cache_read(response, public=True)
    return RelatedOut(items=[ListingOut.of(x) for x in found])
