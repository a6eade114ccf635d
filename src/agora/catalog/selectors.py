"""Catalogue reads. Public reads only ever see active listings of active vendors; staff
reads go through the vendor's membership (agora.vendors.selectors)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from math import cos, isfinite, radians
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet

from agora.catalog.attributes import merged_schema
from agora.catalog.models import Category, City, Listing, ListingImage, ListingStatus
from agora.core.errors import InvalidInput, NotFound
from agora.core.pagination import Page, paginate
from agora.core.validation import check_coordinates, field_error
from agora.vendors.models import VendorStatus
from agora.vendors.selectors import ALL_ROLES, vendor_get_for_staff

# Half the Earth's circumference: no place is farther away than this.
MAX_RADIUS_KM = 20_000

SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "price_asc": ("price_amount", "id"),
    "price_desc": ("-price_amount", "-id"),
}


def categories_all() -> list[Category]:
    return list(Category.objects.select_related("parent").order_by("path"))


def category_chain(category: Category, by_id: dict[int, Category] | None = None) -> list[Category]:
    """The category's ancestors and itself, root first."""
    lookup = by_id or {}
    chain = [category]
    current = category
    while current.parent_id is not None:
        parent = lookup.get(current.parent_id) or Category.objects.get(pk=current.parent_id)
        chain.append(parent)
        current = parent
    return list(reversed(chain))


def category_effective_schema(
    category: Category, by_id: dict[int, Category] | None = None
) -> dict[str, Any]:
    return merged_schema([node.attribute_schema for node in category_chain(category, by_id)])


def category_get(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound(f"No category {slug!r}.")
    return category


def cities_all() -> list[City]:
    return list(City.objects.order_by("name"))


def public_listings() -> QuerySet[Listing]:
    """The one definition of "publicly visible listing"."""
    return Listing.objects.filter(status=ListingStatus.ACTIVE, vendor__status=VendorStatus.ACTIVE)


def _with_relations(listings: QuerySet[Listing]) -> QuerySet[Listing]:
    return listings.select_related("vendor", "vendor__city", "category").prefetch_related(
        Prefetch("images", queryset=ListingImage.objects.order_by("position", "id")),
        "variants",
    )


def listing_get_visible(*, user: Any, listing_id: int) -> Listing:
    """A listing as `user` may see it: public ones to anyone, any status to the vendor's
    own staff and to operators; otherwise NotFound."""
    listing = _with_relations(Listing.objects.filter(pk=listing_id)).first()
    if listing is None:
        raise NotFound("No such listing.")
    if listing.status == ListingStatus.ACTIVE and listing.vendor.status == VendorStatus.ACTIVE:
        return listing
    if getattr(user, "is_operator", False):
        return listing
    if (
        getattr(user, "is_authenticated", False)
        and listing.vendor.memberships.filter(user=user).exists()
    ):
        return listing
    raise NotFound("No such listing.")


def listing_get_for_staff(
    *, user: Any, listing_id: int, roles: Collection[str] = ALL_ROLES
) -> Listing:
    """The listing, if `user` is on its vendor's staff with one of `roles` (else 404/403)."""
    vendor_id = Listing.objects.filter(pk=listing_id).values_list("vendor_id", flat=True).first()
    if vendor_id is None:
        raise NotFound("No such listing.")
    try:
        vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=roles)
    except NotFound:
        raise NotFound("No such listing.") from None
    listing = _with_relations(Listing.objects.filter(pk=listing_id)).get()
    listing.vendor = vendor
    return listing


@dataclass(frozen=True)
class ListingFilters:
    """Browsing filters (category pages, a vendor's listings, the newest). Text search,
    with relevance and facets on every field, is agora.search."""

    category: str | None = None
    city: str | None = None
    vendor_id: int | None = None
    kind: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    min_rating: float | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    sort: str = "newest"


@dataclass(frozen=True)
class ListingSearchResult:
    page: Page[Listing]
    facets: dict[str, dict[str, int]]


