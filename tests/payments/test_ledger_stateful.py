"""Random sequences of money movements never break the ledger's invariants.

A Hypothesis state machine captures, refunds, releases, pays out, fails payouts, opens,
wins and loses disputes and retries earlier movements, across three vendors and two
currencies. After every step the journal is replayed independently in Python and checked:
each transaction sums to zero per currency, the trial balance is zero, every balance is
the replay's, refunds never exceed captures per reference, and neither escrow nor paid-out
money is ever negative. Each example runs in a savepoint that is rolled back afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agora.core.money import Money
from agora.payments import flows, ledger
from agora.payments.errors import PaymentError
from agora.payments.models import JournalEntry, JournalTransaction, OwnerType, Purpose

VENDORS = (1, 2, 3)
# the accounts holding each piece of a sale (the vendor's share moves escrow → available)
PIECES = {
    Purpose.ESCROW: "vendor",
    Purpose.AVAILABLE: "vendor",
    Purpose.COMMISSION: "commission",
    Purpose.PROCESSING_FEES: "fee",
}
CURRENCIES = ("GBP", "AUD")


@dataclass
class Sale:
    """The test's own account of one captured reference."""

    reference: str
    vendor_id: int
    currency: str
    gross: int
    refunded: int = 0
    held: int = 0
    lost: int = 0

    @property
    def refundable(self) -> int:
        return self.gross - self.refunded - self.held - self.lost

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


@dataclass
class Payout:
    txn: JournalTransaction
    vendor_id: int
    amount: Money
    failed: bool = False


