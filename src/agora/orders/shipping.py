"""Shipping price of one vendor order: pure function of the vendor's rules.

Rules for the destination country win over rules for anywhere (''). Among those: a
`free_over` rule whose threshold the subtotal reaches makes shipping free; otherwise the
`weight_band` rule whose band holds the order's weight; otherwise the `flat` rule;
otherwise shipping is free (a vendor with no rules ships for nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ShippingRuleSpec:
    country: str
    kind: str
    amount: int = 0
    min_weight_grams: int = 0
    max_weight_grams: int | None = None
    threshold_amount: int | None = None


def shipping_amount(
    rules: Sequence[ShippingRuleSpec], *, country: str, subtotal: int, weight_grams: int
) -> int:
    specific = [rule for rule in rules if rule.country == country]
    applicable = specific or [rule for rule in rules if rule.country == ""]
    for rule in applicable:
        if (
            rule.kind == "free_over"
            and rule.threshold_amount is not None
            and subtotal >= rule.threshold_amount
        ):
            return 0
    for rule in sorted(applicable, key=lambda r: r.min_weight_grams):
        if (
            rule.kind == "weight_band"
            and rule.min_weight_grams <= weight_grams
            and (rule.max_weight_grams is None or weight_grams <= rule.max_weight_grams)
        ):
            return rule.amount
    for rule in applicable:
        if rule.kind == "flat":
            return rule.amount
    return 0
