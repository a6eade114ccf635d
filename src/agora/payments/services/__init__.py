"""Payments' writes (ARCHITECTURE.md "Money flow"), one room per subject:

* sales.py — charge through the gateway and record each vendor's sale, refunds, escrow
  release (frozen while a dispute is open), commission rules;
* payouts.py — on-demand and scheduled payouts and their failure;
* disputes.py — disputes opened, evidenced and decided;
* webhooks.py — what the payment provider's signed events change;
* subjects.py — how bookings and orders describe their references for the events.

Callers (bookings, orders, the API) use the names below: `payments.payment_collect(...)`.
"""

from agora.payments.commission import SaleContext
from agora.payments.services.disputes import (
    DISPUTE_LIFECYCLE,
    dispute_add_evidence,
    dispute_decide,
    dispute_open,
    disputes_decide_for_gateway,
    disputes_open_for_charge,
)
from agora.payments.services.payouts import (
    PAYOUT_LIFECYCLE,
    payout_create,
    payout_fail,
    payout_settings_set,
    payouts_due,
    scheduled_payouts_run,
)
from agora.payments.services.sales import (
    SalePart,
    commission_rule_create,
    commission_rule_update,
    commission_rules,
    escrow_release,
    payment_collect,
    payments_collect,
    refund_create,
)
from agora.payments.services.subjects import (
    SaleSubject,
    sale_describe,
    sale_describer_register,
)
from agora.payments.services.webhooks import WebhookOutcome, stripe_event_handle

__all__ = [
    "DISPUTE_LIFECYCLE",
    "PAYOUT_LIFECYCLE",
    "SaleContext",
    "SalePart",
    "SaleSubject",
    "WebhookOutcome",
    "commission_rule_create",
    "commission_rule_update",
    "commission_rules",
    "dispute_add_evidence",
    "dispute_decide",
    "dispute_open",
    "disputes_decide_for_gateway",
    "disputes_open_for_charge",
    "escrow_release",
    "payment_collect",
    "payments_collect",
    "payout_create",
    "payout_fail",
    "payout_settings_set",
    "payouts_due",
    "refund_create",
    "sale_describe",
    "sale_describer_register",
    "scheduled_payouts_run",
    "stripe_event_handle",
]