def amount_around(limit: int) -> st.SearchStrategy[int]:
    """Mostly amounts within `limit`, sometimes just past it (which must be refused)."""
    within = st.integers(1, limit) if limit >= 1 else st.nothing()
    beyond = st.integers(max(limit, 0) + 1, max(limit, 0) + 500)
    return st.one_of(within, within, within, beyond)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        self.sales: list[Sale] = []
        self.payouts: list[Payout] = []
        self.paid_out: dict[tuple[int, str], int] = defaultdict(int)
        self.done: list[tuple[Callable[[], JournalTransaction | None], int]] = []
        self.counter = 0
        self.last_sale: Sale | None = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    def _key(self, what: str) -> str:
        self.counter += 1
        return f"{what}:{self.counter}"

    def _run(self, move: Callable[[], JournalTransaction | None]) -> JournalTransaction | None:
        """Run a movement in its own savepoint, as a request would; remember it for retries."""
        with transaction.atomic():
            txn = move()
        if txn is not None:
            self.done.append((move, txn.pk))
        return txn

    def _attempt(
        self, move: Callable[[], JournalTransaction | None], *, allowed: bool, refusal: str
    ) -> JournalTransaction | None:
        """Run `move`, which the test's own bookkeeping says is `allowed` or else must be
        refused with the code `refusal`, changing nothing."""
        if allowed:
            return self._run(move)
        count = JournalTransaction.objects.count()
        with pytest.raises(PaymentError) as refused:
            self._run(move)
        assert refused.value.code == refusal
        assert JournalTransaction.objects.count() == count
        return None

    # --- movements ------------------------------------------------------------------------

    @rule(
        vendor_id=st.sampled_from(VENDORS),
        currency=st.sampled_from(CURRENCIES),
        gross=st.integers(1, 2_000_00),
        commission_bp=st.integers(0, 3000),
        fee_bp=st.integers(0, 500),
        fixed_fee=st.integers(0, 30),
    )
    def capture(
        self,
        vendor_id: int,
        currency: str,
        gross: int,
        commission_bp: int,
        fee_bp: int,
        fixed_fee: int,
    ) -> None:
        sale = Sale(self._key("sale"), vendor_id, currency, gross)
        commission = sale.money(gross).percent(commission_bp)
        fee = sale.money(min(gross - commission.amount, gross * fee_bp // 10000 + fixed_fee))
        key = self._key("capture")
        self._run(
            lambda: flows.post_capture(
                reference=sale.reference,
                vendor_id=vendor_id,
                gross=sale.money(gross),
                commission=commission,
                processing_fee=fee,
                idempotency_key=key,
            )
        )
        self.sales.append(sale)
        self.last_sale = sale

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        sale = data.draw(st.sampled_from(self.sales))
        self.last_sale = sale
        amount = data.draw(amount_around(sale.refundable))
        key = self._key("refund")
        allowed = amount <= sale.refundable
        self._attempt(
            lambda: flows.post_refund(
                reference=sale.reference,
                vendor_id=sale.vendor_id,
                amount=sale.money(amount),
                idempotency_key=key,
            ),
            allowed=allowed,
            refusal="refund_exceeds_captured",
        )
        if allowed:
            sale.refunded += amount

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        sale = data.draw(st.sampled_from(self.sales))
        self.last_sale = sale
        held = flows.escrow_held_for(
            reference=sale.reference, vendor_id=sale.vendor_id, currency=sale.currency
        )
        before = flows.vendor_balance(vendor_id=sale.vendor_id, currency=sale.currency)
        key = self._key("release")
        txn = self._run(
            lambda: flows.post_escrow_release(
                reference=sale.reference, vendor_id=sale.vendor_id, idempotency_key=key
            )
        )
        after = flows.vendor_balance(vendor_id=sale.vendor_id, currency=sale.currency)
        assert (txn is None) == (held.amount == 0)
        assert after.available - before.available == held
        assert flows.escrow_held_for(
            reference=sale.reference, vendor_id=sale.vendor_id, currency=sale.currency
        ) == Money.zero(sale.currency)

    @rule(vendor_id=st.sampled_from(VENDORS), currency=st.sampled_from(CURRENCIES), data=st.data())
    def payout(self, vendor_id: int, currency: str, data: st.DataObject) -> None:
        available = flows.vendor_balance(vendor_id=vendor_id, currency=currency).available.amount
        amount = Money(data.draw(amount_around(available)), currency)
        key = self._key("payout")
        txn = self._attempt(
            lambda: flows.post_payout(vendor_id=vendor_id, amount=amount, idempotency_key=key),
            allowed=amount.amount <= available,
            refusal="insufficient_balance",
        )
        if txn is not None:
            self.payouts.append(Payout(txn, vendor_id, amount))
            self.paid_out[vendor_id, currency] += amount.amount

    @precondition(lambda self: any(not p.failed for p in self.payouts))
    @rule(data=st.data())
    def payout_failed(self, data: st.DataObject) -> None:
        payout = data.draw(st.sampled_from([p for p in self.payouts if not p.failed]))
        key = self._key("payout-failed")
        self._run(lambda: flows.post_payout_failed(payout=payout.txn, idempotency_key=key))
        payout.failed = True
        self.paid_out[payout.vendor_id, payout.amount.currency] -= payout.amount.amount
        again = self._key("again")
        self._attempt(
            lambda: flows.post_payout_failed(payout=payout.txn, idempotency_key=again),
            allowed=False,
            refusal="already_reversed",
        )

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def dispute_opened(self, data: st.DataObject) -> None:
        sale = data.draw(st.sampled_from(self.sales))
        self.last_sale = sale
        amount = data.draw(amount_around(sale.refundable))
        key = self._key("dispute")
        allowed = amount <= sale.refundable
        self._attempt(
            lambda: flows.post_dispute_opened(
                reference=sale.reference,
                vendor_id=sale.vendor_id,
                amount=sale.money(amount),
                idempotency_key=key,
            ),
            allowed=allowed,
            refusal="dispute_exceeds_captured",
        )
        if allowed:
            sale.held += amount

    @precondition(lambda self: any(sale.held for sale in self.sales))
    @rule(data=st.data(), won=st.booleans())
    def dispute_settled(self, data: st.DataObject, won: bool) -> None:
        sale = data.draw(st.sampled_from([sale for sale in self.sales if sale.held]))
        self.last_sale = sale
        amount = data.draw(amount_around(sale.held))
        post = flows.post_dispute_won if won else flows.post_dispute_lost
        key = self._key("settled")
        allowed = amount <= sale.held
        self._attempt(
            lambda: post(
                reference=sale.reference,
                vendor_id=sale.vendor_id,
                amount=sale.money(amount),
                idempotency_key=key,
            ),
            allowed=allowed,
            refusal="dispute_exceeds_hold",
        )
        if allowed:
            sale.held -= amount
            if not won:
                sale.lost += amount

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        move, first_pk = data.draw(st.sampled_from(self.done))
        count = JournalTransaction.objects.count()
        with transaction.atomic():
            again = move()
        assert again is not None
        assert again.pk == first_pk
        assert JournalTransaction.objects.count() == count

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def the_journal_replays_to_the_same_balances(self) -> None:
        rows = list(
            JournalEntry.objects.values_list(
                "transaction_id",
                "transaction__kind",
                "transaction__reference",
                "account_id",
                "account__owner_type",
                "account__owner_id",
                "account__purpose",
                "currency",
                "amount",
            )
        )
        per_transaction: dict[tuple[int, str], int] = defaultdict(int)
        per_account: dict[int, int] = defaultdict(int)
        per_currency: dict[str, int] = defaultdict(int)
        escrow_per_reference: dict[tuple[str, int, str], int] = defaultdict(int)
        captured: dict[str, int] = defaultdict(int)
        refunded: dict[str, int] = defaultdict(int)
        paid_out: dict[tuple[int, str], int] = defaultdict(int)
        hold: dict[str, int] = defaultdict(int)
        # what the captures put into each piece, and what is left of it, per reference
        original: dict[tuple[str, str], int] = defaultdict(int)
        current: dict[tuple[str, str], int] = defaultdict(int)
        for txn, kind, reference, account, owner_type, owner_id, purpose, currency, amount in rows:
            assert amount != 0
            per_transaction[txn, currency] += amount
            per_account[account] += amount
            per_currency[currency] += amount
            if purpose == Purpose.ESCROW:
                escrow_per_reference[reference, owner_id, currency] += amount
            if purpose == Purpose.GATEWAY_CLEARING and kind == "capture":
                captured[reference] -= amount
            if purpose == Purpose.REFUNDS:
                refunded[reference] += amount
            if purpose == Purpose.PAID_OUT and owner_type == OwnerType.VENDOR:
                paid_out[owner_id, currency] += amount
            if purpose == Purpose.DISPUTE_HOLD:
                hold[reference] += amount
            piece = PIECES.get(purpose)
            if piece is not None:
                current[reference, piece] += amount
                if kind == "capture":
                    original[reference, piece] += amount

        # every transaction sums to zero per currency; so does everything
        assert {k: v for k, v in per_transaction.items() if v} == {}
        assert {k: v for k, v in per_currency.items() if v} == {}
        assert {k: v for k, v in ledger.trial_balance().items() if v} == {}
        assert ledger.unbalanced_transactions() == []
        # every balance the service reports is the replay's
        reported = {b.account.pk: b.balance for b in ledger.balances()}
        assert reported == {pk: per_account.get(pk, 0) for pk in reported}
        assert set(per_account) <= set(reported)
        # escrow never negative, per reference and per account
        assert all(held >= 0 for held in escrow_per_reference.values())
        for sale in self.sales:
            # refunds never exceed captures, and match the test's own bookkeeping
            assert refunded[sale.reference] == sale.refunded
            assert refunded[sale.reference] <= captured[sale.reference] == sale.gross
            assert hold[sale.reference] == sale.held
            # no piece ever gives up more than the capture put in, nor is left with more
            for piece in ("vendor", "commission", "fee"):
                left = current[sale.reference, piece]
                assert 0 <= left <= original[sale.reference, piece]
                if sale.refundable == 0 and sale.held == 0:
                    assert left == 0  # fully refunded or lost: exactly nothing left
        # paid out never negative, and exactly what the test paid out minus failures
        for (vendor_id, currency), amount in paid_out.items():
            assert amount >= 0
            assert amount == self.paid_out[vendor_id, currency]

    @invariant()
    def the_last_reference_touched_reads_back_as_the_tests_bookkeeping(self) -> None:
        # flows.reference_state is what refunds and disputes decide on; one sale per step
        # keeps the run fast (the replay above checks every sale from the raw entries)
        if self.last_sale is None:
            return
        sale = self.last_sale
        state = flows.reference_state(
            reference=sale.reference, vendor_id=sale.vendor_id, currency=sale.currency
        )
        assert state.captured.amount == sale.gross
        assert state.refunded == sale.refunded
        assert state.dispute_hold == sale.held
        assert state.refundable.amount == sale.refundable


@pytest.mark.django_db
def test_random_money_flows_keep_the_ledger_consistent() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
