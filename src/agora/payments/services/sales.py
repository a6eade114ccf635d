"""What bookings and checkout call to take and give back money (ARCHITECTURE.md "Money
flow"): charge through the gateway, record the sale with frozen commission and fee, post
it to the ledger — all in one transaction, under the ledger guard. Payments knows no
bookings or orders: callers pass a `reference` and the values commission rules need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from agora.core.audit import audit_log
from agora.core.errors import Forbidden, NotFound
from agora.core.money import Money
from agora.core.validation import check_positive_amount, field_error
from agora.notifications import outbox
from agora.payments import flows
from agora.payments.commission import CommissionRuleSpec, SaleContext, fees_for
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.gateway import get_gateway
from agora.payments.guard import money_change
from agora.payments.models import (
    CommissionRule,
    Dispute,
    DisputeStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from agora.payments.selectors import reference_state
from agora.payments.services.subjects import sale_describe


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
        transfer_group=charge_group,
    )
    gateway.capture(
        charge_id=authorization.charge_id,
        amount=total,
        idempotency_key=f"{idempotency_key}:capture",
    )
    rules = commission_rules()
    all_fees = [fees_for(part.amount, part.sale, rules) for part in parts]
    with money_change():
        # One INSERT for every vendor's payment row, then one posting each.
        payments = Payment.objects.bulk_create(
            [
                Payment(
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
                for part, fees in zip(parts, all_fees, strict=True)
            ]
        )
        for part, fees in zip(parts, all_fees, strict=True):
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
    *,
    reference: str,
    amount: Money | None,
    reason: str,
    actor: object | None,
    idempotency_key: str,
    announce: bool = True,
) -> Refund | None:
    """Give back `amount` (None: all that is refundable) of `reference`'s payment.

    Reverses vendor share, commission and fee in proportion (flows.post_refund) and never
    refunds more than was captured (409 refund_exceeds_captured). A retry with the same
    key returns the first refund. Returns None when nothing is left to refund.

    An operator's refund is announced as `<kind>.refunded` (`booking.refunded`) to the
    customer and the vendor. Lifecycles that refund as part of a move of their own (a
    cancellation, a decline) pass `announce=False`: their event tells of the refund.
    """
    if amount is not None:
        check_positive_amount(amount)
    payment = Payment.objects.select_for_update().filter(reference=reference).first()
    if payment is None:
        raise NotFound(f"No payment for {reference}.")
    # Under the payment's lock: a concurrent retry waits here and then finds this.
    replay = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if replay is not None:
        return replay
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
        if announce:
            _announce_refund(payment=payment, refund=refund, status=status)
    return refund


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _announce_refund(*, payment: Payment, refund: Refund, status: str) -> None:
    """`booking.refunded` / `order.refunded`, as the reference's owner describes it; a
    reference nobody describes (a sale of another kind) is not announced."""
    sale = sale_describe(reference=payment.reference)
    if sale is None:
        return
    outbox.emit(
        f"{sale.event_prefix}.refunded",
        subject=payment.reference,
        data={
            **sale.data,
            "refund_id": refund.pk,
            "refund": _money(refund.amount, refund.currency),
            "refunded_total": _money(payment.refunded_amount, payment.currency),
            "paid": _money(payment.gross_amount, payment.currency),
            "fully_refunded": status == PaymentStatus.REFUNDED,
            "reason": refund.reason,
        },
        user_id=sale.customer_id,
        vendor_id=payment.vendor_id,
    )


@transaction.atomic
def escrow_release(*, reference: str) -> bool:
    """Move what `reference` holds in escrow to its vendor's available balance. True when
    the reference is settled (released now or nothing was held); False while a dispute on
    it is open — disputes freeze the release, and the caller tries again on a later run.

    The payment row is locked, as `dispute_open` locks it, so a release and a dispute
    opening at once are decided one after the other.
    """
    payment = (
        Payment.objects.select_for_update().filter(reference=reference).only("vendor_id").first()
    )
    if payment is None:
        return True
    if Dispute.objects.filter(reference=reference, status=DisputeStatus.OPENED).exists():
        return False
    flows.post_escrow_release(
        reference=reference, vendor_id=payment.vendor_id, idempotency_key=f"{reference}:release"
    )
    return True


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


# What an operator may change on a rule (CommissionRuleIn's fields and the on/off switch),
# and which of them may be emptied.
EDITABLE_RULE_FIELDS = frozenset(
    {
        "name",
        "priority",
        "percent_bp",
        "fixed_amount",
        "minimum_amount",
        "maximum_amount",
        "currency",
        "listing_id",
        "category_path",
        "vendor_tier",
        "is_active",
    }
)
NULLABLE_RULE_FIELDS = frozenset({"minimum_amount", "maximum_amount", "listing_id"})


@transaction.atomic
def commission_rule_update(*, actor: Any, rule_id: int, changes: dict[str, Any]) -> CommissionRule:
    """Change a rule, or switch it on or off (`is_active`). It applies to sales from now on:
    every past sale keeps the commission frozen into its payment and ledger posting.

    Unknown fields and nulls where a value is needed are refused (422); so is a floor
    above the cap once the changes are merged with the rule's current values. The row is
    locked while it changes; the audit entry records each changed field before → after.
    """
    if not getattr(actor, "is_operator", False):
        raise Forbidden("Only operators change commission rules.")
    unknown = sorted(set(changes) - EDITABLE_RULE_FIELDS)
    if unknown:
        raise field_error(unknown[0], "is not a field you can set")
    nulled = sorted(f for f, v in changes.items() if v is None and f not in NULLABLE_RULE_FIELDS)
    if nulled:
        raise field_error(nulled[0], "must not be null")
    if "name" in changes and not str(changes["name"]).strip():
        raise field_error("name", "must not be blank")
    rule = CommissionRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("No such commission rule.")
    minimum = changes.get("minimum_amount", rule.minimum_amount)
    maximum = changes.get("maximum_amount", rule.maximum_amount)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise PaymentError(
            "The floor is above the cap.", code=PaymentErrorCode.INVALID_RULE, status=422
        )
    changed = {
        field: {"before": getattr(rule, field), "after": value}
        for field, value in changes.items()
        if getattr(rule, field) != value
    }
    if changed:
        for field, value in changes.items():
            setattr(rule, field, value)
        rule.save(update_fields=sorted(changed))
        audit_log(
            actor=actor, action="commission_rule.updated", target=rule, data={"changes": changed}
        )
    return rule
