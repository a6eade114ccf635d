"""Commission and processing fee for a sale: pure functions, no I/O.

Rules match by listing, category (a rule on a category covers its descendants) or vendor
tier; the first matching rule by priority (lowest number first, then most specific)
decides. Each rule is a percentage (basis points) and/or a fixed amount, bounded by an
optional floor and cap. The amounts are computed once, at sale time, and frozen on the
payment: changing a rule never changes a past sale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agora.core.money import Money

# Seed 001's demo defaults: 3 % platform commission, 2.9 % processing.
DEFAULT_COMMISSION_BP = 300
DEFAULT_PROCESSING_BP = 290
DEFAULT_PROCESSING_FIXED = 0


@dataclass(frozen=True)
class SaleContext:
    """What commission rules can look at; payments knows no listings, only these values."""

    vendor_id: int
    vendor_tier: str
    category_path: str
    listing_id: int | None


@dataclass(frozen=True)
class CommissionRuleSpec:
    priority: int
    percent_bp: int = 0
    fixed_amount: int = 0
    minimum_amount: int | None = None
    maximum_amount: int | None = None
    listing_id: int | None = None
    category_path: str | None = None
    vendor_tier: str | None = None
    currency: str | None = None  # a fixed part only applies in its currency
    rule_id: int | None = None

    def matches(self, sale: SaleContext, currency: str) -> bool:
        if self.currency is not None and self.currency != currency:
            return False
        if self.listing_id is not None and self.listing_id != sale.listing_id:
            return False
        if self.vendor_tier is not None and self.vendor_tier != sale.vendor_tier:
            return False
        if self.category_path is not None:
            path = sale.category_path
            if not (path == self.category_path or path.startswith(f"{self.category_path}/")):
                return False
        return True

    @property
    def specificity(self) -> int:
        return (
            (4 if self.listing_id is not None else 0)
            + (2 if self.category_path is not None else 0)
            + (1 if self.vendor_tier is not None else 0)
        )


@dataclass(frozen=True)
class Fees:
    commission: Money
    processing_fee: Money
    rule_id: int | None


def _bounded(value: int, floor: int | None, cap: int | None) -> int:
    if floor is not None:
        value = max(value, floor)
    if cap is not None:
        value = min(value, cap)
    return value


def commission_for(
    gross: Money, sale: SaleContext, rules: Sequence[CommissionRuleSpec]
) -> tuple[Money, int | None]:
    """The platform's commission on `gross` and the id of the rule that set it (None: the
    default 3 %). Never negative, never more than the gross."""
    matching = sorted(
        (rule for rule in rules if rule.matches(sale, gross.currency)),
        key=lambda rule: (rule.priority, -rule.specificity, rule.rule_id or 0),
    )
    if not matching:
        amount = gross.percent(DEFAULT_COMMISSION_BP).amount
        return Money(min(amount, gross.amount), gross.currency), None
    rule = matching[0]
    amount = gross.percent(rule.percent_bp).amount + rule.fixed_amount
    amount = _bounded(amount, rule.minimum_amount, rule.maximum_amount)
    return Money(max(0, min(amount, gross.amount)), gross.currency), rule.rule_id


def processing_fee_for(
    gross: Money,
    *,
    percent_bp: int = DEFAULT_PROCESSING_BP,
    fixed_amount: int = DEFAULT_PROCESSING_FIXED,
) -> Money:
    """The payment processor's fee, passed on to the vendor's share (Stripe-style
    percentage plus fixed part)."""
    return Money(min(gross.percent(percent_bp).amount + fixed_amount, gross.amount), gross.currency)


def fees_for(gross: Money, sale: SaleContext, rules: Sequence[CommissionRuleSpec]) -> Fees:
    """Commission and processing fee for a sale; their sum never exceeds the gross."""
    commission, rule_id = commission_for(gross, sale, rules)
    fee = processing_fee_for(gross)
    if commission.amount + fee.amount > gross.amount:
        fee = Money(gross.amount - commission.amount, gross.currency)
    return Fees(commission=commission, processing_fee=fee, rule_id=rule_id)
