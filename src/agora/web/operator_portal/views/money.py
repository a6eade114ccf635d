"""Sales, refunds and disputes: the payments services the operator API calls, on pages.

Refunds and disputes move money, so their forms carry a one-time token that becomes the
service's idempotency key: submitting twice replays the first result and moves nothing
twice.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agora.accounts.models import User
from agora.core.errors import DomainError, InvalidInput
from agora.core.money import Money
from agora.payments import services
from agora.payments.models import DisputeStatus, Payment, PaymentStatus
from agora.payments.platform_figures import sale_get, sales_list
from agora.payments.selectors import dispute_get, disputes_list, reference_state
from agora.web.access import operator_required
from agora.web.operator_portal.common import PAGE_SIZE, cursor_of, paging, vendor_names
from agora.web.operator_portal.forms import (
    DisputeDecideForm,
    DisputeOpenForm,
    EvidenceForm,
    RefundForm,
    SaleLookupForm,
)


def _operator(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _status(request: HttpRequest, values: list[str]) -> str | None:
    status = request.GET.get("status") or None
    if status is not None and status not in values:
        raise InvalidInput(
            f"status must be one of {', '.join(values)}.",
            errors=[{"loc": ["query", "status"], "msg": "unknown status", "type": "enum"}],
        )
    return status


def _once() -> str:
    return secrets.token_hex(16)


def _key(operator: User, once: str, what: str) -> str:
    return f"operator:{operator.pk}:page:{what}:{once}"


# --- sales -----------------------------------------------------------------------------------


@operator_required
@require_safe
def sale_list(request: HttpRequest) -> HttpResponse:
    lookup = SaleLookupForm(request.GET if "number" in request.GET else None)
    if lookup.is_bound and lookup.is_valid():
        reference = f"{lookup.cleaned_data['kind']}:{lookup.cleaned_data['number']}"
        return redirect("web:operator-sale", reference=reference)
    status = _status(request, PaymentStatus.values)
    vendor = request.GET.get("vendor") or None
    if vendor is not None and not vendor.isdigit():
        raise InvalidInput(
            "vendor must be a vendor's number.",
            errors=[{"loc": ["query", "vendor"], "msg": "not a number", "type": "int"}],
        )
    vendor_id = int(vendor) if vendor else None
    page = sales_list(
        status=status, vendor_id=vendor_id, cursor=cursor_of(request), limit=PAGE_SIZE
    )
    names = vendor_names(
        [sale.vendor_id for sale in page.items] + ([vendor_id] if vendor_id else [])
    )
    return render(
        request,
        "web/operator/money/sales.html",
        {
            "page_title": "Sales and refunds — Agora operator",
            "sales": [
                (
                    sale,
                    names.get(sale.vendor_id, ""),
                    Money(sale.gross_amount, sale.currency),
                    Money(sale.refunded_amount, sale.currency),
                )
                for sale in page.items
            ],
            "status": status or "",
            "statuses": PaymentStatus.choices,
            "vendor_id": vendor_id,
            "vendor_name": names.get(vendor_id, "") if vendor_id else "",
            "lookup": lookup,
            **paging(request, page),
        },
    )


def _sale_context(
    sale: Payment, *, refund_form: RefundForm | None = None, dispute_form: Any = None
) -> dict[str, Any]:
    state = reference_state(
        reference=sale.reference, vendor_id=sale.vendor_id, currency=sale.currency
    )
    return {
        "page_title": f"Sale {sale.reference} — Agora operator",
        "sale": sale,
        "vendor_name": vendor_names([sale.vendor_id]).get(sale.vendor_id, ""),
        "gross": Money(sale.gross_amount, sale.currency),
        "commission": Money(sale.commission_amount, sale.currency),
        "fee": Money(sale.fee_amount, sale.currency),
        "refunded": Money(sale.refunded_amount, sale.currency),
        "refundable": state.refundable,
        "on_hold": Money(state.dispute_hold, sale.currency),
        "refunds": list(sale.refunds.order_by("created_at", "id")),
        "disputes": list(sale.disputes.order_by("-created_at", "-id")),
        "refund_form": refund_form or RefundForm(currency=sale.currency, initial={"once": _once()}),
        "dispute_form": dispute_form
        or DisputeOpenForm(currency=sale.currency, initial={"once": _once()}),
    }


@operator_required
@require_safe
def sale_detail(request: HttpRequest, reference: str) -> HttpResponse:
    sale = sale_get(reference=reference)
    return render(request, "web/operator/money/sale.html", _sale_context(sale))


@operator_required
@require_POST
def sale_refund(request: HttpRequest, reference: str) -> HttpResponse:
    operator = _operator(request)
    sale = sale_get(reference=reference)
    form = RefundForm(request.POST, currency=sale.currency)
    if form.is_valid():
        try:
            refund = services.refund_create(
                reference=sale.reference,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=operator,
                idempotency_key=_key(operator, form.cleaned_data["once"], "refund"),
            )
        except DomainError as error:
            form.add_error("amount" if error.status == 409 else None, error.detail)
        else:
            if refund is None:
                form.add_error(None, "Nothing is left to refund.")
            else:
                amount = Money(refund.amount, refund.currency)
                messages.success(request, f"Refunded {amount} of {sale.reference}.")
                return redirect("web:operator-sale", reference=sale.reference)
    return render(
        request,
        "web/operator/money/sale.html",
        _sale_context(sale, refund_form=form),
        status=422,
    )


@operator_required
@require_POST
def sale_dispute(request: HttpRequest, reference: str) -> HttpResponse:
    operator = _operator(request)
    sale = sale_get(reference=reference)
    form = DisputeOpenForm(request.POST, currency=sale.currency)
    if form.is_valid():
        try:
            dispute = services.dispute_open(
                reference=sale.reference,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=operator,
                idempotency_key=_key(operator, form.cleaned_data["once"], "dispute"),
            )
        except DomainError as error:
            form.add_error("amount" if error.status == 409 else None, error.detail)
        else:
            messages.success(request, f"Dispute #{dispute.pk} opened on {sale.reference}.")
            return redirect("web:operator-dispute", dispute_id=dispute.pk)
    return render(
        request,
        "web/operator/money/sale.html",
        _sale_context(sale, dispute_form=form),
        status=422,
    )


# --- disputes -------------------------------------------------------------------------------


@operator_required
@require_safe
def dispute_list(request: HttpRequest) -> HttpResponse:
    status = _status(request, DisputeStatus.values)
    page = disputes_list(status=status, cursor=cursor_of(request), limit=PAGE_SIZE)
    names = vendor_names(d.vendor_id for d in page.items)
    return render(
        request,
        "web/operator/money/disputes.html",
        {
            "page_title": "Disputes — Agora operator",
            "disputes": [
                (d, names.get(d.vendor_id, ""), Money(d.amount, d.currency)) for d in page.items
            ],
            "status": status or "",
            "statuses": DisputeStatus.choices,
            **paging(request, page),
        },
    )


def _dispute_page(
    request: HttpRequest,
    dispute_id: int,
    *,
    evidence_form: EvidenceForm | None = None,
    decide_form: DisputeDecideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    dispute = dispute_get(dispute_id=dispute_id)
    authors = dict(
        User.objects.filter(pk__in={e.author_id for e in dispute.evidence.all()}).values_list(
            "pk", "name"
        )
    )
    return render(
        request,
        "web/operator/money/dispute.html",
        {
            "page_title": f"Dispute #{dispute.pk} — Agora operator",
            "dispute": dispute,
            "amount": Money(dispute.amount, dispute.currency),
            "vendor_name": vendor_names([dispute.vendor_id]).get(dispute.vendor_id, ""),
            "evidence": [
                (e, authors.get(e.author_id or 0, "the gateway")) for e in dispute.evidence.all()
            ],
            "open": dispute.status == DisputeStatus.OPENED,
            "evidence_form": evidence_form or EvidenceForm(),
            "decide_form": decide_form or DisputeDecideForm(),
        },
        status=status,
    )


@operator_required
@require_safe
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    return _dispute_page(request, dispute_id)


@operator_required
@require_POST
def dispute_evidence(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = dispute_get(dispute_id=dispute_id)
    form = EvidenceForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_add_evidence(
                dispute=dispute, text=form.cleaned_data["text"], actor=_operator(request)
            )
        except DomainError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, "Evidence recorded.")
            return redirect("web:operator-dispute", dispute_id=dispute.pk)
    return _dispute_page(request, dispute.pk, evidence_form=form, status=422)


@operator_required
@require_http_methods(["POST"])
def dispute_decide(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = dispute_get(dispute_id=dispute_id)
    form = DisputeDecideForm(request.POST)
    if form.is_valid():
        outcome = form.cleaned_data["outcome"]
        if dispute.status != DisputeStatus.OPENED:
            form.add_error(None, f"This dispute was already decided: {dispute.status}.")
        else:
            try:
                services.dispute_decide(
                    dispute=dispute,
                    outcome=outcome,
                    actor=_operator(request),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, f"Dispute #{dispute.pk} decided: {outcome}.")
                return redirect(reverse("web:operator-dispute", args=[dispute.pk]))
    return _dispute_page(request, dispute.pk, decide_form=form, status=422)
