"""Small helpers the operator console's views share: list paging, vendor names, refusals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest

from agora.core.errors import DomainError
from agora.core.pagination import Page
from agora.vendors.models import Vendor

PAGE_SIZE = 20


def cursor_of(request: HttpRequest) -> str | None:
    return request.GET.get("cursor") or None


def paging(request: HttpRequest, page: Page[Any], **filters: str) -> dict[str, str | None]:
    """Links to the next page and back to the first, keeping the list's filters (those in
    the query string, and `filters` the view defaulted)."""
    params = {**filters, **{k: v for k, v in request.GET.items() if k != "cursor" and v}}
    first = f"{request.path}?{urlencode(params)}" if params else request.path
    following = None
    if page.next_cursor:
        following = f"{request.path}?{urlencode({**params, 'cursor': page.next_cursor})}"
    return {
        "next_url": following,
        "first_url": first if request.GET.get("cursor") else None,
    }


def vendor_names(vendor_ids: Iterable[int]) -> dict[int, str]:
    """Names of the vendors payments rows name by id (payments has no foreign keys to
    vendors): one query for a whole page."""
    ids = {int(vendor_id) for vendor_id in vendor_ids}
    if not ids:
        return {}
    return dict(Vendor.objects.filter(pk__in=ids).values_list("pk", "name"))


def refuse(request: HttpRequest, error: DomainError) -> None:
    """Show a domain refusal (an illegal move, a missing reason) above the page."""
    messages.error(request, error.detail)
