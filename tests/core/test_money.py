"""Money: integer minor units and a currency, exact arithmetic, no minor unit lost."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from agora.core.money import CurrencyMismatch, Money, MoneySchema


def gbp(amount: int) -> Money:
    return Money(amount, "GBP")


# --- construction --------------------------------------------------------------------------------


def test_money_holds_minor_units_and_a_currency() -> None:
    price = Money(4599, "GBP")

    assert (price.amount, price.currency) == (4599, "GBP")
    assert price == gbp(4599)
    assert price != Money(4599, "EUR")
    assert Money.zero("JPY") == Money(0, "JPY")


@pytest.mark.parametrize("amount", [45.99, 45.0, "4599", True, None])
def test_amount_must_be_an_int(amount: object) -> None:
    with pytest.raises(TypeError, match="minor units"):
        Money(amount, "GBP")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["gbp", "XXX", "", "GBPX", "£"])
def test_currency_must_be_a_supported_iso_code(currency: str) -> None:
    with pytest.raises(ValueError, match="unsupported currency"):
        Money(100, currency)


def test_money_is_immutable() -> None:
    price = gbp(100)

    with pytest.raises(AttributeError):
        price.amount = 5  # type: ignore[misc]


# --- arithmetic ----------------------------------------------------------------------------------


def test_add_subtract_negate_multiply() -> None:
    assert gbp(1050) + gbp(250) == gbp(1300)
    assert gbp(1050) - gbp(2000) == gbp(-950)
    assert -gbp(300) == gbp(-300)
    assert gbp(125) * 3 == gbp(375)


def test_comparisons() -> None:
    assert gbp(1) < gbp(2)
    assert gbp(2) <= gbp(2)
    assert not gbp(3) <= gbp(2)
    assert gbp(3) > gbp(2)


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="percent"):
        gbp(100) * 1.5  # type: ignore[operator]


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
    ],
    ids=["add", "sub", "lt", "le", "gt"],
)
def test_currencies_do_not_mix(operation: object) -> None:
    with pytest.raises(CurrencyMismatch, match="do not mix"):
        operation(gbp(100), Money(100, "EUR"))  # type: ignore[operator]


# --- percent: basis points, half away from zero --------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [
        (10000, 1250, 1250),  # 12.5 % of 100.00
        (5, 1000, 1),  # 0.5 -> 1
        (15, 1000, 2),  # 1.5 -> 2
        (25, 1000, 3),  # 2.5 -> 3 (not banker's 2)
        (4, 1000, 0),  # 0.4 -> 0
        (6, 1000, 1),  # 0.6 -> 1
        (-5, 1000, -1),  # -0.5 -> -1, away from zero
        (-25, 1000, -3),
        (-4, 1000, 0),
        (5, -1000, -1),
        (4599, 0, 0),
        (4599, 10000, 4599),
        (1999, 15000, 2999),  # 2998.5 -> 2999
    ],
)
def test_percent_rounds_half_away_from_zero(amount: int, basis_points: int, expected: int) -> None:
    assert gbp(amount).percent(basis_points) == gbp(expected)


# --- allocate: parts add up exactly --------------------------------------------------------------


def test_allocate_splits_by_weights() -> None:
    assert gbp(100).allocate([1, 1, 1]) == [gbp(34), gbp(33), gbp(33)]
    assert gbp(-100).allocate([1, 1, 1]) == [gbp(-34), gbp(-33), gbp(-33)]
    assert gbp(1000).allocate([70, 30]) == [gbp(700), gbp(300)]
    assert gbp(5).allocate([0, 1]) == [gbp(0), gbp(5)]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], [-1]])
def test_allocate_needs_non_negative_weights_with_a_positive_sum(weights: list[int]) -> None:
    with pytest.raises(ValueError, match="weights"):
        gbp(100).allocate(weights)


@given(
    amount=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(
        lambda ws: sum(ws) > 0
    ),
    currency=st.sampled_from(["GBP", "JPY", "EUR"]),
)
def test_allocate_never_creates_or_loses_a_minor_unit(
    amount: int, weights: list[int], currency: str
) -> None:
    parts = Money(amount, currency).allocate(weights)

    assert len(parts) == len(weights)
    assert all(part.currency == currency for part in parts)
    assert sum(part.amount for part in parts) == amount
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact_share = Fraction(amount * weight, total)
        assert abs(part.amount - exact_share) < 1
        if weight == 0:
            assert part.amount == 0


# --- display -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(123456, "GBP"), "1,234.56 GBP"),
        (Money(5, "EUR"), "0.05 EUR"),
        (Money(-5, "EUR"), "-0.05 EUR"),
        (Money(500, "JPY"), "500 JPY"),
        (Money(0, "USD"), "0.00 USD"),
    ],
)
def test_format(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


# --- the JSON form -------------------------------------------------------------------------------


def test_money_schema_round_trips() -> None:
    schema = MoneySchema.model_validate({"amount": 4599, "currency": "GBP"})

    assert schema.to_money() == gbp(4599)
    assert MoneySchema.of(gbp(4599)).model_dump() == {"amount": 4599, "currency": "GBP"}


@pytest.mark.parametrize(
    ("currency", "error_type"),
    [
        ("gbp", "string_pattern_mismatch"),
        ("GB", "string_pattern_mismatch"),
        ("XXX", "value_error"),
        ("ABC", "value_error"),
    ],
)
def test_money_schema_rejects_lowercase_and_unknown_currencies(
    currency: str, error_type: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        MoneySchema.model_validate({"amount": 100, "currency": currency})

    [error] = raised.value.errors()
    assert error["loc"] == ("currency",)
    assert error["type"] == error_type


@pytest.mark.parametrize("amount", [45.99, 45.0, "4599", True, None])
def test_money_schema_accepts_only_integer_minor_units(amount: object) -> None:
    # 45.0 and "4599" would be lossless, but a client sending them has misread the
    # contract (minor units, integers); `true` must never become one penny.
    with pytest.raises(ValidationError) as raised:
        MoneySchema.model_validate({"amount": amount, "currency": "GBP"})

    [error] = raised.value.errors()
    assert error["loc"] == ("amount",)
