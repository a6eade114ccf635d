"""Money under real concurrency: eight threads, each with its own database connection.

On PostgreSQL the threads really interleave, and the unique idempotency index and the
vendor's account-row lock are what keep the ledger right — the last test removes the lock
and shows the overdraft it prevents. On SQLite, BEGIN IMMEDIATE lets one writer in at a time,
and the same tests prove the code is correct under that serialisation too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.db import connection, transaction

from agora.payments import flows, ledger
from agora.payments.errors import PaymentError
from agora.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Purpose
from tests.payments.conftest import VENDOR, capture, clearing, gbp, vendor
from tests.race import run_concurrently

T = TypeVar("T")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

THREADS = 8


def all_at_once(work: Callable[[int], T]) -> list[T]:
    """`run_concurrently`, with every thread connected before any starts working.

    Opening a connection takes longer than a whole posting: without this, the first
    thread would be done before the last had connected, and nothing would race.
    """
    connected = threading.Barrier(THREADS, timeout=30)

    def connect_then_work(index: int) -> T:
        connection.ensure_connection()
        connected.wait()
        return work(index)

    return run_concurrently(connect_then_work, threads=THREADS)


def released_sale(gross: int = 100_00) -> Any:
    """A £100 sale whose vendor share (£94.10) has reached the available balance."""
    capture("booking:1", gbp(gross))
    with transaction.atomic():
        flows.post_escrow_release(reference="booking:1", vendor_id=VENDOR, idempotency_key="rel")
    return flows.vendor_balance(vendor_id=VENDOR, currency="GBP").available


def pay_out(amount: Any, key: str) -> str:
    try:
        with transaction.atomic():
            flows.post_payout(vendor_id=VENDOR, amount=amount, idempotency_key=key)
    except PaymentError as refused:
        return refused.code
    return "paid"


def test_the_same_capture_from_8_threads_at_once_is_recorded_once() -> None:
    def post_capture(_: int) -> int:
        with transaction.atomic():
            return flows.post_capture(
                reference="booking:1",
                vendor_id=VENDOR,
                gross=gbp(100_00),
                commission=gbp(3_00),
                processing_fee=gbp(2_90),
                idempotency_key="booking:1:pay:abc",
            ).pk

    transaction_ids = all_at_once(post_capture)

    assert len(set(transaction_ids)) == 1
    assert JournalTransaction.objects.get().pk == transaction_ids[0]
    assert JournalEntry.objects.count() == 4
    assert LedgerAccount.objects.count() == 4  # created once each despite the race
    assert (vendor(Purpose.ESCROW), clearing()) == (94_10, -100_00)
    assert ledger.trial_balance() == {"GBP": 0}


def test_8_concurrent_payouts_of_the_whole_available_balance_pay_it_out_once() -> None:
    available = released_sale()
    assert available == gbp(94_10)

    outcomes = all_at_once(lambda i: pay_out(available, f"payout:{i}"))

    assert sorted(outcomes) == ["insufficient_balance"] * (THREADS - 1) + ["paid"]
    balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert balance.paid_out == available
    assert balance.available == gbp(0)
    assert JournalTransaction.objects.filter(kind="payout").count() == 1


def test_8_concurrent_refunds_never_exceed_the_capture() -> None:
    capture("booking:1", gbp(100_00))

    def refund(i: int) -> str:
        try:
            with transaction.atomic():
                flows.post_refund(
                    reference="booking:1",
                    vendor_id=VENDOR,
                    amount=gbp(30_00),
                    idempotency_key=f"refund:{i}",
                )
        except PaymentError as refused:
            return refused.code
        return "refunded"

    outcomes = all_at_once(refund)

    assert sorted(outcomes) == ["refund_exceeds_captured"] * (THREADS - 3) + ["refunded"] * 3
    state = flows.reference_state(reference="booking:1", vendor_id=VENDOR, currency="GBP")
    assert (state.refunded, state.refundable) == (90_00, gbp(10_00))
    assert vendor(Purpose.ESCROW) >= 0
    assert ledger.trial_balance() == {"GBP": 0}


def test_without_the_lock_concurrent_payouts_overdraw_the_balance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard removed once (after pretix's test_quota_race_condition_happens_if_we_
    disable_locks): this is the bug the lock in post_payout prevents."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite serialises whole write transactions (BEGIN IMMEDIATE): there is no "
            "row lock to remove, and the threads cannot interleave"
        )
    available = released_sale()
    # Create the paid-out account up front: otherwise the threads would queue on its
    # unique index behind the first creator, which waits at the barrier for them.
    ledger.account_for(owner_type="vendor", owner_id=VENDOR, purpose="paid_out", currency="GBP")
    read_the_balance = threading.Barrier(THREADS, timeout=20)
    real_balance = ledger.balance

    def balance_then_wait_for_the_others(account: LedgerAccount) -> int:
        value = real_balance(account)
        read_the_balance.wait()  # every thread has read the balance before any pays
        return value

    monkeypatch.setattr(flows, "lock_rows", lambda queryset: list(queryset))
    monkeypatch.setattr(ledger, "balance", balance_then_wait_for_the_others)

    outcomes = all_at_once(lambda i: pay_out(available, f"payout:{i}"))

    assert outcomes == ["paid"] * THREADS
    balance = flows.vendor_balance(vendor_id=VENDOR, currency="GBP")
    assert balance.paid_out == available * THREADS
    assert balance.available == available - available * THREADS  # overdrawn
