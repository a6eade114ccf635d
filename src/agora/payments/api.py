from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from agora.accounts.auth import acting_user, bearer, operator
from agora.core.money import Money, MoneySchema
from agora.payments import ledger, services
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.models import CommissionRule, Payout
from agora.payments.schemas import (
    AccountBalanceOut,
    BalanceOut,
    CommissionRuleIn,
    CommissionRuleOut,
    LedgerBalancesOut,
    PayoutIn,
    PayoutOut,
    PayoutSettingsIn,
    RefundIn,
    RefundOut,
)
from agora.payments.selectors import vendor_balance
from agora.vendors.selectors import MANAGER_ROLES, vendor_get_for_staff

router = Router(tags=["payments"])
operator_router = Router(tags=["operator"])


@router.get(
    "/vendors/{vendor_id}/balance",
    response=BalanceOut,
    auth=bearer,
    summary="Escrow, available, paid out",
)
def balance(request: HttpRequest, vendor_id: int) -> BalanceOut:
    vendor = vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    current = vendor_balance(vendor_id=vendor.pk, currency=vendor.currency)
    return BalanceOut(
        currency=current.currency,
        pending=MoneySchema.of(current.pending),
        available=MoneySchema.of(current.available),
        paid_out=MoneySchema.of(current.paid_out),
        on_hold=MoneySchema.of(current.on_hold),
    )


@router.post(
    "/vendors/{vendor_id}/payouts",
    response={201: PayoutOut},
    auth=bearer,
    summary="Pay out the available balance now (Idempotency-Key)",
)
def payout_create(
    request: HttpRequest, vendor_id: int, payload: PayoutIn | None = None
) -> tuple[int, PayoutOut]:
    user = acting_user(request)
    vendor = vendor_get_for_staff(user=user, vendor_id=vendor_id, roles=MANAGER_ROLES)
    amount = payload.amount.to_money() if payload and payload.amount else None
    key = request.headers.get("Idempotency-Key") or f"on-demand:{request.request_id}"  # type: ignore[attr-defined]
    payout = services.payout_create(
        vendor_id=vendor.pk,
        currency=vendor.currency,
        amount=amount,
        idempotency_key=f"{vendor.pk}:{key}",
        actor=user,
    )
    return 201, PayoutOut.of(payout)


@router.get(
    "/vendors/{vendor_id}/payouts",
    response=list[PayoutOut],
    auth=bearer,
    summary="Payouts, newest first",
)
def payout_list(request: HttpRequest, vendor_id: int) -> list[PayoutOut]:
    vendor = vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    return [
        PayoutOut.of(p)
        for p in Payout.objects.filter(vendor_id=vendor.pk).order_by("-created_at", "-id")[:100]
    ]


@router.put(
    "/vendors/{vendor_id}/payout-settings",
    response=PayoutSettingsIn,
    auth=bearer,
    summary="Payout schedule",
)
def payout_settings(
    request: HttpRequest, vendor_id: int, payload: PayoutSettingsIn
) -> PayoutSettingsIn:
    vendor = vendor_get_for_staff(
        user=acting_user(request), vendor_id=vendor_id, roles=MANAGER_ROLES
    )
    setting = services.payout_settings_set(
        vendor_id=vendor.pk, schedule=payload.schedule, minimum_amount=payload.minimum_amount
    )
    return PayoutSettingsIn(schedule=setting.schedule, minimum_amount=setting.minimum_amount)


@operator_router.post(
    "/operator/refunds",
    response={201: RefundOut},
    auth=operator,
    summary="Refund (Idempotency-Key)",
)
def refund_create(request: HttpRequest, payload: RefundIn) -> tuple[int, RefundOut]:
    reference = (
        f"booking:{payload.booking_id}"
        if payload.booking_id is not None
        else f"order:{payload.order_id}"
    )
    key = request.headers.get("Idempotency-Key") or f"operator:{request.request_id}"  # type: ignore[attr-defined]
    refund = services.refund_create(
        reference=reference,
        amount=payload.amount.to_money() if payload.amount else None,
        reason=payload.reason,
        actor=acting_user(request),
        idempotency_key=f"operator:{key}",
    )
    if refund is None:
        raise PaymentError(
            "Nothing is left to refund.", code=PaymentErrorCode.REFUND_EXCEEDS_CAPTURED
        )
    return 201, RefundOut(
        id=refund.pk,
        reference=reference,
        amount=MoneySchema.of(Money(refund.amount, refund.currency)),
        reason=refund.reason,
        created_at=refund.created_at,
    )


@operator_router.get(
    "/operator/ledger/balances", response=LedgerBalancesOut, auth=operator, summary="Trial balance"
)
def ledger_balances(request: HttpRequest) -> LedgerBalancesOut:
    rows = ledger.balances()
    return LedgerBalancesOut(
        accounts=[
            AccountBalanceOut(
                account=str(row.account.key), currency=row.account.currency, balance=row.balance
            )
            for row in rows
        ],
        totals=ledger.trial_balance(),
    )


@operator_router.get("/operator/commission-rules", response=list[CommissionRuleOut], auth=operator)
def commission_rules(request: HttpRequest) -> list[CommissionRuleOut]:
    return [CommissionRuleOut.from_orm(rule) for rule in CommissionRule.objects.all()]


@operator_router.post(
    "/operator/commission-rules", response={201: CommissionRuleOut}, auth=operator
)
def commission_rule_create(
    request: HttpRequest, payload: CommissionRuleIn
) -> tuple[int, CommissionRuleOut]:
    rule = services.commission_rule_create(actor=acting_user(request), **payload.dict())
    return 201, CommissionRuleOut.from_orm(rule)
