"""Commission rules: the list, a form for new ones (payments' commission_rule_create), the
same form to edit one and a button to switch one on or off (commission_rule_update).

A change applies to sales from then on: each sale's commission is frozen into its payment
and its ledger posting when it is made, so editing or deactivating a rule never changes a
past sale.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agora.accounts.models import User
from agora.catalog.selectors import categories_all
from agora.core.errors import DomainError, InvalidInput, NotFound
from agora.core.pagination import paginate
from agora.payments import services
from agora.payments.models import CommissionRule
from agora.web.access import operator_required
from agora.web.operator_portal.common import PAGE_SIZE, cursor_of, paging, refuse
from agora.web.operator_portal.forms import CommissionRuleForm

ACTIVE_FILTERS = {"": None, "active": True, "inactive": False}
SWITCHES = {"activate": (True, "activated"), "deactivate": (False, "deactivated")}


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


def _rule(rule_id: int) -> CommissionRule:
    rule = CommissionRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("No such commission rule.")
    return rule


def _operator(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@operator_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule(rule_id)
    categories = _categories()
    if rule.category_path and rule.category_path not in {path for path, _ in categories}:
        categories.append((rule.category_path, rule.category_path.replace("/", " › ")))
    form = CommissionRuleForm(
        request.POST if request.method == "POST" else None,
        initial=CommissionRuleForm.initial_of(rule),
        categories=categories,
    )
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.commission_rule_update(
                actor=_operator(request), rule_id=rule.pk, changes=form.service_fields()
            )
        except DomainError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, f"Commission rule “{rule.name}” saved.")
            return redirect("web:operator-rules")
    return render(
        request,
        "web/operator/rules/form.html",
        {
            "page_title": f"Edit commission rule “{rule.name}” — Agora operator",
            "form": form,
            "rule": rule,
        },
        status=422 if form.is_bound else 200,
    )


@operator_required
@require_POST
def rule_switch(request: HttpRequest, rule_id: int, action: str) -> HttpResponse:
    """Activate or deactivate a rule from the list."""
    if action not in SWITCHES:
        raise InvalidInput(f"Unknown action {action!r}: activate or deactivate.")
    active, done = SWITCHES[action]
    try:
        rule = services.commission_rule_update(
            actor=_operator(request), rule_id=rule_id, changes={"is_active": active}
        )
    except NotFound:
        raise
    except DomainError as error:
        refuse(request, error)
    else:
        messages.success(request, f"Commission rule “{rule.name}” {done}.")
    back = request.POST.get("status", "")
    if back in ACTIVE_FILTERS and back:
        return redirect(f"/operator/commission-rules/?status={back}")
    return redirect("web:operator-rules")
