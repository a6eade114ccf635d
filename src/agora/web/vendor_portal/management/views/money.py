"""/vendor/money/: balance, statement with running balance (paged, and as CSV), payouts and
the payout schedule — the payments selectors and services the API uses. Owners and
managers only: staff members get 403."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from agora.core.errors import DomainError
from agora.core.money import Money
from agora.core.pagination import paginate
from agora.payments import services as payment_services
from agora.payments.models import Payout, PayoutSettings
from agora.payments.selectors import Statement, vendor_balance, vendor_statement
from agora.payments.statement_csv import statement_csv_response
from agora.vendors.selectors import StaffContext
from agora.web.access import vendor_staff_required
from agora.web.vendor_portal.management.common import add_domain_error, manager_for, page
from agora.web.vendor_portal.management.forms import (
    PayoutForm,
    PayoutSettingsForm,
    StatementFilterForm,
    new_request_token,
)

STATEMENT_PAGE = 50
PAYOUTS_PAGE = 20


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _statement(
    staff: StaffContext, filters: StatementFilterForm, *, cursor: str | None, limit: int | None
) -> Statement:
    """The statement for valid `filters`: dates are the vendor's local days, `to` included."""
    zone = ZoneInfo(staff.vendor.timezone)
    data = filters.cleaned_data
    start, end = data.get("start"), data.get("end")
    return vendor_statement(
        vendor_id=staff.vendor.pk,
        currency=staff.vendor.currency,
        purpose=data.get("purpose") or "available",
        start=_local_midnight(start, zone) if start else None,
        end=_local_midnight(end + timedelta(days=1), zone) if end else None,
        cursor=cursor,
        limit=limit,
    )


def _filter_query(filters: StatementFilterForm) -> dict[str, str]:
    data = filters.cleaned_data if filters.is_valid() else {}
    query = {"purpose": data.get("purpose") or "available"}
    if data.get("start"):
        query["start"] = data["start"].isoformat()
    if data.get("end"):
        query["end"] = data["end"].isoformat()
    return query


@vendor_staff_required
@require_safe
def money(request: HttpRequest) -> HttpResponse:
    return _page(request, manager_for(request))


def _page(
    request: HttpRequest, staff: StaffContext, *, status: int = 200, **forms_: Any
) -> HttpResponse:
    vendor, currency = staff.vendor, staff.vendor.currency
    balance = vendor_balance(vendor_id=vendor.pk, currency=currency)
    filters = StatementFilterForm(request.GET or None)
    lines: list[dict[str, Any]] = []
    next_cursor = None
    if filters.is_bound and not filters.is_valid():
        status = 422
    else:
        if not filters.is_bound:
            filters = StatementFilterForm({"purpose": "available"})
            filters.is_valid()
        statement = _statement(
            staff, filters, cursor=request.GET.get("cursor") or None, limit=STATEMENT_PAGE
        )
        lines = [
            {
                "at": line.at,
                "kind": line.kind.replace("_", " "),
                "reference": line.reference,
                "memo": line.memo,
                "amount": Money(line.amount, currency),
                "balance": Money(line.balance, currency),
                "credit": line.amount > 0,
            }
            for line in statement.lines
        ]
        next_cursor = statement.next_cursor
    query = _filter_query(filters)
    payouts = paginate(
        Payout.objects.filter(vendor_id=vendor.pk),
        ordering=("-created_at", "-id"),
        cursor=request.GET.get("payouts_cursor") or None,
        limit=PAYOUTS_PAGE,
    )
    setting = PayoutSettings.objects.filter(vendor_id=vendor.pk).first() or PayoutSettings(
        vendor_id=vendor.pk
    )
    context: dict[str, Any] = {
        "page_title": "Money",
        "vendor_zone": ZoneInfo(vendor.timezone),
        "balance": balance,
        "filters": filters,
        "lines": lines,
        "purpose": query["purpose"],
        "next_url": f"?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else None,
        "first_url": f"?{urlencode(query)}",
        "csv_url": f"statement.csv?{urlencode(query)}",
        "payouts": [{"payout": p, "amount": Money(p.amount, p.currency)} for p in payouts.items],
        "payouts_next_url": f"?{urlencode({**query, 'payouts_cursor': payouts.next_cursor})}"
        if payouts.next_cursor
        else None,
        "payout_form": PayoutForm(initial={"token": new_request_token()}, currency=currency),
        "settings_form": PayoutSettingsForm(
            initial={"schedule": setting.schedule, "minimum_amount": setting.minimum_amount},
            currency=currency,
        ),
    }
    context.update(forms_)
    return page(request, "money.html", staff, context, status=status)


@vendor_staff_required
@require_safe
def statement_csv(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    filters = StatementFilterForm(request.GET or {"purpose": "available"})
    if not filters.is_valid():
        return _page(request, staff, status=422)
    return statement_csv_response(_statement(staff, filters, cursor=None, limit=None))


@vendor_staff_required
@require_POST
def payout_request(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    currency = staff.vendor.currency
    form = PayoutForm(request.POST, currency=currency)
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            payout = payment_services.payout_create(
                vendor_id=staff.vendor.pk,
                currency=currency,
                amount=Money(amount, currency) if amount else None,
                # Scoped like the API's keys: the same form submitted twice pays once.
                idempotency_key=f"{staff.vendor.pk}:web:{form.cleaned_data['token']}",
                actor=request.user,
            )
        except DomainError as error:
            add_domain_error(form, error, names={"amount": "amount"})
        else:
            shown = Money(payout.amount, payout.currency)
            if payout.status == "failed":
                messages.error(request, f"The payout of {shown} failed: {payout.failure_reason}")
            else:
                messages.success(request, f"Payout of {shown} requested ({payout.status}).")
            return redirect("web:vendor-money")
    # A refused payout wrote nothing, so the same token may be used for the next try.
    return _page(request, staff, status=422, payout_form=form)


@vendor_staff_required
@require_POST
def payout_settings(request: HttpRequest) -> HttpResponse:
    staff = manager_for(request)
    form = PayoutSettingsForm(request.POST, currency=staff.vendor.currency)
    if form.is_valid():
        payment_services.payout_settings_set(
            vendor_id=staff.vendor.pk,
            schedule=form.cleaned_data["schedule"],
            minimum_amount=form.cleaned_data["minimum_amount"],
        )
        messages.success(request, "Payout schedule saved.")
        return redirect("web:vendor-money")
    return _page(request, staff, status=422, settings_form=form)
