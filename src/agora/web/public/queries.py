"""Public reads the catalogue and vendor selectors do not have yet: a vendor by its slug,
the category × city pairs worth a landing page, and the rows of the sitemap.

Every read here starts from the one definition of "public" (`public_listings()`, active
vendors), so a suspended vendor disappears from pages and sitemap at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet

from agora.catalog.models import Category
from agora.catalog.selectors import public_listings
from agora.vendors.models import Vendor, VendorStatus


def public_vendors() -> QuerySet[Vendor]:
    return Vendor.objects.filter(status=VendorStatus.ACTIVE)


def vendor_get_public(*, slug: str) -> Vendor | None:
    """An active vendor with its city and opening hours (one query), or None."""
    return public_vendors().select_related("city", "schedule").filter(slug=slug).first()


def vendors_featured(*, limit: int = 6) -> list[Vendor]:
    """The best-rated active vendors by Bayesian score (a few glowing reviews do not beat
    many good ones), then the rest by name. One query."""
    return list(
        public_vendors()
        .select_related("city")
        .order_by(F("rating__bayesian").desc(nulls_last=True), "name", "id")[:limit]
    )


def landing_pairs(categories: list[Category]) -> set[tuple[str, str]]:
    """(category slug, city slug) pairs with at least one public listing, ancestors included:
    a MOT listing in London makes /c/mot-servicing/london/ and /c/automotive/london/. One
    query, however many listings."""
    by_path = {category.path: category.slug for category in categories}
    rows = (
        public_listings()
        .filter(vendor__city__isnull=False)
        .order_by()
        .values_list("category__path", "vendor__city__slug")
        .distinct()
    )
    pairs: set[tuple[str, str]] = set()
    for path, city in rows:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            slug = by_path.get("/".join(parts[:depth]))
            if slug is not None:
                pairs.add((slug, city))
    return pairs


def categories_with_listings(categories: list[Category]) -> set[str]:
    """Slugs of categories that have a public listing in them or below them (one query)."""
    by_path = {category.path: category.slug for category in categories}
    found: set[str] = set()
    for path in public_listings().order_by().values_list("category__path", flat=True).distinct():
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            slug = by_path.get("/".join(parts[:depth]))
            if slug is not None:
                found.add(slug)
    return found


@dataclass(frozen=True)
class SitemapRow:
    path: str
    lastmod: datetime | None


def sitemap_vendor_count() -> int:
    return public_vendors().count()


def sitemap_listing_count() -> int:
    return public_listings().count()


def sitemap_vendor_rows(*, offset: int = 0, limit: int | None = None) -> Iterator[SitemapRow]:
    """Active vendors by id; `offset`/`limit` cut one file of a split sitemap."""
    rows = public_vendors().order_by("id").values_list("slug", "approved_at", "created_at")
    rows = rows[offset : offset + limit] if limit is not None else rows[offset:]
    for slug, approved_at, created_at in rows.iterator(chunk_size=2000):
        yield SitemapRow(path=f"/v/{slug}/", lastmod=approved_at or created_at)


def sitemap_listing_rows(*, offset: int = 0, limit: int | None = None) -> Iterator[SitemapRow]:
    rows = public_listings().order_by("id").values_list("id", "updated_at")
    rows = rows[offset : offset + limit] if limit is not None else rows[offset:]
    for listing_id, updated_at in rows.iterator(chunk_size=2000):
        yield SitemapRow(path=f"/l/{listing_id}/", lastmod=updated_at)
