"""Public pages: what visitors and search engines see. Each view reads through the
catalogue, vendor and booking selectors and hands its template plain values (cards,
breadcrumbs, one JSON-LD graph)."""

from agora.web.public.views.crawlers import robots_txt, sitemap_section, sitemap_xml
from agora.web.public.views.first_free import first_free
from agora.web.public.views.home import home
from agora.web.public.views.landing import category_landing
from agora.web.public.views.listing import listing_page
from agora.web.public.views.search import search
from agora.web.public.views.slots import listing_slots
from agora.web.public.views.vendor import vendor_page

__all__ = [
    "category_landing",
    "first_free",
    "home",
    "listing_page",
    "listing_slots",
    "robots_txt",
    "search",
    "sitemap_section",
    "sitemap_xml",
    "vendor_page",
]
