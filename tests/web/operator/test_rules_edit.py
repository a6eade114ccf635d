"""Editing commission rules on the console, and switching them on and off from the list
(payments' commission_rule_update, audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.core.audit import audit_trail
from agora.payments.models import CommissionRule
from tests.web.operator.conftest import messages_of
from tests.web.operator.test_rules import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(db: Any) -> CommissionRule:
    return CommissionRule.objects.create(
        name="Garages",
        priority=10,
        percent_bp=250,
        fixed_amount=20,
        minimum_amount=50,
        maximum_amount=5000,
        currency="GBP",
        vendor_tier="premium",
        category_path="automotive/mot-servicing",
    )


def edit_url(rule: CommissionRule) -> str:
    return f"/operator/commission-rules/{rule.pk}/edit/"


def test_the_edit_form_is_filled_with_the_rule(
    op: Client, rule: CommissionRule, django_assert_max_num_queries: Any
) -> None:
    # + 1: the header's notification bell (one COUNT of unread notifications)
    with django_assert_max_num_queries(6 + 1):
        response = op.get(edit_url(rule))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Edit commission rule “Garages”</h1>" in html
    assert f'action="/operator/commission-rules/{rule.pk}/edit/"' in html
    assert 'name="name" value="Garages"' in html
    assert 'name="percent" value="2.50"' in html  # 250 basis points
    assert 'name="fixed_amount" value="20"' in html
    assert 'name="minimum_amount" value="50"' in html
    assert 'name="maximum_amount" value="5000"' in html
    assert '<option value="GBP" selected>GBP</option>' in html
    assert '<option value="premium" selected>Premium</option>' in html
    assert '<option value="automotive/mot-servicing" selected>' in html
    assert "Save changes" in html


def test_saving_changes_the_row_and_audits_the_changed_fields(
    op: Client, operator: Any, rule: CommissionRule
) -> None:
    form = {
        **VALID,
        "name": "Garages",
        "percent": "4.25",
        "maximum_amount": "",
        "vendor_tier": "",
    }

    response = op.post(edit_url(rule), form, follow=True)

    assert response.redirect_chain[-1][0] == "/operator/commission-rules/"
    assert "Commission rule “Garages” saved." in messages_of(response)
    rule.refresh_from_db()
    assert (rule.percent_bp, rule.maximum_amount, rule.vendor_tier) == (425, None, "")
    assert (rule.priority, rule.fixed_amount, rule.minimum_amount) == (10, 20, 50)
    entry = list(audit_trail(rule))[-1]
    assert (entry.action, entry.actor_id) == ("commission_rule.updated", operator.pk)
    assert entry.data == {
        "changes": {
            "percent_bp": {"before": 250, "after": 425},
            "maximum_amount": {"before": 5000, "after": None},
            "vendor_tier": {"before": "premium", "after": ""},
        }
    }
    assert "4.25 %" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"percent": "101"}, "Ensure this value is less than or equal to 100."),
        (
            {"minimum_amount": "600", "maximum_amount": "500"},
            "The cap must not be below the floor.",
        ),
        ({"currency": "XXX"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_changes_nothing(
    op: Client, rule: CommissionRule, changes: dict[str, str], error: str
) -> None:
    response = op.post(edit_url(rule), {**VALID, **changes})

    assert response.status_code == 422
    html = response.content.decode()
    assert error in html
    assert "<h1>Edit commission rule “Garages”</h1>" in html
    stored = CommissionRule.objects.get(pk=rule.pk)
    assert (stored.name, stored.percent_bp, stored.maximum_amount) == ("Garages", 250, 5000)
    assert [e.action for e in audit_trail(rule)] == []


def test_an_unknown_rule_is_404(op: Client) -> None:
    assert op.get("/operator/commission-rules/987654/edit/").status_code == 404
    assert op.post("/operator/commission-rules/987654/deactivate/").status_code == 404


def test_the_list_offers_edit_and_the_right_switch(op: Client, rule: CommissionRule) -> None:
    old = CommissionRule.objects.create(name="Old", priority=1, percent_bp=900, is_active=False)

    html = op.get("/operator/commission-rules/").content.decode()

    assert f'href="/operator/commission-rules/{rule.pk}/edit/"' in html
    assert f'action="/operator/commission-rules/{rule.pk}/deactivate/"' in html
    assert f'action="/operator/commission-rules/{old.pk}/activate/"' in html
    assert f'action="/operator/commission-rules/{old.pk}/deactivate/"' not in html


def test_deactivating_and_activating_from_the_list(
    op: Client, operator: Any, rule: CommissionRule
) -> None:
    response = op.post(f"/operator/commission-rules/{rule.pk}/deactivate/", follow=True)

    assert response.redirect_chain[-1][0] == "/operator/commission-rules/"
    assert "Commission rule “Garages” deactivated." in messages_of(response)
    assert CommissionRule.objects.get(pk=rule.pk).is_active is False
    assert f'action="/operator/commission-rules/{rule.pk}/activate/"' in (response.content.decode())

    response = op.post(
        f"/operator/commission-rules/{rule.pk}/activate/", {"status": "active"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/operator/commission-rules/?status=active"
    assert "Commission rule “Garages” activated." in messages_of(response)
    assert CommissionRule.objects.get(pk=rule.pk).is_active is True
    assert [(e.action, e.actor_id, e.data) for e in audit_trail(rule)] == [
        (
            "commission_rule.updated",
            operator.pk,
            {"changes": {"is_active": {"before": True, "after": False}}},
        ),
        (
            "commission_rule.updated",
            operator.pk,
            {"changes": {"is_active": {"before": False, "after": True}}},
        ),
    ]


def test_an_unknown_switch_and_a_get_are_refused(op: Client, rule: CommissionRule) -> None:
    assert op.post(f"/operator/commission-rules/{rule.pk}/delete/").status_code == 422
    assert op.get(f"/operator/commission-rules/{rule.pk}/deactivate/").status_code == 405
    assert CommissionRule.objects.get(pk=rule.pk).is_active is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/operator/commission-rules/{id}/edit/"),
        ("post", "/operator/commission-rules/{id}/edit/"),
        ("post", "/operator/commission-rules/{id}/deactivate/"),
    ],
)
def test_customers_and_vendor_staff_get_403_and_change_nothing(
    customer_client: Client,
    staff_client: Client,
    rule: CommissionRule,
    method: str,
    path: str,
) -> None:
    url = path.format(id=rule.pk)
    for client in (customer_client, staff_client):
        response = getattr(client, method)(url, {**VALID, "percent": "9"})
        assert response.status_code == 403
    stored = CommissionRule.objects.get(pk=rule.pk)
    assert (stored.percent_bp, stored.is_active) == (250, True)
    assert list(audit_trail(rule)) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/operator/commission-rules/{id}/edit/"),
        ("post", "/operator/commission-rules/{id}/edit/"),
        ("post", "/operator/commission-rules/{id}/deactivate/"),
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(
    rule: CommissionRule, method: str, path: str
) -> None:
    url = path.format(id=rule.pk)

    response = getattr(Client(), method)(url, {**VALID, "percent": "9"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert CommissionRule.objects.get(pk=rule.pk).is_active is True
