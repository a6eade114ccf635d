"""Quote reads, always through the acting user: a request is seen by its customer (with
every quote), by the staff of a vendor invited to it (with that vendor's quote only), and
by operators through their own views; anyone else gets NotFound (404), as for a request
that does not exist.

Also the effective quote settings of a category (its own values over its ancestors' over
the built-in defaults) and the request schema merged down the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from agora.catalog.attributes import merged_schema
from agora.catalog.models import Category
from agora.core.errors import Forbidden, NotFound
from agora.core.pagination import Page, paginate
from agora.quotes.models import (
    AssignmentMode,
    Invitation,
    Quote,
    QuoteCategorySettings,
    QuoteRequest,
    QuoteRevision,
)
from agora.vendors.selectors import staff_vendor_ids


@dataclass(frozen=True)
class QuoteSettings:
    """A category's effective quote settings."""

    request_schema: dict[str, Any]
    invite_count: int = 5
    response_sla_minutes: int = 240
    max_waves: int = 2
    request_ttl_hours: int = 168
    default_radius_km: int = 25
    assignment_mode: str = AssignmentMode.BROADCAST
    assignment_deadline_minutes: int = 15


DEFAULTS = QuoteSettings(request_schema={})
_INHERITED = (
    "invite_count",
    "response_sla_minutes",
    "max_waves",
    "request_ttl_hours",
    "default_radius_km",
    "assignment_mode",
    "assignment_deadline_minutes",
)


def category_chain(category: Category) -> list[Category]:
    """The category's ancestors and itself, root first (one query for the whole tree's
    path prefixes)."""
    parts = category.path.split("/")
    paths = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    by_path = {c.path: c for c in Category.objects.filter(path__in=paths)}
    return [by_path[p] for p in paths if p in by_path]


def quote_settings(*, category: Category) -> QuoteSettings:
    """The category's settings: each value from the deepest category that sets it."""
    chain = category_chain(category)
    rows = {
        row.category_id: row
        for row in QuoteCategorySettings.objects.filter(category__in=[c.pk for c in chain])
    }
    effective = DEFAULTS
    schemas: list[dict[str, Any]] = []
    for node in chain:
        row = rows.get(node.pk)
        if row is None:
            continue
        if row.request_schema:
            schemas.append(row.request_schema)
        changes = {
            name: getattr(row, name) for name in _INHERITED if getattr(row, name) not in (None, "")
        }
        effective = replace(effective, **changes)
    schema = merged_schema(schemas) if schemas else {}
    return replace(effective, request_schema=schema)


# --- requests as people may see them ----------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """A request as the acting user sees it: as its customer, or for one invited vendor."""

    request: QuoteRequest
    role: str  # "customer" | "vendor"
    invitation: Invitation | None
    quotes: list[Quote]


def _quotes_with_revisions() -> QuerySet[Quote]:
    return Quote.objects.select_related("vendor").prefetch_related(
        Prefetch("revisions", queryset=QuoteRevision.objects.order_by("revision"))
    )


def _requests() -> QuerySet[QuoteRequest]:
    return QuoteRequest.objects.select_related("category", "city", "customer")


def request_get_for_customer(*, user: Any, request_id: int) -> QuoteRequest:
    found = _requests().filter(pk=request_id, customer_id=user.pk).first()
    if found is None:
        raise NotFound("No such quote request.")
    return found


def invitation_get_for_staff(
    *, user: Any, request_id: int, vendor_id: int | None = None
) -> Invitation:
    """The invitation to `request_id` of a vendor `user` staffs (of `vendor_id`, when
    given); NotFound for an uninvited vendor, exactly as for a missing request."""
    vendor_ids = staff_vendor_ids(user=user)
    if vendor_id is not None:
        vendor_ids = [v for v in vendor_ids if v == vendor_id]
    invitation = (
        Invitation.objects.select_related(
            "vendor", "request", "request__category", "request__city", "request__customer"
        )
        .filter(request_id=request_id, vendor_id__in=vendor_ids)
        .order_by("vendor_id")
        .first()
    )
    if invitation is None:
        raise NotFound("No such quote request.")
    return invitation


