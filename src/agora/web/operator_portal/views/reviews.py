"""Review moderation: reviews by status — flagged ones (the default) awaiting a decision,
published or hidden ones to look back — with their fraud signals (approve, hide, ban), and
vendors flagged by the quality gate — the reviews services the operator API calls."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from agora.accounts.models import User
from agora.core.errors import DomainError, InvalidInput
from agora.reviews import quality, selectors, services
from agora.reviews.models import ReviewStatus
from agora.web.access import operator_required
from agora.web.operator_portal.common import PAGE_SIZE, cursor_of, paging, refuse
from agora.web.operator_portal.forms import VendorDecisionForm

MODERATION = {"approve": "approved", "hide": "hidden", "ban": "hidden and its author banned"}
FLAG_FILTERS = ("open", "all")
STATUS_ORDER = (ReviewStatus.FLAGGED, ReviewStatus.HIDDEN, ReviewStatus.PUBLISHED)


@operator_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    flags_filter = request.GET.get("flags") or "open"
    if flags_filter not in FLAG_FILTERS:
        raise InvalidInput("flags must be open or all.")
    status = request.GET.get("status") or ReviewStatus.FLAGGED
    page = selectors.moderation_queue(status=status, cursor=cursor_of(request), limit=PAGE_SIZE)
    return render(
        request,
        "web/operator/reviews/queue.html",
        {
            "page_title": "Review moderation — Agora operator",
            "reviews": page.items,
            "flags": selectors.vendor_quality_flags(include_resolved=flags_filter == "all"),
            "flags_filter": flags_filter,
            "status": status,
            "statuses": [(value.value, value.label) for value in STATUS_ORDER],
            **paging(request, page, status=status),
        },
    )


def _operator(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@operator_required
@require_POST
def review_moderate(request: HttpRequest, review_id: int, action: str) -> HttpResponse:
    if action not in MODERATION:
        raise InvalidInput(f"Unknown moderation action {action!r}.")
    form = VendorDecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.review_moderate(
            operator=_operator(request), review_id=review_id, action=action, reason=reason
        )
    except DomainError as error:
        refuse(request, error)
    else:
        messages.success(request, f"Review #{review_id} {MODERATION[action]}.")
    return _back_to_queue(request)


def _back_to_queue(request: HttpRequest) -> HttpResponse:
    """The queue the operator acted from (its status filter kept)."""
    back = request.POST.get("status", "")
    if back in ReviewStatus.values and back != ReviewStatus.FLAGGED:
        return redirect(f"/operator/reviews/?status={back}")
    return redirect("web:operator-reviews")


@operator_required
@require_POST
def quality_flag_resolve(request: HttpRequest, flag_id: int) -> HttpResponse:
    form = VendorDecisionForm(request.POST)
    resolution = form.cleaned_data["reason"] if form.is_valid() else ""
    if not resolution:
        messages.error(request, "Say how the flag was resolved.")
        return redirect("web:operator-reviews")
    try:
        flag = quality.quality_flag_resolve(
            operator=_operator(request), flag_id=flag_id, resolution=resolution
        )
    except DomainError as error:
        refuse(request, error)
    else:
        messages.success(request, f"Quality flag on {flag.vendor.name} resolved.")
    return redirect("web:operator-reviews")
