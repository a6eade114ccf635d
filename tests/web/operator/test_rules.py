"""Commission rules: the list with its filter, and the form for a new rule."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.core.audit import audit_trail
from agora.payments.models import CommissionRule

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Premium garages",
    "priority": "10",
    "percent": "2.5",
    "fixed_amount": "20",
    "minimum_amount": "50",
    "maximum_amount": "5000",
    "currency": "GBP",
    "vendor_tier": "premium",
    "category_path": "automotive/mot-servicing",
    "listing_id": "",
}


def test_list_shows_rules_in_priority_order_and_filters(op: Client) -> None:
    CommissionRule.objects.create(name="Late", priority=200, percent_bp=500)
    CommissionRule.objects.create(name="Early", priority=5, percent_bp=250, fixed_amount=30)
    CommissionRule.objects.create(name="Old", priority=1, percent_bp=900, is_active=False)

    html = op.get("/operator/commission-rules/").content.decode()
    assert html.index("Old") < html.index("Early") < html.index("Late")
    assert "2.50 %" in html
    active = op.get("/operator/commission-rules/?status=active").content.decode()
    assert "Old" not in active
    assert "Early" in active
    inactive = op.get("/operator/commission-rules/?status=inactive").content.decode()
    assert "Old" in inactive
    assert "Early" not in inactive
    assert op.get("/operator/commission-rules/?status=gone").status_code == 422


def test_the_form_lists_categories_tiers_and_currencies(op: Client) -> None:
    html = op.get("/operator/commission-rules/new/").content.decode()

    assert '<option value="automotive/mot-servicing">' in html
    assert '<option value="premium">Premium</option>' in html
    assert '<option value="GBP">GBP</option>' in html
    assert '<label for="id_percent">Percentage (%)</label>' in html


def test_creating_a_rule_stores_basis_points_and_audits(op: Client, operator: Any) -> None:
    response = op.post("/operator/commission-rules/new/", VALID, follow=True)

    assert response.redirect_chain[-1][0] == "/operator/commission-rules/"
    rule = CommissionRule.objects.get()
    assert (rule.name, rule.priority, rule.percent_bp, rule.fixed_amount) == (
        "Premium garages",
        10,
        250,
        20,
    )
    assert (rule.minimum_amount, rule.maximum_amount, rule.currency) == (50, 5000, "GBP")
    assert (rule.vendor_tier, rule.category_path, rule.listing_id) == (
        "premium",
        "automotive/mot-servicing",
        None,
    )
    assert [(e.action, e.actor_id) for e in audit_trail(rule)] == [
        ("commission_rule.created", operator.pk)
    ]
    assert "Commission rule “Premium garages” created." in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"percent": "150"}, "Ensure this value is less than or equal to 100."),
        ({"percent": "2.555"}, "Ensure that there are no more than 2 decimal places."),
        (
            {"minimum_amount": "600", "maximum_amount": "500"},
            "The cap must not be below the floor.",
        ),
        ({"currency": "XXX"}, "Select a valid choice."),
        ({"category_path": "nowhere"}, "Select a valid choice."),
        ({"fixed_amount": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bad_rules_are_shown_on_the_form_and_not_stored(
    op: Client, changes: dict[str, str], error: str
) -> None:
    response = op.post("/operator/commission-rules/new/", {**VALID, **changes})

    assert response.status_code == 422
    assert error in response.content.decode()
    assert CommissionRule.objects.count() == 0


def test_list_costs_a_bounded_number_of_queries(
    op: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        CommissionRule.objects.create(name=f"Rule {n}", priority=n, percent_bp=100 + n)

    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(4 + 1):
        response = op.get("/operator/commission-rules/")
    assert len(response.context["rules"]) == 20
    assert "Rule 20" in op.get(response.context["next_url"]).content.decode()
