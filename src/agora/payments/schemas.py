from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field, model_validator

from agora.core.money import MAX_AMOUNT, MoneySchema
from agora.core.validation import Id
from agora.payments.models import Dispute, Payout
from agora.payments.selectors import Reconciliation, Statement, Totals
from agora.vendors.schemas import StrictIn


class BalanceOut(Schema):
    currency: str
    pending: MoneySchema = Field(description="In escrow until completion plus the release window.")
    available: MoneySchema
    paid_out: MoneySchema
    on_hold: MoneySchema = Field(description="Frozen by open disputes.")


class PositiveMoneyIn(MoneySchema):
    """An amount to move: more than zero — a payout, refund or dispute of nothing or of
    less than nothing is a mistake, not a request."""

    amount: int = Field(
        strict=True, gt=0, le=MAX_AMOUNT, description="Integer amount in minor units, above 0."
    )


class PayoutIn(StrictIn):
    amount: PositiveMoneyIn | None = Field(
        None, description="Default: the whole available balance."
    )


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
    booking_id: Id | None = None
    order_id: Id | None = None
    amount: PositiveMoneyIn | None = None
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
    listing_id: Id | None = None
    category_path: str = Field("", max_length=400)
    vendor_tier: str = Field("", max_length=16)


class CommissionRulePatchIn(StrictIn):
    """The fields to change, any of CommissionRuleIn's plus `is_active`; unset ones stay.
    Null empties the floor, the cap or the listing."""

    name: str | None = Field(None, min_length=1, max_length=120)
    priority: int | None = Field(None, ge=0, le=10000)
    percent_bp: int | None = Field(None, ge=0, le=10000)
    fixed_amount: int | None = Field(None, ge=0, le=10_000_000)
    minimum_amount: int | None = Field(None, ge=0, le=10_000_000)
    maximum_amount: int | None = Field(None, ge=0, le=10_000_000)
    currency: str | None = Field(None, pattern="^([A-Z]{3})?$")
    listing_id: Id | None = None
    category_path: str | None = Field(None, max_length=400)
    vendor_tier: str | None = Field(None, max_length=16)
    is_active: bool | None = None


class CommissionRuleOut(CommissionRuleIn):
    id: int
    is_active: bool


# --- vendor statement ---------------------------------------------------------------------


class StatementQuery(Schema):
    purpose: Literal["available", "escrow"] = "available"
    start: datetime | None = Field(None, alias="from", description="Inclusive (ISO 8601).")
    end: datetime | None = Field(None, alias="to", description="Exclusive (ISO 8601).")
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=500)
    format: Literal["json", "csv"] = "json"


class StatementLineOut(Schema):
    entry_id: int
    at: datetime
    kind: str
    reference: str
    memo: str
    amount: MoneySchema
    balance: MoneySchema = Field(description="The account's balance after this entry.")


class StatementOut(Schema):
    vendor_id: int
    purpose: str
    currency: str
    items: list[StatementLineOut]
    next_cursor: str | None

    @classmethod
    def of(cls, statement: Statement) -> StatementOut:
        currency = statement.currency
        return cls(
            vendor_id=statement.vendor_id,
            purpose=statement.purpose,
            currency=currency,
            items=[
                StatementLineOut(
                    entry_id=line.entry_id,
                    at=line.at,
                    kind=line.kind,
                    reference=line.reference,
                    memo=line.memo,
                    amount=MoneySchema(amount=line.amount, currency=currency),
                    balance=MoneySchema(amount=line.balance, currency=currency),
                )
                for line in statement.lines
            ],
            next_cursor=statement.next_cursor,
        )


# --- disputes -------------------------------------------------------------------------------


class DisputeIn(StrictIn):
    booking_id: Id | None = None
    order_id: Id | None = None
    amount: PositiveMoneyIn | None = Field(None, description="Default: all that is not refunded.")
    reason: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _exactly_one_target(self) -> DisputeIn:
        if (self.booking_id is None) == (self.order_id is None):
            raise ValueError("give exactly one of booking_id and order_id")
        return self


class EvidenceIn(StrictIn):
    text: str = Field(min_length=1, max_length=5000)


class DecideIn(StrictIn):
    outcome: Literal["won", "lost"]
    reason: str = Field("", max_length=300)


class EvidenceOut(Schema):
    id: int
    text: str
    author_id: int | None
    created_at: datetime


class DisputeOut(Schema):
    id: int
    reference: str
    vendor_id: int
    amount: MoneySchema
    reason: str
    status: str
    gateway_dispute_id: str
    created_at: datetime
    decided_at: datetime | None
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, dispute: Dispute) -> DisputeOut:
        return cls(
            id=dispute.pk,
            reference=dispute.reference,
            vendor_id=dispute.vendor_id,
            amount=MoneySchema(amount=dispute.amount, currency=dispute.currency),
            reason=dispute.reason,
            status=dispute.status,
            gateway_dispute_id=dispute.gateway_dispute_id,
            created_at=dispute.created_at,
            decided_at=dispute.decided_at,
            evidence=[
                EvidenceOut(
                    id=item.pk, text=item.text, author_id=item.author_id, created_at=item.created_at
                )
                for item in dispute.evidence.all()
            ],
        )


class DisputePageOut(Schema):
    items: list[DisputeOut]
    next_cursor: str | None


# --- reconciliation ---------------------------------------------------------------------------


class TotalsOut(Schema):
    captured: int
    refunded: int
    net: int

    @classmethod
    def of(cls, totals: Totals) -> TotalsOut:
        return cls(captured=totals.captured, refunded=totals.refunded, net=totals.net)


class CurrencyReconciliationOut(Schema):
    currency: str
    gateway: TotalsOut
    ledger: TotalsOut
    payments: TotalsOut
    balanced: bool


class ChargeDifferenceOut(Schema):
    charge_id: str
    currency: str
    references: list[str]
    gateway: TotalsOut
    ledger: TotalsOut
    payments: TotalsOut


class ReconciliationOut(Schema):
    gateway: str
    currencies: list[CurrencyReconciliationOut]
    differences: list[ChargeDifferenceOut] = Field(
        description="Charges where gateway, ledger and sales disagree; empty when healthy."
    )

    @classmethod
    def of(cls, result: Reconciliation) -> ReconciliationOut:
        return cls(
            gateway=result.gateway,
            currencies=[
                CurrencyReconciliationOut(
                    currency=row.currency,
                    gateway=TotalsOut.of(row.gateway),
                    ledger=TotalsOut.of(row.ledger),
                    payments=TotalsOut.of(row.payments),
                    balanced=row.balanced,
                )
                for row in result.currencies
            ],
            differences=[
                ChargeDifferenceOut(
                    charge_id=row.charge_id,
                    currency=row.currency,
                    references=list(row.references),
                    gateway=TotalsOut.of(row.gateway),
                    ledger=TotalsOut.of(row.ledger),
                    payments=TotalsOut.of(row.payments),
                )
                for row in result.differences
            ],
        )


class WebhookOut(Schema):
    received: bool
    event_id: str
    type: str
    handled: bool
