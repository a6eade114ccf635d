"""Payouts: money leaving a vendor's available balance for their bank, on demand or on the
vendor's schedule, through the PAYOUT_LIFECYCLE state machine (audited)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce

from agora.core import clock
from agora.core.money import Money
from agora.core.statemachine import StateMachine
from agora.core.validation import check_positive_amount
from agora.notifications import outbox
from agora.payments import flows
from agora.payments.errors import PaymentError, PaymentErrorCode
from agora.payments.gateway import get_gateway
from agora.payments.guard import money_change, note_ledger_post
from agora.payments.models import (
    JournalTransaction,
    LedgerAccount,
    OwnerType,
    Payout,
    PayoutSchedule,
    PayoutSettings,
    PayoutStatus,
    Purpose,
)
from agora.payments.selectors import vendor_balance

# paid → failed: the bank returned a payout after the gateway had sent it (Stripe's
# `payout.failed`); the money goes back to the vendor's available balance.
PAYOUT_LIFECYCLE = StateMachine.of(
    "payout",
    {
        PayoutStatus.PENDING: [PayoutStatus.PAID, PayoutStatus.FAILED],
        PayoutStatus.PAID: [PayoutStatus.FAILED],
    },
)


def _announce(name: str, payout: Payout) -> None:
    """`payout.paid` / `payout.failed` to the vendor's owners and managers."""
    money_page = f"/vendor/money/?vendor={payout.vendor_id}"
    data = {
        "id": payout.pk,
        "status": payout.status,
        "amount": {"amount": payout.amount, "currency": payout.currency},
        "url": money_page,
        "vendor_url": money_page,
        "created_at": payout.created_at.isoformat(),
    }
    if payout.failure_reason:
        data["failure_reason"] = payout.failure_reason
    outbox.emit(name, subject=payout, data=data, vendor_id=payout.vendor_id)


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
    if amount is not None:
        check_positive_amount(amount)
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
            transfer_group=f"payout:{payout.pk}",
            metadata={"agora_payout_id": str(payout.pk)},
        )
    except PaymentError as error:
        return payout_fail(payout=payout, reason=error.detail)
    with money_change():
        Payout.objects.filter(pk=payout.pk).update(transfer_id=result.id)
        payout.transfer_id = result.id
        PAYOUT_LIFECYCLE.apply(
            payout, PayoutStatus.PAID, actor=None, updates={"settled_at": clock.now()}
        )
        _announce("payout.paid", payout)
        # Settling posts nothing new: the money left `available` when the payout was
        # created. Name that posting to the guard as this change's ledger record.
        note_ledger_post(payout.journal_transaction_id)
    return payout


def payout_fail(*, payout: Payout, reason: str, actor: object | None = None) -> Payout:
    """The transfer was refused, or the bank returned the money: reverse the payout's
    posting (paid out → available) and mark it failed. A payout that already failed is
    returned as it is (a webhook delivered twice changes nothing)."""
    with money_change():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status == PayoutStatus.FAILED:
            note_ledger_post(payout.journal_transaction_id)
            return payout
        original = JournalTransaction.objects.get(pk=payout.journal_transaction_id)
        flows.post_payout_failed(
            payout=original, idempotency_key=f"payout:{payout.idempotency_key}:failed"
        )
        PAYOUT_LIFECYCLE.apply(
            payout,
            PayoutStatus.FAILED,
            actor=actor,
            reason=reason,
            updates={"failure_reason": reason[:300], "settled_at": clock.now()},
        )
        _announce("payout.failed", payout)
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
    """Create today's scheduled payouts and return how many. One per vendor, currency and
    day: the day is in the idempotency key, so a second run the same day (the task runs
    hourly) creates nothing, and money released later that day waits for the next one."""
    created = 0
    for vendor_id, currency in payouts_due(today=today):
        key = f"scheduled:{vendor_id}:{currency}:{today.isoformat()}"
        if Payout.objects.filter(idempotency_key=key).exists():
            continue
        try:
            payout_create(
                vendor_id=vendor_id, currency=currency, amount=None, idempotency_key=key, actor=None
            )
            created += 1
        except PaymentError:
            continue  # the balance moved since we looked; next run tries again
    return created


@transaction.atomic
def payout_settings_set(*, vendor_id: int, schedule: str, minimum_amount: int) -> PayoutSettings:
    setting, _ = PayoutSettings.objects.update_or_create(
        vendor_id=vendor_id, defaults={"schedule": schedule, "minimum_amount": minimum_amount}
    )
    return setting
