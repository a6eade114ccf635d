"""Quote-based jobs: "Request a quote" on a quote listing asks that listing's vendor
(the form and the flow live in agora.web.quotes)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from agora.web.quotes.views import quote_ask


def quote(request: HttpRequest, listing_id: int) -> HttpResponse:
    return quote_ask(request, listing_id=listing_id)