def request_view(*, user: Any, request_id: int, vendor_id: int | None = None) -> RequestView:
    """The request for its customer (unless `vendor_id` asks for a vendor's view) or for an
    invited vendor's staff; anyone else NotFound."""
    if vendor_id is None:
        mine = _requests().filter(pk=request_id, customer_id=user.pk).first()
        if mine is not None:
            quotes = list(_quotes_with_revisions().filter(request=mine).order_by("id"))
            return RequestView(request=mine, role="customer", invitation=None, quotes=quotes)
    invitation = invitation_get_for_staff(user=user, request_id=request_id, vendor_id=vendor_id)
    quotes = list(
        _quotes_with_revisions().filter(request_id=request_id, vendor_id=invitation.vendor_id)
    )
    return RequestView(
        request=invitation.request, role="vendor", invitation=invitation, quotes=quotes
    )


def requests_for_customer(
    *, user: Any, status: str | None, cursor: str | None, limit: int = 20
) -> Page[QuoteRequest]:
    """The customer's requests, newest first, each with its invitations and quotes (a
    fixed number of queries: the page, the invitations, the quotes, their revisions)."""
    requests = _requests().filter(customer_id=user.pk)
    if status:
        requests = requests.filter(status=status)
    requests = requests.prefetch_related(
        Prefetch("invitations", queryset=Invitation.objects.order_by("rank", "id")),
        Prefetch("quotes", queryset=_quotes_with_revisions().order_by("id")),
    )
    return paginate(requests, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def invitations_for_vendor(
    *, user: Any, vendor_id: int, status: str | None, cursor: str | None, limit: int = 20
) -> Page[Invitation]:
    """A vendor's invitations, newest first, each with its request and the vendor's own
    quote (`own_quotes`: a list of at most one)."""
    if vendor_id not in staff_vendor_ids(user=user):
        raise NotFound("No such vendor.")
    invitations = (
        Invitation.objects.select_related(
            "vendor", "request", "request__category", "request__city", "request__customer"
        )
        .filter(vendor_id=vendor_id)
        .prefetch_related(
            Prefetch(
                "request__quotes",
                queryset=_quotes_with_revisions().filter(vendor_id=vendor_id),
                to_attr="own_quotes",
            )
        )
    )
    if status:
        invitations = invitations.filter(request__status=status)
    return paginate(invitations, ordering=("-invited_at", "-id"), cursor=cursor, limit=limit)


def quote_get_for_customer(*, user: Any, quote_id: int) -> Quote:
    quote = (
        Quote.objects.select_related("request", "vendor")
        .filter(pk=quote_id, request__customer_id=user.pk)
        .first()
    )
    if quote is None:
        raise NotFound("No such quote.")
    return quote


def quote_get_for_staff(*, user: Any, quote_id: int) -> Quote:
    quote = (
        Quote.objects.select_related("request", "vendor")
        .filter(pk=quote_id, vendor_id__in=staff_vendor_ids(user=user))
        .first()
    )
    if quote is None:
        raise NotFound("No such quote.")
    return quote


# --- the operator's view ----------------------------------------------------------------------


def _require_operator(user: Any) -> None:
    if not getattr(user, "is_operator", False):
        raise Forbidden("Only operators may do this.")


def requests_for_operator(
    *, user: Any, status: str | None, cursor: str | None, limit: int = 20
) -> Page[QuoteRequest]:
    """Every request, newest first, with its invitations (vendor, score, breakdown) and
    quotes: "why this vendor" for each match."""
    _require_operator(user)
    requests = _requests().prefetch_related(
        Prefetch(
            "invitations",
            queryset=Invitation.objects.select_related("vendor").order_by("wave", "rank", "id"),
        ),
        Prefetch("quotes", queryset=_quotes_with_revisions().order_by("id")),
    )
    if status:
        requests = requests.filter(status=status)
    return paginate(requests, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def request_get_for_operator(*, user: Any, request_id: int) -> QuoteRequest:
    _require_operator(user)
    found = (
        _requests()
        .prefetch_related(
            Prefetch(
                "invitations",
                queryset=Invitation.objects.select_related("vendor").order_by("wave", "rank"),
            ),
            Prefetch("quotes", queryset=_quotes_with_revisions().order_by("id")),
        )
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound("No such quote request.")
    return found


def open_requests_filter() -> Q:
    return Q(status__in=["open", "quoted"])
