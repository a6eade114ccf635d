"""Money as integer minor units plus an ISO 4217 currency code — never floats.

`Money` is the value domain code passes around; `MoneySchema` is its JSON form
(`{"amount": 4599, "currency": "GBP"}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ninja import Schema
from pydantic import Field, field_validator

# ISO 4217 codes Agora accepts, with their number of minor-unit digits. Extend as
# marketplaces in new currencies appear; the exponent matters for display only, since
# amounts are always stored in minor units.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2,
    "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2, "JPY": 0, "KRW": 0, "MXN": 2, "NOK": 2,
    "NZD": 2, "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2, "ZAR": 2, "AED": 2, "ISK": 0,
}  # fmt: skip


class CurrencyMismatch(ValueError):
    pass


def validate_currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(f"unsupported currency {code!r}; use an ISO 4217 code such as GBP")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("multiply Money by an int; use percent() or allocate() for ratios")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def percent(self, basis_points: int) -> Money:
        """`basis_points`/10000 of this amount, rounded half away from zero."""
        numerator = self.amount * basis_points
        sign = -1 if numerator < 0 else 1
        return Money(sign * ((abs(numerator) + 5000) // 10000), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to `weights` that add up exactly to this amount.

        Largest-remainder method: no minor unit is created or lost, which the ledger's
        balance invariant depends on.
        """
        total = sum(weights)
        if total <= 0 or any(w < 0 for w in weights):
            raise ValueError("weights must be non-negative with a positive sum")
        sign = -1 if self.amount < 0 else 1
        amount = abs(self.amount)
        shares = [amount * w // total for w in weights]
        remainders = sorted(
            range(len(weights)), key=lambda i: (amount * weights[i]) % total, reverse=True
        )
        for i in remainders[: amount - sum(shares)]:
            shares[i] += 1
        return [Money(sign * share, self.currency) for share in shares]

    def format(self) -> str:
        exponent = CURRENCY_EXPONENTS[self.currency]
        if exponent == 0:
            return f"{self.amount} {self.currency}"
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exponent)
        return f"{sign}{major:,}.{minor:0{exponent}d} {self.currency}"

    def __str__(self) -> str:
        return self.format()


# The largest amount a request may name: far beyond any real price or payout (10 billion
# pounds), and far enough below 2**63 that sums and products of amounts stay storable.
MAX_AMOUNT = 10**12


class MoneySchema(Schema):
    # strict: lax mode would turn 45.0 into 45, "4599" into 4599 and `true` into 1.
    amount: int = Field(
        strict=True,
        ge=-(2**63 - 1),
        le=2**63 - 1,
        description="Integer amount in the currency's minor units (pence, cents).",
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. GBP.")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return validate_currency(value)

    @classmethod
    def of(cls, money: Money) -> MoneySchema:
        return cls(amount=money.amount, currency=money.currency)

    def to_money(self) -> Money:
        return Money(self.amount, self.currency)
