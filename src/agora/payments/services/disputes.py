"""Disputes: a customer's chargeback (from the gateway's webhook) or a claim the operator
mediates, on one vendor's sale. opened → won | lost, decided by the operator (or by the
card network, reported by the gateway), through DISPUTE_LIFECYCLE (audited).

Opening freezes the disputed amount in the vendor's dispute hold — taken from vendor
share, commission and fee in proportion, as a refund would be — and freezes the
reference's escrow release (`sales.escrow_release` answers False while a dispute is open).
Winning gives every piece back; losing hands the money to the card network.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from agora.core import clock
from agora.core.audit import audit_log
from agora.core.errors import InvalidTransition, NotFound
from agora.core.money import Money
from agora.core.statemachine import StateMachine
from agora.core.validation import check_positive_amount
from agora.notifications import outbox
from agora.payments import flows
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.guard import money_change, note_ledger_post
from agora.payments.models import (
    Dispute,
    DisputeEvidence,
    DisputeOutcome,
    DisputeStatus,
    Payment,
)
from agora.payments.selectors import reference_state
from agora.payments.services.subjects import sale_describe

DISPUTE_LIFECYCLE = StateMachine.of(
    "dispute", {DisputeStatus.OPENED: [DisputeStatus.WON, DisputeStatus.LOST]}
)


def _user_id(actor: object | None) -> int | None:
    user_id = getattr(actor, "pk", None)
    return user_id if isinstance(user_id, int) else None


def _announce(name: str, dispute: Dispute, **extra: Any) -> None:
    """`dispute.opened` / `dispute.decided`: the customer and the vendor each open the
    page of the sale it is about (as the reference's owner describes it), operators the
    dispute's page in the console."""
    sale = sale_describe(reference=dispute.reference)
    sale_data = sale.data if sale is not None else {}
    outbox.emit(
        name,
        subject=dispute,
        data={
            "id": dispute.pk,
            "status": dispute.status,
            "reference": dispute.reference,
            "amount": {"amount": dispute.amount, "currency": dispute.currency},
            "reason": dispute.reason,
            "sale": sale_data,
            "url": sale_data.get("url", ""),
            "vendor_url": sale_data.get("vendor_url")
            or f"/vendor/money/?vendor={dispute.vendor_id}",
            "operator_url": f"/operator/disputes/{dispute.pk}/",
            **extra,
        },
        user_id=sale.customer_id if sale is not None else None,
        vendor_id=dispute.vendor_id,
        operators=name == "dispute.opened",
    )


def dispute_open(
    *,
    reference: str,
    amount: Money | None,
    reason: str,
    actor: object | None,
    idempotency_key: str,
    gateway_dispute_id: str = "",
) -> Dispute:
    """Open a dispute on `reference`'s sale for `amount` (None: all that is not yet
    refunded or disputed). At most that much: 409 `dispute_exceeds_captured`. A retry with
    the same key returns the first dispute and freezes nothing twice.

    The payment row is locked first, as `escrow_release` locks it: a release and an
    opening at the same time are decided one after the other.
    """
    if amount is not None:
        check_positive_amount(amount)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(reference=reference).first()
        if payment is None:
            raise NotFound(f"No payment for {reference}.")
        # Under the payment's lock: a concurrent retry waits here and then finds this.
        replay = Dispute.objects.filter(idempotency_key=idempotency_key).first()
        if replay is not None:
            return replay
        currency = payment.currency
        if amount is None:
            amount = reference_state(
                reference=reference, vendor_id=payment.vendor_id, currency=currency
            ).refundable
            if amount.amount <= 0:
                raise PaymentError(
                    f"Nothing of {reference} is left to dispute.",
                    code=PaymentErrorCode.DISPUTE_EXCEEDS_CAPTURED,
                    extra={"disputable": 0, "currency": currency},
                )
        if amount.currency != currency:
            raise PaymentError(
                f"The payment is in {currency}.",
                code=PaymentErrorCode.CURRENCY_MISMATCH,
                status=422,
            )
        with money_change():
            posting = flows.post_dispute_opened(
                reference=reference,
                vendor_id=payment.vendor_id,
                amount=amount,
                idempotency_key=f"dispute:{idempotency_key}:opened",
            )
            dispute = Dispute.objects.create(
                payment=payment,
                reference=reference,
                vendor_id=payment.vendor_id,
                amount=amount.amount,
                currency=currency,
                reason=reason[:300],
                gateway_dispute_id=gateway_dispute_id,
                idempotency_key=idempotency_key,
                opened_transaction_id=posting.pk,
                opened_by_id=_user_id(actor),
            )
            audit_log(
                actor=actor,
                action="dispute.opened",
                target=dispute,
                data={"reference": reference, "amount": amount.amount, "reason": reason[:300]},
            )
            _announce("dispute.opened", dispute)
    return dispute


@transaction.atomic
def dispute_add_evidence(*, dispute: Dispute, text: str, actor: object | None) -> DisputeEvidence:
    """Record evidence or a note on an open dispute; a decided one takes no more (409)."""
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if locked.status != DisputeStatus.OPENED:
        raise InvalidTransition(
            f"This dispute was {locked.status}; it takes no more evidence.",
            extra={"from": locked.status, "to": "evidence"},
        )
    evidence = DisputeEvidence.objects.create(dispute=locked, text=text, author_id=_user_id(actor))
    audit_log(
        actor=actor,
        action="dispute.evidence_added",
        target=locked,
        data={"evidence_id": evidence.pk},
    )
    return evidence


def dispute_decide(
    *, dispute: Dispute, outcome: str, actor: object | None, reason: str = ""
) -> Dispute:
    """Settle an open dispute: `won` gives the frozen money back to vendor share,
    commission and fee; `lost` pays it to the card network through the gateway.

    Deciding again with the same outcome returns the dispute as it is (a webhook
    delivered twice); with the other outcome it is 409 `invalid_transition`.
    """
    if outcome not in DisputeOutcome.values:
        raise ValueError(f"unknown dispute outcome {outcome!r}")
    with money_change():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status == outcome:
            note_ledger_post(locked.decided_transaction_id or locked.opened_transaction_id)
            return locked
        DISPUTE_LIFECYCLE.check(locked.status, outcome)
        amount = Money(locked.amount, locked.currency)
        post = flows.post_dispute_won if outcome == DisputeOutcome.WON else flows.post_dispute_lost
        posting = post(
            reference=locked.reference,
            vendor_id=locked.vendor_id,
            amount=amount,
            idempotency_key=f"dispute:{locked.pk}:{outcome}",
        )
        DISPUTE_LIFECYCLE.apply(
            locked,
            outcome,
            actor=actor,
            reason=reason,
            data={"amount": locked.amount, "currency": locked.currency},
            updates={
                "decided_transaction_id": posting.pk,
                "decided_by_id": _user_id(actor),
                "decided_at": clock.now(),
            },
        )
        _announce("dispute.decided", locked, outcome=outcome)
    return locked


def disputes_open_for_charge(
    *, charge_id: str, amount: Money, reason: str, gateway_dispute_id: str
) -> list[Dispute]:
    """A gateway dispute on a whole charge: one Dispute per vendor's part of it, the
    amount shared in proportion to what each part still has (largest remainder, exact),
    never more than that. Replayed by (gateway dispute, payment): a webhook delivered
    twice opens nothing twice. Unknown charges open nothing."""
    with transaction.atomic():
        payments = list(
            Payment.objects.select_for_update()
            .filter(charge_id=charge_id, currency=amount.currency)
            .order_by("pk")
        )
        if not payments:
            return []
        open_parts = [
            reference_state(
                reference=payment.reference, vendor_id=payment.vendor_id, currency=payment.currency
            ).refundable.amount
            for payment in payments
        ]
        already = {
            dispute.payment_id: dispute
            for dispute in Dispute.objects.filter(gateway_dispute_id=gateway_dispute_id)
        }
        disputable = sum(open_parts) + sum(d.amount for d in already.values())
        if disputable <= 0:
            return list(already.values())
        weights = [
            part + (already[p.pk].amount if p.pk in already else 0)
            for p, part in zip(payments, open_parts, strict=True)
        ]
        shares = Money(min(amount.amount, disputable), amount.currency).allocate(weights)
        disputes = []
        for payment, share in zip(payments, shares, strict=True):
            if payment.pk in already:
                disputes.append(already[payment.pk])
            elif share.amount > 0:
                disputes.append(
                    dispute_open(
                        reference=payment.reference,
                        amount=share,
                        reason=reason,
                        actor=None,
                        idempotency_key=f"gateway:{gateway_dispute_id}:{payment.pk}",
                        gateway_dispute_id=gateway_dispute_id,
                    )
                )
        return disputes


def disputes_decide_for_gateway(*, gateway_dispute_id: str, outcome: str) -> list[Dispute]:
    """The card network decided a gateway dispute: settle each part of it."""
    return [
        dispute_decide(dispute=dispute, outcome=outcome, actor=None, reason="gateway decision")
        for dispute in Dispute.objects.filter(gateway_dispute_id=gateway_dispute_id).order_by("pk")
    ]
