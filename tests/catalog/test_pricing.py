"""Parameterised pricing: one pure function (catalog.pricing.resolve_price) and its API.

Multipliers apply first in a fixed dimension order, each rounded half up to the minor unit;
add-ons follow; the total never goes below zero.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.catalog.models import PriceRule
from agora.catalog.pricing import (
    DIMENSION_ORDER,
    PriceLine,
    PriceRuleSpec,
    PricingError,
    resolve_price,
)
from agora.core.money import Money
from tests.conftest import ApiClient, assert_problem
from tests.factories import ListingFactory, UserFactory, VendorFactory
from tests.vendors.helpers import client_for, error_locs, snapshot

GBP = "GBP"
EMERGENCY = PriceRuleSpec("urgency", "emergency", "multiplier", multiplier_bp=15000)
NEXT_DAY = PriceRuleSpec("urgency", "next-day", "addon", amount=1500, label="Next day")
MASTER = PriceRuleSpec("skill_tier", "master", "addon", amount=2000, label="Master technician")
SENIOR = PriceRuleSpec("skill_tier", "senior", "multiplier", multiplier_bp=12500)
COMPLEX = PriceRuleSpec("complexity", "complex", "multiplier", multiplier_bp=13333)
RULES = [EMERGENCY, NEXT_DAY, MASTER, SENIOR, COMPLEX]


# --- unit tests -----------------------------------------------------------------------------------


def test_no_selection_is_the_base_price() -> None:
    quote = resolve_price(base=Money(8000, GBP), rules=RULES, selection={})

    assert (quote.base, quote.lines, quote.total) == (Money(8000, GBP), (), Money(8000, GBP))


def test_multipliers_apply_before_add_ons() -> None:
    # ×1.5 for emergency on £80 is £120, then +£20 for a master technician: £140
    # (adding first would give (80 + 20) × 1.5 = £150)
    quote = resolve_price(
        base=Money(8000, GBP),
        rules=RULES,
        selection={"skill_tier": "master", "urgency": "emergency"},
    )

    assert quote.lines == (
        PriceLine("urgency", "emergency", "emergency", 4000),
        PriceLine("skill_tier", "master", "Master technician", 2000),
    )
    assert quote.total == Money(14000, GBP)


def test_multipliers_apply_in_dimension_order_rounding_half_up_each_step() -> None:
    # skill_tier before complexity: 999 × 1.25 = 1248.75 → 1249; × 1.3333 = 1665.29 → 1665
    quote = resolve_price(
        base=Money(999, GBP),
        rules=RULES,
        selection={"complexity": "complex", "skill_tier": "senior"},
    )

    assert [(line.dimension, line.amount) for line in quote.lines] == [
        ("skill_tier", 250),
        ("complexity", 416),
    ]
    assert quote.total == Money(1665, GBP)


def test_half_a_minor_unit_rounds_up() -> None:
    half = PriceRuleSpec("urgency", "half", "multiplier", multiplier_bp=5000)

    assert resolve_price(base=Money(1, GBP), rules=[half], selection={"urgency": "half"}).total == (
        Money(1, GBP)
    )
    assert resolve_price(base=Money(3, GBP), rules=[half], selection={"urgency": "half"}).total == (
        Money(2, GBP)
    )


def test_a_discount_add_on_floors_the_total_at_zero() -> None:
    voucher = PriceRuleSpec("complexity", "trivial", "addon", amount=-5000)

    quote = resolve_price(
        base=Money(3000, GBP), rules=[voucher], selection={"complexity": "trivial"}
    )

    assert quote.lines == (PriceLine("complexity", "trivial", "trivial", -5000),)
    assert quote.total == Money(0, GBP)


@pytest.mark.parametrize(
    "selection",
    [{"urgency": "someday"}, {"skill_tier": "apprentice"}, {"colour": "red"}],
    ids=lambda selection: str(selection),
)
def test_an_unknown_option_is_a_pricing_error_naming_the_dimension(
    selection: dict[str, str],
) -> None:
    with pytest.raises(PricingError) as raised:
        resolve_price(base=Money(8000, GBP), rules=RULES, selection=selection)

    assert raised.value.dimension == next(iter(selection))


def test_the_currency_is_the_base_prices() -> None:
    quote = resolve_price(base=Money(500, "JPY"), rules=RULES, selection={"urgency": "emergency"})

    assert quote.total == Money(750, "JPY")


# --- properties -----------------------------------------------------------------------------------

OPTIONS = ("a", "b", "c")


@st.composite
def priced_selections(draw: Any) -> tuple[int, list[PriceRuleSpec], dict[str, str]]:
    """A base price, a rule table (each option at most once per dimension) and a selection."""
    base = draw(st.integers(min_value=0, max_value=10_000_000))
    rules = []
    for dimension in DIMENSION_ORDER:
        for option in draw(st.sets(st.sampled_from(OPTIONS))):
            if draw(st.booleans()):
                rules.append(
                    PriceRuleSpec(
                        dimension,
                        option,
                        "multiplier",
                        multiplier_bp=draw(st.integers(min_value=0, max_value=100_000)),
                    )
                )
            else:
                rules.append(
                    PriceRuleSpec(
                        dimension,
                        option,
                        "addon",
                        amount=draw(st.integers(min_value=-1_000_000, max_value=1_000_000)),
                    )
                )
    available: dict[str, list[str]] = {}
    for rule in rules:
        available.setdefault(rule.dimension, []).append(rule.option)
    chosen = draw(st.sets(st.sampled_from(sorted(available)))) if available else set()
    selection = {dimension: draw(st.sampled_from(available[dimension])) for dimension in chosen}
    return base, rules, selection


def expected_total(base: int, rules: list[PriceRuleSpec], selection: dict[str, str]) -> int:
    """The specification, written independently with Decimal rounding."""
    chosen = {
        rule.dimension: rule for rule in rules if selection.get(rule.dimension) == rule.option
    }
    running = base
    for dimension in DIMENSION_ORDER:
        rule = chosen.get(dimension)
        if rule is not None and rule.adjustment == "multiplier":
            exact = Decimal(running) * rule.multiplier_bp / 10000
            running = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    addons = sum(rule.amount for rule in chosen.values() if rule.adjustment == "addon")
    return max(0, running + addons)


@settings(max_examples=100, deadline=None)
@given(case=priced_selections(), seed=st.integers())
def test_the_order_rules_and_selection_are_given_in_never_changes_the_result(
    case: tuple[int, list[PriceRuleSpec], dict[str, str]], seed: int
) -> None:
    base, rules, selection = case
    shuffled_rules = list(rules)
    random.Random(seed).shuffle(shuffled_rules)
    shuffled_selection = dict(
        random.Random(seed + 1).sample(list(selection.items()), k=len(selection))
    )

    first = resolve_price(base=Money(base, GBP), rules=rules, selection=selection)
    second = resolve_price(
        base=Money(base, GBP), rules=shuffled_rules, selection=shuffled_selection
    )

    assert first == second


@settings(max_examples=100, deadline=None)
@given(case=priced_selections())
def test_the_total_is_the_floored_sum_of_the_multiplied_base_and_the_add_ons(
    case: tuple[int, list[PriceRuleSpec], dict[str, str]],
) -> None:
    base, rules, selection = case

    quote = resolve_price(base=Money(base, GBP), rules=rules, selection=selection)

    assert quote.total == Money(expected_total(base, rules, selection), GBP)
    assert quote.total.amount >= 0
    assert len(quote.lines) == len(selection)
    # lines are the multipliers (in dimension order), then the add-ons
    kinds = [
        next(
            r.adjustment for r in rules if (r.dimension, r.option) == (line.dimension, line.option)
        )
        for line in quote.lines
    ]
    assert kinds == sorted(kinds, key=lambda kind: kind != "multiplier")


@settings(max_examples=100, deadline=None)
@given(case=priced_selections())
def test_the_lines_sum_to_total_minus_base_unless_floored(
    case: tuple[int, list[PriceRuleSpec], dict[str, str]],
) -> None:
    base, rules, selection = case

    quote = resolve_price(base=Money(base, GBP), rules=rules, selection=selection)

    line_sum = sum(line.amount for line in quote.lines)
    if base + line_sum >= 0:  # not floored
        assert line_sum == quote.total.amount - base
    else:
        assert quote.total.amount == 0


@settings(max_examples=100, deadline=None)
@given(
    case=priced_selections(),
    dimension=st.sampled_from(DIMENSION_ORDER),
    amount=st.integers(min_value=0, max_value=1_000_000),
)
def test_choosing_a_positive_add_on_never_lowers_the_total(
    case: tuple[int, list[PriceRuleSpec], dict[str, str]], dimension: str, amount: int
) -> None:
    base, rules, selection = case
    selection = {d: o for d, o in selection.items() if d != dimension}
    extra = PriceRuleSpec(dimension, "extra", "addon", amount=amount)

    without = resolve_price(base=Money(base, GBP), rules=[*rules, extra], selection=selection)
    with_extra = resolve_price(
        base=Money(base, GBP), rules=[*rules, extra], selection={**selection, dimension: "extra"}
    )

    assert with_extra.total.amount >= without.total.amount


@settings(max_examples=100, deadline=None)
@given(case=priced_selections(), dimension=st.sampled_from(DIMENSION_ORDER))
def test_a_times_one_multiplier_changes_nothing(
    case: tuple[int, list[PriceRuleSpec], dict[str, str]], dimension: str
) -> None:
    base, rules, selection = case
    selection = {d: o for d, o in selection.items() if d != dimension}
    identity = PriceRuleSpec(dimension, "standard", "multiplier", multiplier_bp=10000)

    without = resolve_price(base=Money(base, GBP), rules=[*rules, identity], selection=selection)
    with_identity = resolve_price(
        base=Money(base, GBP),
        rules=[*rules, identity],
        selection={**selection, dimension: "standard"},
    )

    assert with_identity.total == without.total
    assert PriceLine(dimension, "standard", "standard", 0) in with_identity.lines


# --- the API --------------------------------------------------------------------------------------

PRICE_TABLE = [
    {
        "dimension": "urgency",
        "option": "emergency",
        "adjustment": "multiplier",
        "multiplier_bp": 15000,
    },
    {"dimension": "urgency", "option": "next-day", "adjustment": "addon", "amount": 1500},
    {
        "dimension": "skill_tier",
        "option": "master",
        "label": "Master electrician",
        "adjustment": "addon",
        "amount": 2000,
    },
    {
        "dimension": "complexity",
        "option": "complex",
        "adjustment": "multiplier",
        "multiplier_bp": 12000,
    },
]


@pytest.fixture
def priced(db: Any) -> tuple[ApiClient, int]:
    owner = UserFactory()
    vendor = VendorFactory(owner=owner)
    listing = ListingFactory(vendor=vendor, price_amount=8000)
    return client_for(owner), listing.pk


def rules_of(listing_id: int) -> list[tuple[str, str, str, int, int]]:
    return list(
        PriceRule.objects.filter(listing_id=listing_id)
        .order_by("dimension", "option")
        .values_list("dimension", "option", "adjustment", "amount", "multiplier_bp")
    )


def test_price_rules_are_replaced_as_a_whole(priced: tuple[ApiClient, int]) -> None:
    owner, listing_id = priced
    path = f"/listings/{listing_id}/price-rules"

    first = owner.put(path, {"rules": PRICE_TABLE})
    second = owner.put(path, {"rules": PRICE_TABLE[:1]})

    assert first.status_code == 200, first.content
    assert [(r["dimension"], r["option"], r["label"]) for r in first.json()] == [
        ("urgency", "emergency", ""),
        ("urgency", "next-day", ""),
        ("skill_tier", "master", "Master electrician"),
        ("complexity", "complex", ""),
    ]
    assert second.json() == [
        {
            "dimension": "urgency",
            "option": "emergency",
            "label": "",
            "adjustment": "multiplier",
            "amount": 0,
            "multiplier_bp": 15000,
        }
    ]
    assert rules_of(listing_id) == [("urgency", "emergency", "multiplier", 0, 15000)]
    # an empty table removes them all
    assert owner.put(path, {"rules": []}).json() == []
    assert rules_of(listing_id) == []


@pytest.mark.parametrize(
    ("rules", "loc"),
    [
        (
            [PRICE_TABLE[0], {**PRICE_TABLE[1], "option": "emergency"}],
            ["body", "rules", "1", "option"],
        ),
        ([{**PRICE_TABLE[0], "dimension": "colour"}], ["body", "rules", "0", "dimension"]),
        ([{**PRICE_TABLE[0], "adjustment": "percent"}], ["body", "rules", "0", "adjustment"]),
        ([{**PRICE_TABLE[0], "multiplier_bp": 100001}], ["body", "rules", "0", "multiplier_bp"]),
        ([{**PRICE_TABLE[0], "option": ""}], ["body", "payload", "rules", 0, "option"]),
        ([{**PRICE_TABLE[0], "vendor_id": 1}], ["body", "payload", "rules", 0, "vendor_id"]),
        ([{**PRICE_TABLE[1], "amount": 2**31}], ["body", "payload", "rules", 0, "amount"]),
    ],
    ids=[
        "duplicate",
        "unknown-dimension",
        "unknown-adjustment",
        "huge-multiplier",
        "blank",
        "extra",
        "amount-beyond-the-column",
    ],
)
def test_a_bad_price_table_is_422_and_keeps_the_old_rules(
    priced: tuple[ApiClient, int], rules: list[dict[str, Any]], loc: list[Any]
) -> None:
    owner, listing_id = priced
    owner.put(f"/listings/{listing_id}/price-rules", {"rules": PRICE_TABLE})
    before = snapshot()

    response = owner.put(f"/listings/{listing_id}/price-rules", {"rules": rules})

    body = assert_problem(response, 422, "validation_error")
    assert error_locs(body) == [loc]
    assert snapshot() == before


def test_the_price_endpoint_quotes_the_chosen_options(priced: tuple[ApiClient, int]) -> None:
    owner, listing_id = priced
    owner.put(f"/listings/{listing_id}/price-rules", {"rules": PRICE_TABLE})
    anon = ApiClient()

    response = anon.get(f"/listings/{listing_id}/price", urgency="emergency", skill_tier="master")
    plain = anon.get(f"/listings/{listing_id}/price")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "base": {"amount": 8000, "currency": "GBP"},
        "lines": [
            {
                "dimension": "urgency",
                "option": "emergency",
                "label": "emergency",
                "amount": {"amount": 4000, "currency": "GBP"},
            },
            {
                "dimension": "skill_tier",
                "option": "master",
                "label": "Master electrician",
                "amount": {"amount": 2000, "currency": "GBP"},
            },
        ],
        "total": {"amount": 14000, "currency": "GBP"},
    }
    assert plain.json() == {
        "base": {"amount": 8000, "currency": "GBP"},
        "lines": [],
        "total": {"amount": 8000, "currency": "GBP"},
    }


def test_all_three_dimensions_together(priced: tuple[ApiClient, int]) -> None:
    owner, listing_id = priced
    owner.put(f"/listings/{listing_id}/price-rules", {"rules": PRICE_TABLE})

    response = ApiClient().get(
        f"/listings/{listing_id}/price",
        urgency="emergency",
        skill_tier="master",
        complexity="complex",
    )

    # multipliers in dimension order, then add-ons: 8000 × 1.5 = 12000; × 1.2 = 14400; + 2000
    body = response.json()
    assert [(line["dimension"], line["amount"]["amount"]) for line in body["lines"]] == [
        ("urgency", 4000),
        ("complexity", 2400),
        ("skill_tier", 2000),
    ]
    assert body["total"] == {"amount": 16400, "currency": "GBP"}


def test_an_unknown_option_is_422_naming_the_dimension(priced: tuple[ApiClient, int]) -> None:
    owner, listing_id = priced
    owner.put(f"/listings/{listing_id}/price-rules", {"rules": PRICE_TABLE})

    response = ApiClient().get(f"/listings/{listing_id}/price", urgency="yesterday")

    assert error_locs(assert_problem(response, 422, "validation_error")) == [["query", "urgency"]]