def _filtered(filters: ListingFilters) -> QuerySet[Listing]:
    listings = public_listings()
    if filters.category:
        category = (
            Category.objects.filter(slug=filters.category).values_list("path", flat=True).first()
        )
        if category is None:
            return listings.none()
        listings = listings.filter(
            Q(category__path=category) | Q(category__path__startswith=f"{category}/")
        )
    if filters.city:
        listings = listings.filter(vendor__city__slug=filters.city)
    if filters.vendor_id is not None:
        listings = listings.filter(vendor_id=filters.vendor_id)
    if filters.kind:
        listings = listings.filter(kind=filters.kind)
    if filters.min_price is not None:
        listings = listings.filter(price_amount__gte=filters.min_price)
    if filters.max_price is not None:
        listings = listings.filter(price_amount__lte=filters.max_price)
    if filters.min_rating is not None:
        listings = listings.filter(
            rating_count__gt=0, rating_sum__gte=F("rating_count") * filters.min_rating
        )
    for name, value in (
        ("lat", filters.lat),
        ("lng", filters.lng),
        ("radius_km", filters.radius_km),
    ):
        if value is not None and not isfinite(value):
            raise InvalidInput(
                f"{name} must be a finite number.",
                errors=[{"loc": ["query", name], "msg": "must be finite", "type": "finite_number"}],
            )
    if filters.radius_km is not None and (filters.lat is None or filters.lng is None):
        raise InvalidInput(
            "radius_km needs lat and lng.",
            errors=[{"loc": ["query", "radius_km"], "msg": "needs lat and lng", "type": "missing"}],
        )
    if filters.lat is not None or filters.lng is not None:
        check_coordinates(filters.lat, filters.lng, where="query")
    if filters.radius_km is not None and filters.lat is not None and filters.lng is not None:
        if not 0 < filters.radius_km <= MAX_RADIUS_KM:
            raise field_error(
                "radius_km", f"more than 0 and at most {MAX_RADIUS_KM:,}", where="query"
            )
        # A bounding box on the vendor's coordinates: one indexed range filter. Good to
        # within the box's corners; exact great-circle ranking belongs to search.
        lat_delta = filters.radius_km / 111.0
        lng_delta = filters.radius_km / max(111.0 * cos(radians(filters.lat)), 0.01)
        listings = listings.filter(
            vendor__lat__range=(Decimal(filters.lat - lat_delta), Decimal(filters.lat + lat_delta)),
            vendor__lng__range=(Decimal(filters.lng - lng_delta), Decimal(filters.lng + lng_delta)),
        )
    return listings


def listings_search(
    *, filters: ListingFilters, cursor: str | None, limit: int = 20, with_facets: bool = True
) -> ListingSearchResult:
    """Public listings matching `filters`, one page, with facet counts over all matches.

    Queries: one for the page, two for its images and variants, three for the facets —
    independent of the number of rows.
    """
    ordering = SORTS.get(filters.sort)
    if ordering is None:
        raise InvalidInput(
            f"Unknown sort {filters.sort!r}.",
            errors=[
                {"loc": ["query", "sort"], "msg": f"one of {', '.join(SORTS)}", "type": "enum"}
            ],
        )
    listings = _filtered(filters)
    page = paginate(_with_relations(listings), ordering=ordering, cursor=cursor, limit=limit)
    facets = (
        {
            "kind": _facet(listings, "kind"),
            "category": _facet(listings, "category__slug"),
            "city": _facet(listings, "vendor__city__slug"),
        }
        if with_facets
        else {}
    )
    return ListingSearchResult(page=page, facets=facets)


def _facet(listings: QuerySet[Listing], field: str) -> dict[str, int]:
    rows = listings.order_by().values(field).annotate(n=Count("id")).values_list(field, "n")
    return {str(value): count for value, count in rows if value is not None}


def vendor_listings_for_staff(
    *, user: Any, vendor_id: int, status: str | None, cursor: str | None, limit: int = 50
) -> Page[Listing]:
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id)
    listings = Listing.objects.filter(vendor=vendor)
    if status:
        listings = listings.filter(status=status)
    return paginate(
        _with_relations(listings), ordering=("-created_at", "-id"), cursor=cursor, limit=limit
    )
