"""What every public page shares: the cache policy, the SEO context, short descriptions,
and the one way a listing is fetched for a visitor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.messages import get_messages
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from agora.catalog import selectors as catalog_selectors
from agora.catalog.models import Listing
from agora.core.errors import NotFound
from agora.web.public import seo

PAGE_MAX_AGE = 60

View = Callable[..., HttpResponse]


def shared_cache(view: View) -> View:
    """Let browsers and shared caches keep a page for a minute — only when nothing in it is
    personal: a signed-out visitor, no CSRF token in a form, no flash message shown.
    Otherwise the page is private and revalidated, so signing in shows at once."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        personal = (
            request.user.is_authenticated
            or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            or request.META.get("CSRF_COOKIE_USED")
            or getattr(get_messages(request), "used", False)
        )
        if personal:
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=PAGE_MAX_AGE)
        patch_vary_headers(response, ["Cookie"])
        return response

    return wrapper


def seo_context(
    request: HttpRequest,
    *,
    title: str,
    description: str,
    crumbs: list[seo.Crumb],
    nodes: list[dict[str, Any]],
    canonical_path: str | None = None,
    noindex: bool = False,
) -> dict[str, Any]:
    """Title, description, canonical URL, breadcrumbs and one JSON-LD graph (the
    BreadcrumbList first, then `nodes`) for `web/base.html`."""
    return {
        "page_title": title,
        "meta_description": description,
        "canonical_url": seo.absolute(request, canonical_path or request.path),
        "breadcrumbs": crumbs,
        "jsonld": seo.jsonld(seo.graph(seo.breadcrumb_list(request, crumbs), *nodes)),
        "noindex": noindex,
    }


def describe(text: str, limit: int = 155) -> str:
    """`text` on one line, cut at a word to fit a search result snippet."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def next_page_url(request: HttpRequest, cursor: str | None) -> str | None:
    return f"{request.path}?{urlencode({'cursor': cursor})}" if cursor else None


def listing_or_404(request: HttpRequest, listing_id: int) -> Listing:
    """Public listings to anyone; drafts and hidden ones only to their vendor's staff and
    operators (catalog.selectors decides); everyone else gets the 404 page."""
    try:
        return catalog_selectors.listing_get_visible(user=request.user, listing_id=listing_id)
    except NotFound:
        raise Http404("No such listing.") from None
