"""Changing and (de)activating commission rules: PATCH /operator/commission-rules/{id} and
payments.commission_rule_update. A change applies to sales made afterwards; every past sale
keeps the commission frozen into its payment and its ledger posting."""

from __future__ import annotations

from typing import Any

import pytest

from agora.core.audit import audit_trail
from agora.core.errors import Forbidden, InvalidInput
from agora.payments import services
from agora.payments.errors import PaymentError
from agora.payments.models import CommissionRule, JournalTransaction
from tests.conftest import assert_problem
from tests.factories import UserFactory
from tests.payments.market import Market, make_market, money_rows
from tests.race import run_concurrently

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db: Any) -> Market:
    return make_market()


def rule(market: Market, **fields: Any) -> dict[str, Any]:
    response = market.as_operator.post(
        "/operator/commission-rules", {"name": "Automotive", "percent_bp": 1000, **fields}
    )
    assert response.status_code == 201, response.content
    return response.json()


def patch(market: Market, rule_id: int, body: dict[str, Any], client: Any = None) -> Any:
    return (client or market.as_operator).patch(f"/operator/commission-rules/{rule_id}", body)


def commission_posted(reference: str) -> int:
    """The commission entry of `reference`'s capture in the ledger."""
    capture = JournalTransaction.objects.get(kind="capture", reference=reference)
    return capture.entries.get(account__purpose="commission").amount


# --- past sales keep their commission --------------------------------------------------------


def test_a_changed_rule_applies_to_new_sales_and_past_sales_keep_theirs(market: Market) -> None:
    created = rule(market, category_path="automotive")
    first = market.sell(1)  # 10 % of £100
    assert (first.commission_amount, commission_posted("booking:1")) == (10_00, 10_00)

    response = patch(market, created["id"], {"percent_bp": 2000, "fixed_amount": 50})
    assert response.status_code == 200, response.content
    second = market.sell(2)

    assert (second.commission_amount, second.commission_rule_id) == (20_50, created["id"])
    assert commission_posted("booking:2") == 20_50
    first.refresh_from_db()
    assert (first.commission_amount, first.commission_rule_id) == (10_00, created["id"])
    assert commission_posted("booking:1") == 10_00


def test_a_deactivated_rule_stops_applying_and_an_activated_one_starts_again(
    market: Market,
) -> None:
    created = rule(market, category_path="automotive")
    with_rule = market.sell(1)

    assert patch(market, created["id"], {"is_active": False}).json()["is_active"] is False
    without = market.sell(2)
    assert patch(market, created["id"], {"is_active": True}).json()["is_active"] is True
    again = market.sell(3)

    assert (without.commission_amount, without.commission_rule_id) == (3_00, None)  # default
    assert (again.commission_amount, again.commission_rule_id) == (10_00, created["id"])
    with_rule.refresh_from_db()
    assert with_rule.commission_amount == 10_00
    assert commission_posted("booking:1") == 10_00
    assert commission_posted("booking:2") == 3_00


# --- the API -----------------------------------------------------------------------------------


def test_patch_returns_the_rule_with_the_new_values_and_keeps_the_others(market: Market) -> None:
    created = rule(market, category_path="automotive", minimum_amount=1_00, currency="GBP")

    response = patch(
        market, created["id"], {"name": "Cars", "priority": 5, "maximum_amount": 50_00}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        **created,
        "name": "Cars",
        "priority": 5,
        "maximum_amount": 50_00,
    }
    stored = CommissionRule.objects.get(pk=created["id"])
    assert (stored.name, stored.priority, stored.maximum_amount) == ("Cars", 5, 50_00)
    assert (stored.percent_bp, stored.minimum_amount, stored.currency) == (1000, 1_00, "GBP")


def test_null_empties_the_floor_cap_and_listing(market: Market) -> None:
    created = rule(market, listing_id=42, minimum_amount=1_00, maximum_amount=9_00)

    body = patch(
        market, created["id"], {"listing_id": None, "minimum_amount": None, "maximum_amount": None}
    ).json()

    assert (body["listing_id"], body["minimum_amount"], body["maximum_amount"]) == (
        None,
        None,
        None,
    )


def test_the_audit_entry_records_each_changed_field_before_and_after(market: Market) -> None:
    created = rule(market, category_path="automotive")

    patch(market, created["id"], {"percent_bp": 1500, "priority": 100, "is_active": False})

    stored = CommissionRule.objects.get(pk=created["id"])
    entries = [(e.action, e.actor_id, e.data) for e in audit_trail(stored)]
    assert entries[0][0] == "commission_rule.created"
    # priority was 100 already: not a change, so not recorded
    assert entries[1] == (
        "commission_rule.updated",
        market.operator.pk,
        {
            "changes": {
                "percent_bp": {"before": 1000, "after": 1500},
                "is_active": {"before": True, "after": False},
            }
        },
    )


