"""What bookings and checkout call to take and give back money (ARCHITECTURE.md "Money
flow"): charge through the gateway, record the sale with frozen commission and fee, post
it to the ledger — all in one transaction, under the ledger guard. Payments knows no
bookings or orders: callers pass a `reference` and the values commission rules need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce

from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import NotFound
from agora.core.money import Money
from agora.core.statemachine import StateMachine
from agora.payments import flows
from agora.payments.commission import CommissionRuleSpec, SaleContext, fees_for
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.gateway import get_gateway
from agora.payments.guard import money_change, note_ledger_post
from agora.payments.models import (
    CommissionRule,
    JournalTransaction,
    LedgerAccount,
    OwnerType,
    Payment,
    PaymentStatus,
    Payout,
    PayoutSchedule,
    PayoutSettings,
    PayoutStatus,
    Purpose,
    Refund,
)
from agora.payments.selectors import reference_state, vendor_balance

__all__ = [
    "SaleContext",
    "SalePart",
    "escrow_release",
    "payment_collect",
    "payments_collect",
    "refund_create",
]


@dataclass(frozen=True)
class SalePart:
    """One vendor's part of a charge."""

    reference: str
    amount: Money
    sale: SaleContext


def commission_rules() -> list[CommissionRuleSpec]:
    return [
        CommissionRuleSpec(
            priority=rule.priority,
            percent_bp=rule.percent_bp,
            fixed_amount=rule.fixed_amount,
            minimum_amount=rule.minimum_amount,
            maximum_amount=rule.maximum_amount,
            listing_id=rule.listing_id,
            category_path=rule.category_path or None,
            vendor_tier=rule.vendor_tier or None,
            currency=rule.currency or None,
            rule_id=rule.pk,
        )
        for rule in CommissionRule.objects.filter(is_active=True)
    ]


def payments_collect(
    *, charge_group: str, parts: list[SalePart], payment_method: str, idempotency_key: str
) -> list[Payment]:
    """Charge the customer once for every part and record each vendor's sale.

    A decline raises CardDeclined / InsufficientFunds (402) before anything is written.
    Precondition: called inside the caller's transaction (a booking or checkout row
    locked), so the sale and the caller's state change commit together.
    """
    if not parts:
        raise ValueError("nothing to charge")
    currency = parts[0].amount.currency
    if any(part.amount.currency != currency for part in parts):
        raise PaymentError(
            "One charge cannot mix currencies.", code=PaymentErrorCode.CURRENCY_MISMATCH, status=422
        )
    existing = list(Payment.objects.filter(reference__in=[p.reference for p in parts]))
    if existing:
        if len(existing) == len(parts) and {p.charge_group for p in existing} == {charge_group}:
            return existing  # already collected by an earlier attempt
        raise PaymentError("These references are paid already.", code=PaymentErrorCode.ALREADY_PAID)
    total = Money(sum(part.amount.amount for part in parts), currency)
    gateway = get_gateway()
    authorization = gateway.authorize(
        amount=total,
        payment_method=payment_method,
        idempotency_key=f"{idempotency_key}:authorize",
        metadata={"charge_group": charge_group},
    )
    gateway.capture(
        charge_id=authorization.charge_id,
        amount=total,
        idempotency_key=f"{idempotency_key}:capture",
    )
    rules = commission_rules()
    payments = []
    with money_change():
        for part in parts:
            fees = fees_for(part.amount, part.sale, rules)
            payments.append(
                Payment.objects.create(
                    reference=part.reference,
                    charge_group=charge_group,
                    vendor_id=part.sale.vendor_id,
                    currency=currency,
                    gross_amount=part.amount.amount,
                    commission_amount=fees.commission.amount,
                    fee_amount=fees.processing_fee.amount,
                    commission_rule_id=fees.rule_id,
                    gateway=gateway.name,
                    charge_id=authorization.charge_id,
                    payment_method=payment_method,
                )
            )
            flows.post_capture(
                reference=part.reference,
                vendor_id=part.sale.vendor_id,
                gross=part.amount,
                commission=fees.commission,
                processing_fee=fees.processing_fee,
                idempotency_key=f"{part.reference}:capture",
            )
    return payments


