from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field, model_validator

from agora.core.money import MoneySchema
from agora.payments.models import Payout
from agora.vendors.schemas import StrictIn


class BalanceOut(Schema):
    currency: str
    pending: MoneySchema = Field(description="In escrow until completion plus the release window.")
    available: MoneySchema
    paid_out: MoneySchema
    on_hold: MoneySchema = Field(description="Frozen by open disputes.")


class PayoutIn(StrictIn):
    amount: MoneySchema | None = Field(None, description="Default: the whole available balance.")


class PayoutOut(Schema):
    id: int
    status: str
    amount: MoneySchema
    created_at: datetime
    settled_at: datetime | None
    failure_reason: str

    @classmethod
    def of(cls, payout: Payout) -> PayoutOut:
        return cls(
            id=payout.pk,
            status=payout.status,
            amount=MoneySchema(amount=payout.amount, currency=payout.currency),
            created_at=payout.created_at,
            settled_at=payout.settled_at,
            failure_reason=payout.failure_reason,
        )


class PayoutSettingsIn(StrictIn):
    schedule: str = Field(pattern="^(daily|weekly|monthly|manual)$")
    minimum_amount: int = Field(1000, ge=0, le=10_000_000)


class RefundIn(StrictIn):
    booking_id: int | None = None
    order_id: int | None = None
    amount: MoneySchema | None = None
    reason: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _exactly_one_target(self) -> RefundIn:
        if (self.booking_id is None) == (self.order_id is None):
            raise ValueError("give exactly one of booking_id and order_id")
        return self


class RefundOut(Schema):
    id: int
    reference: str
    amount: MoneySchema
    reason: str
    created_at: datetime


class AccountBalanceOut(Schema):
    account: str
    currency: str
    balance: int


class LedgerBalancesOut(Schema):
    accounts: list[AccountBalanceOut]
    totals: dict[str, int]


class CommissionRuleIn(StrictIn):
    name: str = Field(min_length=1, max_length=120)
    priority: int = Field(100, ge=0, le=10000)
    percent_bp: int = Field(0, ge=0, le=10000)
    fixed_amount: int = Field(0, ge=0, le=10_000_000)
    minimum_amount: int | None = Field(None, ge=0, le=10_000_000)
    maximum_amount: int | None = Field(None, ge=0, le=10_000_000)
    currency: str = Field("", pattern="^([A-Z]{3})?$")
    listing_id: int | None = None
    category_path: str = Field("", max_length=400)
    vendor_tier: str = Field("", max_length=16)


class CommissionRuleOut(CommissionRuleIn):
    id: int
    is_active: bool
