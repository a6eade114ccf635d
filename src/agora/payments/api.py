"""The payments API: vendors' balance, statement and payouts; operators' refunds,
disputes, ledger and reconciliation; the payment provider's webhook."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from agora.accounts.auth import acting_user, bearer, operator
from agora.core.money import Money, MoneySchema
from agora.core.openapi import file_responses
from agora.payments import ledger, services
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.gateway import get_gateway
from agora.payments.models import CommissionRule, Payout
from agora.payments.schemas import (
    AccountBalanceOut,
    BalanceOut,
    CommissionRuleIn,
    CommissionRuleOut,
    CommissionRulePatchIn,
    DecideIn,
    DisputeIn,
    DisputeOut,
    DisputePageOut,
    EvidenceIn,
    LedgerBalancesOut,
    PayoutIn,
    PayoutOut,
    PayoutSettingsIn,
    ReconciliationOut,
    RefundIn,
    RefundOut,
    StatementOut,
    StatementQuery,
    WebhookOut,
)
from agora.payments.selectors import (
    dispute_get,
    disputes_list,
    reconciliation,
    vendor_balance,
    vendor_statement,
)
from agora.payments.statement_csv import statement_csv_response
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
) -> Status[PayoutOut]:
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
    return Status(201, PayoutOut.of(payout))


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
def refund_create(request: HttpRequest, payload: RefundIn) -> Status[RefundOut]:
    reference = _reference(payload.booking_id, payload.order_id)
    user = acting_user(request)
    refund = services.refund_create(
        reference=reference,
        amount=payload.amount.to_money() if payload.amount else None,
        reason=payload.reason,
        actor=user,
        idempotency_key=_operator_key(request, user.pk),
    )
    if refund is None:
        raise PaymentError(
            "Nothing is left to refund.", code=PaymentErrorCode.REFUND_EXCEEDS_CAPTURED
        )
    return Status(
        201,
        RefundOut(
            id=refund.pk,
            reference=reference,
            amount=MoneySchema.of(Money(refund.amount, refund.currency)),
            reason=refund.reason,
            created_at=refund.created_at,
        ),
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
) -> Status[CommissionRuleOut]:
    rule = services.commission_rule_create(actor=acting_user(request), **payload.dict())
    return Status(201, CommissionRuleOut.from_orm(rule))


@operator_router.patch(
    "/operator/commission-rules/{rule_id}",
    response=CommissionRuleOut,
    auth=operator,
    summary="Change or (de)activate a commission rule",
)
def commission_rule_update(
    request: HttpRequest, rule_id: int, payload: CommissionRulePatchIn
) -> CommissionRuleOut:
    """Applies to sales from now on; past sales keep the commission frozen at sale time."""
    rule = services.commission_rule_update(
        actor=acting_user(request), rule_id=rule_id, changes=payload.dict(exclude_unset=True)
    )
    return CommissionRuleOut.from_orm(rule)


def _reference(booking_id: int | None, order_id: int | None) -> str:
    """How bookings and orders name their sales to payments."""
    return f"booking:{booking_id}" if booking_id is not None else f"order:{order_id}"


def _operator_key(request: HttpRequest, user_id: int) -> str:
    """The service-level idempotency key of an operator's money movement: the request's
    Idempotency-Key (per operator, as the HTTP layer scopes it), else the request id."""
    key = request.headers.get("Idempotency-Key") or request.request_id  # type: ignore[attr-defined]
    return f"operator:{user_id}:{key}"


# --- vendor statement -----------------------------------------------------------------------


def _statement(request: HttpRequest, vendor_id: int, query: StatementQuery, csv_: bool) -> object:
    vendor = vendor_get_for_staff(user=acting_user(request), vendor_id=vendor_id)
    statement = vendor_statement(
        vendor_id=vendor.pk,
        currency=vendor.currency,
        purpose=query.purpose,
        start=query.start,
        end=query.end,
        cursor=None if csv_ else query.cursor,
        limit=None if csv_ else query.limit,
    )
    return statement_csv_response(statement) if csv_ else StatementOut.of(statement)


@router.get(
    "/vendors/{vendor_id}/statement",
    response=StatementOut,
    auth=bearer,
    summary="Account entries with running balance (?format=csv for a spreadsheet)",
    openapi_extra=file_responses("text/csv", description="The statement (CSV with ?format=csv)"),
)
def statement(
    request: HttpRequest, vendor_id: int, query: Query[StatementQuery]
) -> StatementOut | HttpResponse:
    return _statement(request, vendor_id, query, csv_=query.format == "csv")  # type: ignore[return-value]


@router.get(
    "/vendors/{vendor_id}/statement.csv",
    auth=bearer,
    summary="The statement as CSV (amounts in minor units)",
    openapi_extra=file_responses("text/csv", description="The statement as CSV"),
)
def statement_csv(
    request: HttpRequest, vendor_id: int, query: Query[StatementQuery]
) -> HttpResponse:
    return _statement(request, vendor_id, query, csv_=True)  # type: ignore[return-value]


# --- disputes (operator) ------------------------------------------------------------------


@operator_router.post(
    "/operator/disputes",
    response={201: DisputeOut},
    auth=operator,
    summary="Open a dispute: freezes the amount and the escrow release (Idempotency-Key)",
)
def dispute_open(request: HttpRequest, payload: DisputeIn) -> Status[DisputeOut]:
    user = acting_user(request)
    dispute = services.dispute_open(
        reference=_reference(payload.booking_id, payload.order_id),
        amount=payload.amount.to_money() if payload.amount else None,
        reason=payload.reason,
        actor=user,
        idempotency_key=_operator_key(request, user.pk),
    )
    return Status(201, DisputeOut.of(dispute_get(dispute_id=dispute.pk)))


@operator_router.get(
    "/operator/disputes", response=DisputePageOut, auth=operator, summary="Disputes, newest first"
)
def dispute_list(
    request: HttpRequest, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> DisputePageOut:
    page = disputes_list(status=status, cursor=cursor, limit=limit)
    return DisputePageOut(
        items=[DisputeOut.of(dispute) for dispute in page.items], next_cursor=page.next_cursor
    )


@operator_router.get("/operator/disputes/{dispute_id}", response=DisputeOut, auth=operator)
def dispute_detail(request: HttpRequest, dispute_id: int) -> DisputeOut:
    return DisputeOut.of(dispute_get(dispute_id=dispute_id))


@operator_router.post(
    "/operator/disputes/{dispute_id}/evidence",
    response={201: DisputeOut},
    auth=operator,
    summary="Add evidence or a note to an open dispute",
)
def dispute_evidence(
    request: HttpRequest, dispute_id: int, payload: EvidenceIn
) -> Status[DisputeOut]:
    dispute = dispute_get(dispute_id=dispute_id)
    services.dispute_add_evidence(dispute=dispute, text=payload.text, actor=acting_user(request))
    return Status(201, DisputeOut.of(dispute_get(dispute_id=dispute_id)))


@operator_router.post(
    "/operator/disputes/{dispute_id}/decide",
    response=DisputeOut,
    auth=operator,
    summary="Decide a dispute: won gives the money back, lost pays the card network",
)
def dispute_decide(request: HttpRequest, dispute_id: int, payload: DecideIn) -> DisputeOut:
    dispute = dispute_get(dispute_id=dispute_id)
    services.dispute_decide(
        dispute=dispute, outcome=payload.outcome, actor=acting_user(request), reason=payload.reason
    )
    return DisputeOut.of(dispute_get(dispute_id=dispute_id))


# --- reconciliation (operator) ---------------------------------------------------------------


@operator_router.get(
    "/operator/reconciliation",
    response=ReconciliationOut,
    auth=operator,
    summary="Gateway vs ledger vs sales, per currency and per charge",
)
def reconciliation_report(request: HttpRequest) -> ReconciliationOut:
    return ReconciliationOut.of(reconciliation(gateway=get_gateway()))


# --- the payment provider's webhook -------------------------------------------------------------


@router.post(
    "/payments/webhooks/stripe",
    response=WebhookOut,
    auth=None,
    summary="Stripe events, verified by their Stripe-Signature",
)
def stripe_webhook(request: HttpRequest) -> WebhookOut:
    outcome = services.stripe_event_handle(
        payload=request.body, signature=request.headers.get("Stripe-Signature")
    )
    return WebhookOut(
        received=True, event_id=outcome.event_id, type=outcome.event_type, handled=outcome.handled
    )
