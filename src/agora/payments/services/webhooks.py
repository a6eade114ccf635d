"""Events the payment provider sends: what each one changes in Agora.

Only events whose signature checked out reach `stripe_event_handle`. Each handler is
idempotent (Stripe delivers at least once, sometimes twice, in any order): a dispute is
opened once per (gateway dispute, payment), decided once, a payout fails once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agora.payments.models import DisputeOutcome, Payout
from agora.payments.services.disputes import disputes_decide_for_gateway, disputes_open_for_charge
from agora.payments.services.payouts import payout_fail
from agora.payments.stripe_gateway import event_money, verified_event

logger = logging.getLogger(__name__)

# How Stripe's closed-dispute statuses end an Agora dispute. An inquiry closed without a
# chargeback (`warning_closed`) gives the frozen money back, as a win does.
_CLOSED_OUTCOMES = {
    "won": DisputeOutcome.WON,
    "warning_closed": DisputeOutcome.WON,
    "lost": DisputeOutcome.LOST,
}


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    event_type: str
    handled: bool


def _field(obj: Any, name: str) -> Any:
    try:
        return obj[name]
    except (KeyError, TypeError):
        return None


def stripe_event_handle(*, payload: bytes, signature: str | None) -> WebhookOutcome:
    """Verify the event's signature (400 `invalid_signature` otherwise), then act on
    charge.dispute.created / charge.dispute.closed / payout.failed; other types are
    acknowledged and ignored."""
    event = verified_event(payload=payload, signature=signature)
    obj = event.data.object
    handled = False
    if event.type == "charge.dispute.created":
        handled = _dispute_created(obj)
    elif event.type == "charge.dispute.closed":
        handled = _dispute_closed(obj)
    elif event.type == "payout.failed":
        handled = _payout_failed(obj)
    if not handled:
        logger.info("stripe event %s (%s) changed nothing", event.id, event.type)
    return WebhookOutcome(event_id=event.id, event_type=event.type, handled=handled)


def _dispute_created(obj: Any) -> bool:
    amount = event_money(_field(obj, "amount"), _field(obj, "currency"))
    charge_id = _field(obj, "payment_intent") or _field(obj, "charge")
    if amount is None or not charge_id or amount.amount <= 0:
        return False
    disputes = disputes_open_for_charge(
        charge_id=str(charge_id),
        amount=amount,
        reason=str(_field(obj, "reason") or "chargeback")[:300],
        gateway_dispute_id=str(_field(obj, "id")),
    )
    return bool(disputes)


def _dispute_closed(obj: Any) -> bool:
    outcome = _CLOSED_OUTCOMES.get(str(_field(obj, "status")))
    if outcome is None:
        return False
    return bool(
        disputes_decide_for_gateway(gateway_dispute_id=str(_field(obj, "id")), outcome=outcome)
    )


def _payout_failed(obj: Any) -> bool:
    """The bank returned a payout: the money goes back to the vendor's available balance.
    Matched by the `agora_payout_id` Agora puts in the metadata of what it creates, else
    by the gateway id stored on the payout."""
    metadata = _field(obj, "metadata") or {}
    payout_id = _field(metadata, "agora_payout_id")
    payout = None
    if payout_id and str(payout_id).isdigit():
        payout = Payout.objects.filter(pk=int(payout_id)).first()
    if payout is None and _field(obj, "id"):
        payout = Payout.objects.filter(transfer_id=str(_field(obj, "id"))).first()
    if payout is None:
        return False
    reason = _field(obj, "failure_message") or _field(obj, "failure_code") or "payout failed"
    payout_fail(payout=payout, reason=f"bank returned the payout: {reason}")
    return True
