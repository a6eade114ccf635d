"""Parameterised pricing: one pure function from a base price and the chosen options
(skill tier, urgency, complexity) to a total with its lines. No I/O.

Multipliers apply first, to the running price, in a fixed dimension order, each rounded
half up to the minor unit; add-ons are then added. The order in which rules are stored
or given never changes the result, and a receipt can show every line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agora.core.money import Money

DIMENSION_ORDER = ("skill_tier", "urgency", "complexity")


class PricingError(ValueError):
    def __init__(self, dimension: str, message: str) -> None:
        super().__init__(message)
        self.dimension = dimension


@dataclass(frozen=True)
class PriceRuleSpec:
    dimension: str
    option: str
    adjustment: str  # "addon" | "multiplier"
    amount: int = 0  # minor units, for add-ons
    multiplier_bp: int = 10000  # basis points, 15000 = ×1.5
    label: str = ""


@dataclass(frozen=True)
class PriceLine:
    dimension: str
    option: str
    label: str
    amount: int


@dataclass(frozen=True)
class PriceQuote:
    base: Money
    lines: tuple[PriceLine, ...]
    total: Money


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _dimension_rank(dimension: str) -> tuple[int, str]:
    try:
        return DIMENSION_ORDER.index(dimension), dimension
    except ValueError:
        return len(DIMENSION_ORDER), dimension


def resolve_price(
    *, base: Money, rules: Sequence[PriceRuleSpec], selection: Mapping[str, str]
) -> PriceQuote:
    """The price of `base` with one option chosen per dimension in `selection`.

    Precondition: `base.amount >= 0` and every multiplier is ≥ 0. A dimension absent from
    `selection` contributes nothing. An option with no rule raises PricingError. The total
    never goes below zero (a large discount add-on floors at 0).
    """
    by_key = {(rule.dimension, rule.option): rule for rule in rules}
    chosen: list[PriceRuleSpec] = []
    for dimension, option in selection.items():
        rule = by_key.get((dimension, option))
        if rule is None:
            raise PricingError(dimension, f"no price rule for {dimension}={option}")
        chosen.append(rule)
    chosen.sort(key=lambda rule: (rule.adjustment != "multiplier", _dimension_rank(rule.dimension)))

    running = base.amount
    lines = []
    for rule in chosen:
        if rule.adjustment == "multiplier":
            new_running = _round_half_up(running * rule.multiplier_bp, 10000)
            delta, running = new_running - running, new_running
        else:
            delta = rule.amount
            running += delta
        lines.append(PriceLine(rule.dimension, rule.option, rule.label or rule.option, delta))
    return PriceQuote(base=base, lines=tuple(lines), total=Money(max(running, 0), base.currency))
