"""Shared helpers for the payments tests: Money shorthands and ledger read-outs."""

from __future__ import annotations

from django.db import transaction

from agora.core.money import Money
from agora.payments import flows, ledger
from agora.payments.models import JournalTransaction, OwnerType, Purpose

VENDOR = 7
# The seeded defaults: 3% commission and 2.9% processing, frozen at sale time.
COMMISSION_BP = 300
PROCESSING_BP = 290


def gbp(amount: int) -> Money:
    return Money(amount, "GBP")


def aud(amount: int) -> Money:
    return Money(amount, "AUD")


def capture(
    reference: str,
    gross: Money,
    *,
    vendor_id: int = VENDOR,
    key: str | None = None,
    commission_bp: int = COMMISSION_BP,
    processing_bp: int = PROCESSING_BP,
) -> JournalTransaction:
    """A capture with the default commission and fee, as a checkout would post it."""
    with transaction.atomic():
        return flows.post_capture(
            reference=reference,
            vendor_id=vendor_id,
            gross=gross,
            commission=gross.percent(commission_bp),
            processing_fee=gross.percent(processing_bp),
            idempotency_key=key or f"capture:{reference}",
        )


def balance_of(owner_type: str, purpose: str, currency: str = "GBP", owner_id: int = 0) -> int:
    """One account's balance; 0 when the account was never used."""
    found = ledger.balances(
        owner_type=owner_type, owner_id=owner_id, purpose=purpose, currency=currency
    )
    return found[0].balance if found else 0


def platform(purpose: str, currency: str = "GBP") -> int:
    return balance_of(OwnerType.PLATFORM, purpose, currency)


def clearing(currency: str = "GBP") -> int:
    return balance_of(OwnerType.GATEWAY, Purpose.GATEWAY_CLEARING, currency)


def vendor(purpose: str, currency: str = "GBP", vendor_id: int = VENDOR) -> int:
    return balance_of(OwnerType.VENDOR, purpose, currency, vendor_id)


def entries_of(txn: JournalTransaction) -> dict[str, int]:
    """`{"vendor:7:escrow:GBP": -100, ...}` for a transaction's entries."""
    result: dict[str, int] = {}
    for entry in txn.entries.select_related("account"):
        key = str(entry.account.key)
        result[key] = result.get(key, 0) + entry.amount
    return result