def test_a_patch_that_changes_nothing_is_not_audited(market: Market) -> None:
    created = rule(market)

    response = patch(market, created["id"], {"percent_bp": 1000})

    assert response.status_code == 200
    stored = CommissionRule.objects.get(pk=created["id"])
    assert [e.action for e in audit_trail(stored)] == ["commission_rule.created"]


@pytest.mark.parametrize(
    ("current", "changes"),
    [
        ({}, {"minimum_amount": 5_00, "maximum_amount": 1_00}),
        ({"maximum_amount": 1_00}, {"minimum_amount": 5_00}),  # merged with the stored cap
        ({"minimum_amount": 5_00}, {"maximum_amount": 1_00}),  # merged with the stored floor
    ],
)
def test_a_floor_above_the_cap_is_refused_as_on_create(
    market: Market, current: dict[str, int], changes: dict[str, int]
) -> None:
    created = rule(market, **current)
    before = money_rows()

    body = assert_problem(patch(market, created["id"], changes), 422, "invalid_rule")

    assert body["detail"] == "The floor is above the cap."
    assert money_rows() == before


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"commission": 5}, ["body", "payload", "commission"]),
        ({"id": 99}, ["body", "payload", "id"]),
        ({"percent_bp": 10_001}, ["body", "payload", "percent_bp"]),
        ({"currency": "gbp"}, ["body", "payload", "currency"]),
        ({"name": ""}, ["body", "payload", "name"]),
    ],
)
def test_unknown_fields_and_bad_values_are_refused(
    market: Market, changes: dict[str, Any], loc: list[str]
) -> None:
    created = rule(market)
    before = money_rows()

    body = assert_problem(patch(market, created["id"], changes), 422, "validation_error")

    assert loc in [error["loc"] for error in body["errors"]]
    assert money_rows() == before


def test_null_where_a_value_is_needed_is_refused(market: Market) -> None:
    created = rule(market)
    before = money_rows()

    body = assert_problem(
        patch(market, created["id"], {"percent_bp": None}), 422, "validation_error"
    )

    assert body["errors"][0]["loc"] == ["body", "percent_bp"]
    assert money_rows() == before


def test_an_unknown_rule_is_404(market: Market) -> None:
    assert_problem(patch(market, 987_654, {"percent_bp": 100}), 404, "not_found")


def test_only_operators_change_rules(market: Market) -> None:
    created = rule(market)
    before = money_rows()

    for client in (market.as_owner, market.as_staff, market.as_customer):
        assert_problem(patch(market, created["id"], {"percent_bp": 0}, client), 403, "forbidden")
    assert patch(market, created["id"], {"percent_bp": 0}, market.anonymous).status_code == 401
    assert money_rows() == before


# --- the service ---------------------------------------------------------------------------------


def test_the_service_refuses_unknown_fields_and_non_operators(market: Market) -> None:
    created = rule(market)

    with pytest.raises(InvalidInput, match="created_at: is not a field you can set"):
        services.commission_rule_update(
            actor=market.operator, rule_id=created["id"], changes={"created_at": None}
        )
    with pytest.raises(Forbidden, match="Only operators"):
        services.commission_rule_update(
            actor=market.owner, rule_id=created["id"], changes={"percent_bp": 0}
        )
    assert CommissionRule.objects.get(pk=created["id"]).percent_bp == 1000


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_a_floor_and_a_cap_set_at_once_never_cross() -> None:
    """Four threads raise the floor to £5 while four lower the cap to £1. Each checks the
    pair after merging with the rule's current values, under the row lock: whichever lands
    first wins and the other side is refused, so the rule never ends with floor > cap."""
    operator = UserFactory(is_operator=True, is_staff=True)
    created = CommissionRule.objects.create(name="Raced", percent_bp=1000)

    def change(index: int) -> str:
        field, value = ("minimum_amount", 5_00) if index % 2 else ("maximum_amount", 1_00)
        try:
            services.commission_rule_update(
                actor=operator, rule_id=created.pk, changes={field: value}
            )
        except PaymentError as refused:
            return refused.code
        return field

    outcomes = run_concurrently(change, threads=8)

    stored = CommissionRule.objects.get(pk=created.pk)
    assert (stored.minimum_amount is None) != (stored.maximum_amount is None)
    winner = "minimum_amount" if stored.minimum_amount is not None else "maximum_amount"
    assert sorted(outcomes) == sorted([winner] * 4 + ["invalid_rule"] * 4)
