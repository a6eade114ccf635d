from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from agora.catalog import selectors as catalog_selectors
from agora.web.public import queries, seo

CRAWLER_MAX_AGE = 3600
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
    "/l/*/slots/",  # live availability: changes by the minute, noindex anyway
)


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /", ""]
    lines += [f"Sitemap: {seo.absolute(request, '/sitemap.xml')}", ""]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=CRAWLER_MAX_AGE)
    return response


@require_safe
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    """Every public page: home, the category and category × city landing pages that have
    listings, active vendors and public listings. Five queries, however many rows."""
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
    rows += queries.sitemap_vendor_rows()
    rows += queries.sitemap_listing_rows()
    base = seo.absolute(request, "/").rstrip("/")
    response = render(
        request,
        "web/public/sitemap.xml",
        {"urls": [{"loc": base + row.path, "lastmod": row.lastmod} for row in rows]},
        content_type="application/xml; charset=utf-8",
    )
    patch_cache_control(response, public=True, max_age=CRAWLER_MAX_AGE)
    return response
