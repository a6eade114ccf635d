"""Vendor approval queue, vendor detail with documents, decisions one by one and in bulk.

Every decision goes through the vendors' onboarding services (vendor_approve & co.), which
move the audited state machine: each vendor of a bulk action gets its own transaction and
audit row, and one refusal does not undo the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from agora.accounts.models import User
from agora.core.audit import audit_trail
from agora.core.errors import DomainError, InvalidInput
from agora.payments.selectors import vendor_balance
from agora.reviews.selectors import rating_for_vendor
from agora.vendors import selectors, services
from agora.vendors.models import StaffRole, Vendor, VendorMembership, VendorStatus
from agora.web.access import operator_required
from agora.web.operator_portal.common import PAGE_SIZE, cursor_of, paging, refuse
from agora.web.operator_portal.forms import BulkVendorForm, VendorDecisionForm

Decision = Callable[..., Vendor]

DECISIONS: dict[str, tuple[Decision, str]] = {
    "approve": (services.vendor_approve, "approved"),
    "reject": (services.vendor_reject, "rejected"),
    "suspend": (services.vendor_suspend, "suspended"),
    "reinstate": (services.vendor_reinstate, "reinstated"),
}

# What an operator may do from each status (the onboarding machine's moves).
ACTIONS_BY_STATUS = {
    VendorStatus.PENDING: ("approve", "reject"),
    VendorStatus.ACTIVE: ("suspend",),
    VendorStatus.SUSPENDED: ("reinstate",),
    VendorStatus.REJECTED: (),
}


def _status_filter(request: HttpRequest) -> str:
    status = request.GET.get("status") or VendorStatus.PENDING
    if status not in VendorStatus.values:
        raise InvalidInput(
            f"status must be one of {', '.join(VendorStatus.values)}.",
            errors=[{"loc": ["query", "status"], "msg": "unknown status", "type": "enum"}],
        )
    return status


def _owners() -> Prefetch:
    return Prefetch(
        "memberships",
        queryset=VendorMembership.objects.filter(role=StaffRole.OWNER).select_related("user"),
        to_attr="owners",
    )


@operator_required
@require_safe
def vendor_queue(request: HttpRequest) -> HttpResponse:
    status = _status_filter(request)
    page = selectors.vendor_review_queue(status=status, cursor=cursor_of(request), limit=PAGE_SIZE)
    # Documents and owners for the whole page in two queries, not two per vendor.
    prefetch_related_objects(page.items, "documents", _owners())
    return render(
        request,
        "web/operator/vendors/queue.html",
        {
            "page_title": f"Vendors: {VendorStatus(status).label} — Agora operator",
            "vendors": page.items,
            "status": status,
            "statuses": VendorStatus.choices,
            "actions": ACTIONS_BY_STATUS[VendorStatus(status)],
            "needs_reason": ("reject", "suspend"),
            **paging(request, page, status=status),
        },
    )


@operator_required
@require_safe
def vendor_detail(request: HttpRequest, vendor_id: int) -> HttpResponse:
    vendor = selectors.vendor_get_for_operator(user=request.user, vendor_id=vendor_id)
    trail = list(audit_trail(vendor).select_related("actor"))
    return render(
        request,
        "web/operator/vendors/detail.html",
        {
            "page_title": f"{vendor.name} — Agora operator",
            "vendor": vendor,
            "documents": selectors.documents_list(vendor=vendor),
            "staff": selectors.staff_list(vendor=vendor),
            "trail": trail,
            "balance": vendor_balance(vendor_id=vendor.pk, currency=vendor.currency),
            "rating": rating_for_vendor(vendor.pk),
            "actions": ACTIONS_BY_STATUS[VendorStatus(vendor.status)],
            "needs_reason": ("reject", "suspend"),
        },
    )


@operator_required
@require_safe
def vendor_document(request: HttpRequest, vendor_id: int, document_id: int) -> HttpResponse:
    """The operator's scoped download: the document must belong to this vendor."""
    vendor = selectors.vendor_get_for_operator(user=request.user, vendor_id=vendor_id)
    document = selectors.document_get(vendor=vendor, document_id=document_id)
    return FileResponse(  # type: ignore[return-value]
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@operator_required
@require_POST
def vendor_decide(request: HttpRequest, vendor_id: int, action: str) -> HttpResponse:
    operator = request.user
    assert isinstance(operator, User)
    vendor = selectors.vendor_get_for_operator(user=operator, vendor_id=vendor_id)
    if action not in DECISIONS:
        raise InvalidInput(f"Unknown action {action!r}.")
    form = VendorDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("web:operator-vendor", vendor_id=vendor.pk)
    decide, done = DECISIONS[action]
    try:
        decide(actor=operator, vendor=vendor, reason=form.cleaned_data["reason"])
    except DomainError as error:
        refuse(request, error)
    else:
        messages.success(request, f"{vendor.name} was {done}.")
    return redirect("web:operator-vendor", vendor_id=vendor.pk)


@dataclass(frozen=True)
class BulkOutcome:
    vendor_id: int
    name: str
    done: bool
    detail: str


def _decide_one(operator: User, vendor_id: int, action: str, reason: str) -> BulkOutcome:
    decide, done = DECISIONS[action]
    try:
        vendor = selectors.vendor_get_for_operator(user=operator, vendor_id=vendor_id)
    except DomainError as error:
        return BulkOutcome(vendor_id, f"Vendor #{vendor_id}", False, error.detail)
    try:
        decide(actor=operator, vendor=vendor, reason=reason)
    except DomainError as error:
        return BulkOutcome(vendor.pk, vendor.name, False, error.detail)
    return BulkOutcome(vendor.pk, vendor.name, True, done.capitalize())


@operator_required
@require_POST
def vendor_bulk(request: HttpRequest) -> HttpResponse:
    """Several vendors at once; each decided (and audited) on its own, failures listed."""
    operator = request.user
    assert isinstance(operator, User)
    form = BulkVendorForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        back = request.POST.get("status") or VendorStatus.PENDING
        target = back if back in VendorStatus.values else VendorStatus.PENDING
        return redirect(f"/operator/vendors/?status={target}")
    action = form.cleaned_data["action"]
    outcomes = [
        _decide_one(operator, vendor_id, action, form.cleaned_data["reason"])
        for vendor_id in form.cleaned_data["vendor_ids"]
    ]
    done = [o for o in outcomes if o.done]
    failed = [o for o in outcomes if not o.done]
    return render(
        request,
        "web/operator/vendors/bulk_result.html",
        {
            "page_title": "Bulk action — Agora operator",
            "action": dict(BulkVendorForm.base_fields["action"].choices)[action],  # type: ignore[attr-defined]
            "done": done,
            "failed": failed,
        },
        status=200,
    )
