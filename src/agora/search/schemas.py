from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from agora.catalog.schemas import ListingOut
from agora.search.selectors import Hit, Suggestion


class SearchHitOut(ListingOut):
    distance_km: float | None = Field(None, description="From lat/lng, when they were given.")
    next_available: datetime | None = Field(
        None,
        description="With available_from/available_to: the first free slot, or now for a "
        "product in stock.",
    )

    @classmethod
    def of_hit(cls, hit: Hit) -> SearchHitOut:
        base = ListingOut.of(hit.listing).model_dump()
        return cls(
            **base,
            distance_km=round(hit.distance_km, 2) if hit.distance_km is not None else None,
            next_available=hit.next_available,
        )


class SearchPageOut(Schema):
    items: list[SearchHitOut]
    next_cursor: str | None
    total: int
    total_is_estimate: bool = Field(
        description="True when more than 2,000 listings match (or availability was sampled): "
        "`total` and the facet counts are then estimates."
    )
    facets: dict[str, dict[str, int]]
    did_you_mean: str | None = Field(
        None, description="The query as corrected, when a word was misspelt."
    )


class SuggestionOut(Schema):
    text: str
    kind: str
    url: str

    @classmethod
    def of(cls, suggestion: Suggestion) -> SuggestionOut:
        return cls(text=suggestion.text, kind=suggestion.kind, url=suggestion.url)


class SuggestionsOut(Schema):
    items: list[SuggestionOut]


class RelatedOut(Schema):
    items: list[ListingOut]