def payment_collect(
    *, reference: str, amount: Money, payment_method: str, sale: SaleContext, idempotency_key: str
) -> Payment:
    """Charge one vendor's sale (a booking)."""
    return payments_collect(
        charge_group=reference,
        parts=[SalePart(reference=reference, amount=amount, sale=sale)],
        payment_method=payment_method,
        idempotency_key=idempotency_key,
    )[0]


@transaction.atomic
def refund_create(
    *, reference: str, amount: Money | None, reason: str, actor: object | None, idempotency_key: str
) -> Refund | None:
    """Give back `amount` (None: all that is refundable) of `reference`'s payment.

    Reverses vendor share, commission and fee in proportion (flows.post_refund) and never
    refunds more than was captured (409 refund_exceeds_captured). A retry with the same
    key returns the first refund. Returns None when nothing is left to refund.
    """
    replay = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if replay is not None:
        return replay
    payment = Payment.objects.select_for_update().filter(reference=reference).first()
    if payment is None:
        raise NotFound(f"No payment for {reference}.")
    currency = payment.currency
    if amount is None:
        amount = reference_state(
            reference=reference, vendor_id=payment.vendor_id, currency=currency
        ).refundable
        if amount.amount == 0:
            return None
    if amount.currency != currency:
        raise PaymentError(
            f"The payment is in {currency}.", code=PaymentErrorCode.CURRENCY_MISMATCH, status=422
        )
    gateway = get_gateway()
    with money_change():
        flows.post_refund(
            reference=reference,
            vendor_id=payment.vendor_id,
            amount=amount,
            idempotency_key=f"{idempotency_key}:ledger",
        )
        result = gateway.refund(
            charge_id=payment.charge_id, amount=amount, idempotency_key=idempotency_key
        )
        refund = Refund.objects.create(
            payment=payment,
            amount=amount.amount,
            currency=currency,
            reason=reason[:300],
            idempotency_key=idempotency_key,
            gateway_refund_id=result.id,
            created_by_id=getattr(actor, "pk", None),
        )
        Payment.objects.filter(pk=payment.pk).update(
            refunded_amount=F("refunded_amount") + amount.amount
        )
        payment.refresh_from_db(fields=["refunded_amount"])
        status = (
            PaymentStatus.REFUNDED
            if payment.refunded_amount == payment.gross_amount
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        Payment.objects.filter(pk=payment.pk).update(status=status)
    return refund


@transaction.atomic
def escrow_release(*, reference: str) -> bool:
    """Move what `reference` holds in escrow to its vendor's available balance. True when
    the reference is settled (released now or nothing was held)."""
    payment = Payment.objects.filter(reference=reference).only("vendor_id").first()
    if payment is None:
        return True
    flows.post_escrow_release(
        reference=reference, vendor_id=payment.vendor_id, idempotency_key=f"{reference}:release"
    )
    return True


# --- payouts ---------------------------------------------------------------------------------

PAYOUT_LIFECYCLE = StateMachine.of(
    "payout",
    {PayoutStatus.PENDING: [PayoutStatus.PAID, PayoutStatus.FAILED]},
)


def payout_create(
    *,
    vendor_id: int,
    currency: str,
    amount: Money | None,
    idempotency_key: str,
    actor: object | None,
) -> Payout:
    """Pay out `amount` (None: the whole available balance) to the vendor's bank.

    The ledger posting checks the balance under the vendor's lock, so concurrent payouts
    never overdraw it (409 insufficient_balance). The sandbox transfer settles at once;
    a failed transfer returns the money to available.
    """
    with transaction.atomic():
        replay = Payout.objects.filter(idempotency_key=idempotency_key).first()
        if replay is not None:
            return replay
        if amount is None:
            available = vendor_balance(vendor_id=vendor_id, currency=currency).available
            if available.amount <= 0:
                raise PaymentError(
                    "There is no available balance to pay out.",
                    code=PaymentErrorCode.INSUFFICIENT_BALANCE,
                    extra={"available": available.amount, "currency": currency},
                )
            amount = available
        with money_change():
            posting = flows.post_payout(
                vendor_id=vendor_id, amount=amount, idempotency_key=f"payout:{idempotency_key}"
            )
            payout = Payout.objects.create(
                vendor_id=vendor_id,
                amount=amount.amount,
                currency=amount.currency,
                idempotency_key=idempotency_key,
                journal_transaction_id=posting.pk,
                requested_by_id=getattr(actor, "pk", None),
            )
    return _payout_transfer(payout)


def _payout_transfer(payout: Payout) -> Payout:
    """Ask the gateway to move the money; settle the payout either way."""
    destination = (
        PayoutSettings.objects.filter(vendor_id=payout.vendor_id)
        .values_list("destination", flat=True)
        .first()
        or f"vendor:{payout.vendor_id}"
    )
    try:
        result = get_gateway().transfer(
            destination=destination,
            amount=Money(payout.amount, payout.currency),
            idempotency_key=f"payout:{payout.idempotency_key}:transfer",
        )
    except PaymentError as error:
        return payout_fail(payout=payout, reason=error.detail)
    with money_change():
        Payout.objects.filter(pk=payout.pk).update(transfer_id=result.id)
        payout.transfer_id = result.id
        PAYOUT_LIFECYCLE.apply(
            payout, PayoutStatus.PAID, actor=None, updates={"settled_at": clock.now()}
        )
        # Settling posts nothing new: the money left `available` when the payout was
        # created. Name that posting to the guard as this change's ledger record.
        note_ledger_post(payout.journal_transaction_id)
    return payout


def payout_fail(*, payout: Payout, reason: str) -> Payout:
    with money_change():
        original = JournalTransaction.objects.get(pk=payout.journal_transaction_id)
        flows.post_payout_failed(
            payout=original, idempotency_key=f"payout:{payout.idempotency_key}:failed"
        )
        PAYOUT_LIFECYCLE.apply(
            payout,
            PayoutStatus.FAILED,
            actor=None,
            reason=reason,
            updates={"failure_reason": reason[:300], "settled_at": clock.now()},
        )
    return payout


def payouts_due(*, today: date) -> list[tuple[int, str]]:
    """(vendor_id, currency) pairs whose schedule says "pay out today" and whose available
    balance reaches their minimum."""
    settings_by_vendor = {s.vendor_id: s for s in PayoutSettings.objects.all()}
    rows = (
        LedgerAccount.objects.filter(owner_type=OwnerType.VENDOR, purpose=Purpose.AVAILABLE)
        .annotate(total=Coalesce(Sum("entries__amount"), Value(0)))
        .values_list("owner_id", "currency", "total")
    )
    due = []
    for vendor_id, currency, total in rows:
        setting = settings_by_vendor.get(vendor_id) or PayoutSettings(vendor_id=vendor_id)
        if total < max(setting.minimum_amount, 1):
            continue
        if (
            setting.schedule == PayoutSchedule.DAILY
            or (setting.schedule == PayoutSchedule.WEEKLY and today.weekday() == 0)
            or (setting.schedule == PayoutSchedule.MONTHLY and today.day == 1)
        ):
            due.append((vendor_id, currency))
    return due


def scheduled_payouts_run(*, today: date) -> int:
    """Create today's scheduled payouts; the key makes a second run the same day a no-op."""
    created = 0
    for vendor_id, currency in payouts_due(today=today):
        try:
            payout_create(
                vendor_id=vendor_id,
                currency=currency,
                amount=None,
                idempotency_key=f"scheduled:{vendor_id}:{currency}:{today.isoformat()}",
                actor=None,
            )
            created += 1
        except PaymentError:
            continue  # the balance moved since we looked; next run tries again
    return created


@transaction.atomic
def commission_rule_create(*, actor: object, **fields: object) -> CommissionRule:
    """A new commission rule; it applies to sales from now on (past sales keep theirs)."""
    minimum, maximum = fields.get("minimum_amount"), fields.get("maximum_amount")
    if isinstance(minimum, int) and isinstance(maximum, int) and minimum > maximum:
        raise PaymentError(
            "The floor is above the cap.", code=PaymentErrorCode.INVALID_RULE, status=422
        )
    rule = CommissionRule.objects.create(**fields)
    audit_log(actor=actor, action="commission_rule.created", target=rule, data={"name": rule.name})
    return rule


@transaction.atomic
def payout_settings_set(*, vendor_id: int, schedule: str, minimum_amount: int) -> PayoutSettings:
    setting, _ = PayoutSettings.objects.update_or_create(
        vendor_id=vendor_id, defaults={"schedule": schedule, "minimum_amount": minimum_amount}
    )
    return setting
