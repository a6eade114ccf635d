"""What crawlers read: /robots.txt and the sitemap.

One `/sitemap.xml` lists every public page while they fit in one file (the protocol allows
50,000 addresses); past that it becomes a sitemap index pointing at numbered files per
kind (`/sitemap-listings-3.xml`), each cut from the same id-ordered rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.web.public import queries, seo

CRAWLER_MAX_AGE = 3600
SITEMAP_LIMIT = 50_000  # addresses per file, the sitemap protocol's maximum
# Portals, the API and per-visitor pages are no use in a search index.
DISALLOWED = (
    "/account/",
    "/vendor/",
    "/operator/",
    "/api/",
    "/django-admin/",
    "/login/",
    "/signup/",
    "/password-reset/",
    "/search",
    # live availability: changes by the minute, noindex anyway
    "/l/*/slots/",
    "/c/*/first-free/",
)
XML = "application/xml; charset=utf-8"


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /", ""]
    lines += [f"Sitemap: {seo.absolute(request, '/sitemap.xml')}", ""]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=CRAWLER_MAX_AGE)
    return response


def _page_rows() -> list[queries.SitemapRow]:
    """Home and the category and category × city landing pages that have listings."""
    categories = catalog_selectors.categories_all()
    with_listings = queries.categories_with_listings(categories)
    rows = [queries.SitemapRow("/", None)]
    rows += [
        queries.SitemapRow(f"/c/{c.slug}/", None) for c in categories if c.slug in with_listings
    ]
    rows += [
        queries.SitemapRow(f"/c/{category}/{city}/", None)
        for category, city in sorted(queries.landing_pairs(categories))
    ]
    return rows


def _urlset(request: HttpRequest, rows: Iterable[queries.SitemapRow]) -> HttpResponse:
    base = seo.absolute(request, "/").rstrip("/")
    response = render(
        request,
        "web/public/sitemap.xml",
        {"urls": [{"loc": base + row.path, "lastmod": row.lastmod} for row in rows]},
        content_type=XML,
    )
    patch_cache_control(response, public=True, max_age=CRAWLER_MAX_AGE)
    return response


@require_safe
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    """Every public page in one file (seven queries), or the index of the split files."""
    vendors = queries.sitemap_vendor_count()
    listings = queries.sitemap_listing_count()
    pages = _page_rows()
    if len(pages) + vendors + listings <= SITEMAP_LIMIT:
        return _urlset(
            request,
            [*pages, *queries.sitemap_vendor_rows(), *queries.sitemap_listing_rows()],
        )
    files = ["/sitemap-pages.xml"]
    files += [f"/sitemap-vendors-{n}.xml" for n in range(1, ceil(vendors / SITEMAP_LIMIT) + 1)]
    files += [f"/sitemap-listings-{n}.xml" for n in range(1, ceil(listings / SITEMAP_LIMIT) + 1)]
    response = render(
        request,
        "web/public/sitemap_index.xml",
        {"sitemaps": [seo.absolute(request, path) for path in files]},
        content_type=XML,
    )
    patch_cache_control(response, public=True, max_age=CRAWLER_MAX_AGE)
    return response


@require_safe
def sitemap_section(request: HttpRequest, section: str, number: int | None = None) -> HttpResponse:
    """One file of a split sitemap: `pages`, or the `number`th (from 1) of `vendors` or
    `listings`. A number past the end is 404."""
    if section == "pages":
        return _urlset(request, _page_rows())
    if section not in ("vendors", "listings") or number is None or number < 1:
        raise Http404("No such sitemap.")
    offset = (number - 1) * SITEMAP_LIMIT
    total = (
        queries.sitemap_vendor_count() if section == "vendors" else queries.sitemap_listing_count()
    )
    if offset >= total:
        raise Http404("No such sitemap.")
    rows = (
        queries.sitemap_vendor_rows(offset=offset, limit=SITEMAP_LIMIT)
        if section == "vendors"
        else queries.sitemap_listing_rows(offset=offset, limit=SITEMAP_LIMIT)
    )
    return _urlset(request, rows)
