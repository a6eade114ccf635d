"""Commission rules: the list and a form for new ones (payments' commission_rule_create).

Rules are only ever added: a sale's commission is frozen when it is made, and the payments
services offer no way to change a rule, so the console offers none either.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from agora.accounts.models import User
from agora.catalog.selectors import categories_all
from agora.core.errors import DomainError, InvalidInput
from agora.core.pagination import paginate
from agora.payments import services
from agora.payments.models import CommissionRule
from agora.web.access import operator_required
from agora.web.operator_portal.common import PAGE_SIZE, cursor_of, paging
from agora.web.operator_portal.forms import CommissionRuleForm

ACTIVE_FILTERS = {"": None, "active": True, "inactive": False}


def _categories() -> list[tuple[str, str]]:
    return [(c.path, c.path.replace("/", " › ")) for c in categories_all()]


@operator_required
@require_safe
def rule_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ACTIVE_FILTERS:
        raise InvalidInput("status must be active or inactive.")
    rules = CommissionRule.objects.all()
    active = ACTIVE_FILTERS[status]
    if active is not None:
        rules = rules.filter(is_active=active)
    page = paginate(rules, ordering=("priority", "id"), cursor=cursor_of(request), limit=PAGE_SIZE)
    return render(
        request,
        "web/operator/rules/list.html",
        {
            "page_title": "Commission rules — Agora operator",
            "rules": [(rule, Decimal(rule.percent_bp) / 100) for rule in page.items],
            "status": status,
            **paging(request, page),
        },
    )


@operator_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    categories = _categories()
    form = CommissionRuleForm(
        request.POST if request.method == "POST" else None, categories=categories
    )
    if request.method == "POST" and form.is_valid():
        operator = request.user
        assert isinstance(operator, User)
        try:
            rule = services.commission_rule_create(actor=operator, **form.service_fields())
        except DomainError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, f"Commission rule “{rule.name}” created.")
            return redirect("web:operator-rules")
    return render(
        request,
        "web/operator/rules/form.html",
        {"page_title": "New commission rule — Agora operator", "form": form},
        status=422 if form.is_bound else 200,
    )
