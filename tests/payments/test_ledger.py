"""The ledger core: balanced postings, immutability in the ORM and in the database,
idempotency, reversals, set-based balances and the money-state guard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import isolate_apps

from agora.core.locking import NotInTransaction
from agora.payments import ledger
from agora.payments.errors import (
    ImmutableLedgerError,
    LedgerGuardError,
    PaymentError,
    UnbalancedTransaction,
)
from agora.payments.guard import in_money_change, money_change
from agora.payments.ledger import Line
from agora.payments.models import (
    AccountKey,
    JournalEntry,
    JournalTransaction,
    LedgerAccount,
    MoneyStateModel,
    OwnerType,
    Purpose,
    TransactionKind,
)

pytestmark = pytest.mark.django_db


def acct(purpose: str, currency: str = "GBP", owner_id: int = 0) -> LedgerAccount:
    owner_type = OwnerType.VENDOR if owner_id else OwnerType.PLATFORM
    return ledger.account_for(
        owner_type=owner_type, owner_id=owner_id, purpose=purpose, currency=currency
    )


@pytest.fixture
def pair() -> tuple[LedgerAccount, LedgerAccount]:
    return acct(Purpose.ADJUSTMENTS), acct(Purpose.AVAILABLE, owner_id=1)


def post_pair(
    pair: tuple[LedgerAccount, LedgerAccount], amount: int = 500, **kwargs: Any
) -> JournalTransaction:
    source, target = pair
    return ledger.post(
        kind=TransactionKind.ADJUSTMENT,
        reference="test:1",
        lines=[Line(source, -amount), Line(target, amount)],
        **kwargs,
    )


# --- posting -------------------------------------------------------------------------------


def test_a_balanced_posting_records_one_transaction_with_its_entries(pair: Any) -> None:
    txn = post_pair(pair, 500, memo="opening")

    assert txn.kind == "adjustment"
    assert txn.reference == "test:1"
    assert txn.memo == "opening"
    assert sorted(txn.entries.values_list("account_id", "amount", "currency")) == sorted(
        [(pair[0].pk, -500, "GBP"), (pair[1].pk, 500, "GBP")]
    )
    assert ledger.balance(pair[0]) == -500
    assert ledger.balance(pair[1]) == 500
    assert ledger.trial_balance() == {"GBP": 0}


def test_the_entries_are_written_in_one_insert(pair: Any, django_assert_num_queries: Any) -> None:
    source, target = pair
    lines = [Line(source, -300), Line(target, 100), Line(target, 200)]
    # PostgreSQL: one statement for the transaction and its entries; SQLite: one INSERT
    # for the transaction, one for all three entries. No look-up, no savepoint.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        txn = ledger.post(kind=TransactionKind.ADJUSTMENT, reference="test:1", lines=lines)
    assert sorted(txn.entries.values_list("account_id", "amount")) == sorted(
        [(source.pk, -300), (target.pk, 100), (target.pk, 200)]
    )


def test_a_capture_is_one_statement_once_its_accounts_exist(
    django_assert_num_queries: Any,
) -> None:
    from agora.core.money import Money
    from agora.payments import flows

    def capture(n: int) -> JournalTransaction:
        gross = Money(100_00, "GBP")
        return flows.post_capture(
            reference=f"booking:{n}",
            vendor_id=7,
            gross=gross,
            commission=gross.percent(300),
            processing_fee=gross.percent(290),
            idempotency_key=f"capture:{n}",
        )

    # the first capture creates the vendor's and the platform's accounts (slow path)
    first = capture(1)
    # a later one: the idempotency key, the other-vendor check, the account look-up and
    # both INSERTs in one statement (two on SQLite), without a savepoint
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        second = capture(2)
    # a retry: the INSERT does nothing (the key exists); then the look-ups of the slow
    # path (another vendor's reference? the first posting, and its fingerprint)
    with django_assert_num_queries(4):
        assert capture(2).pk == second.pk
    assert len(entries_amounts(first)) == len(entries_amounts(second)) == 4
    assert ledger.trial_balance() == {"GBP": 0}


def entries_amounts(txn: JournalTransaction) -> list[int]:
    return sorted(txn.entries.values_list("amount", flat=True))


def test_a_posting_to_new_accounts_creates_them_and_writes_every_entry() -> None:
    # one line on an existing account, two on accounts that do not exist yet: the fast
    # statement writes the first, the slow path the others, all in the same transaction
    existing = acct(Purpose.ADJUSTMENTS)
    new_escrow = AccountKey(OwnerType.VENDOR, 11, Purpose.ESCROW, "GBP")
    new_available = AccountKey(OwnerType.VENDOR, 11, Purpose.AVAILABLE, "GBP")

    txn = ledger.post(
        kind=TransactionKind.ADJUSTMENT,
        reference="test:new",
        lines=[Line(existing, -700), Line(new_escrow, 300), Line(new_available, 400)],
    )

    assert sorted(
        (str(entry.account.key), entry.amount) for entry in txn.entries.select_related("account")
    ) == [
        ("platform:0:adjustments:GBP", -700),
        ("vendor:11:available:GBP", 400),
        ("vendor:11:escrow:GBP", 300),
    ]
    assert ledger.unbalanced_transactions() == []


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ([], "needs entries"),
        ([-500, 499], "sum to zero"),
        ([-500, 500, 0], "never 0"),
        ([500], "sum to zero"),
    ],
)
def test_empty_zero_and_unbalanced_postings_are_refused_and_write_nothing(
    pair: Any, amounts: list[int], message: str
) -> None:
    lines = [Line(pair[i % 2], amount) for i, amount in enumerate(amounts)]

    with pytest.raises(UnbalancedTransaction, match=message):
        ledger.post(kind=TransactionKind.ADJUSTMENT, reference="test:1", lines=lines)

    assert not JournalTransaction.objects.exists()
    assert not JournalEntry.objects.exists()


def test_each_currency_must_balance_on_its_own() -> None:
    gbp_out, gbp_in = acct(Purpose.ADJUSTMENTS), acct(Purpose.AVAILABLE, owner_id=1)
    aud_out, aud_in = acct(Purpose.ADJUSTMENTS, "AUD"), acct(Purpose.AVAILABLE, "AUD", 1)

    # £5 out and A$5 in nets to zero only if currencies were mixed up: refused
    with pytest.raises(UnbalancedTransaction, match="'GBP': -500"):
        ledger.post(
            kind=TransactionKind.ADJUSTMENT,
            reference="fx:1",
            lines=[Line(gbp_out, -500), Line(aud_in, 500)],
        )
    # each currency balanced within one transaction: fine
    ledger.post(
        kind=TransactionKind.ADJUSTMENT,
        reference="fx:2",
        lines=[Line(gbp_out, -500), Line(gbp_in, 500), Line(aud_out, -900), Line(aud_in, 900)],
    )

    assert ledger.trial_balance() == {"GBP": 0, "AUD": 0}
    assert JournalTransaction.objects.count() == 1


def test_lines_may_name_accounts_by_key_which_are_created_on_first_use() -> None:
    source = AccountKey(OwnerType.GATEWAY, 0, Purpose.GATEWAY_CLEARING, "GBP")
    target = AccountKey(OwnerType.VENDOR, 3, Purpose.ESCROW, "GBP")

    ledger.post(
        kind=TransactionKind.ADJUSTMENT,
        reference="test:1",
        lines=[Line(source, -250), Line(target, 250)],
    )

    assert {a.key for a in LedgerAccount.objects.all()} == {source, target}
    assert ledger.balance(ledger.account_for(**_key_kwargs(target))) == 250


def _key_kwargs(key: AccountKey) -> dict[str, Any]:
    return {
        "owner_type": key.owner_type,
        "owner_id": key.owner_id,
        "purpose": key.purpose,
        "currency": key.currency,
    }


@pytest.mark.django_db(transaction=True)
def test_posting_outside_a_transaction_is_refused() -> None:
    source, target = acct(Purpose.ADJUSTMENTS), acct(Purpose.AVAILABLE, owner_id=1)

    with pytest.raises(NotInTransaction):
        ledger.post(
            kind=TransactionKind.ADJUSTMENT,
            reference="test:1",
            lines=[Line(source, -1), Line(target, 1)],
        )
    assert not JournalTransaction.objects.exists()


def test_account_for_returns_the_same_account_and_checks_its_owner() -> None:
    first = ledger.account_for(owner_type="vendor", owner_id=4, purpose="escrow", currency="GBP")
    again = ledger.account_for(owner_type="vendor", owner_id=4, purpose="escrow", currency="GBP")

    assert first.pk == again.pk
    assert LedgerAccount.objects.count() == 1
    with pytest.raises(ValueError, match="owner_id 0"):
        ledger.account_for(owner_type="platform", owner_id=4, purpose="commission", currency="GBP")
    with pytest.raises(ValueError, match="positive owner_id"):
        ledger.account_for(owner_type="vendor", owner_id=0, purpose="escrow", currency="GBP")
    with pytest.raises(ValueError, match="unsupported currency"):
        ledger.account_for(owner_type="platform", purpose="commission", currency="XXX")


def test_the_database_keeps_accounts_unique_and_owners_consistent() -> None:
    LedgerAccount.objects.create(owner_type="platform", purpose="commission", currency="GBP")

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(owner_type="platform", purpose="commission", currency="GBP")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(
            owner_type="platform", owner_id=9, purpose="commission", currency="GBP"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(owner_type="vendor", purpose="escrow", currency="GBP")


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_transaction_and_moves_nothing(
    pair: Any,
) -> None:
    first = post_pair(pair, 500, idempotency_key="k-1")
    again = post_pair(pair, 500, idempotency_key="k-1")

    assert again.pk == first.pk
    assert JournalTransaction.objects.count() == 1
    assert ledger.balance(pair[1]) == 500


def test_reusing_a_key_for_a_different_posting_is_422_and_moves_nothing(pair: Any) -> None:
    post_pair(pair, 500, idempotency_key="k-1")

    with pytest.raises(PaymentError) as caught:
        post_pair(pair, 700, idempotency_key="k-1")

    assert (caught.value.status, caught.value.code) == (422, "idempotency_key_reused")
    assert ledger.balance(pair[1]) == 500


# --- reversals -------------------------------------------------------------------------------


def test_a_reversal_negates_every_entry_once(pair: Any) -> None:
    original = post_pair(pair, 500)

    reversal = ledger.reverse(original=original, reason="typo", idempotency_key="rev-1")

    assert reversal.kind == "reversal"
    assert reversal.reverses_id == original.pk
    assert reversal.reference == original.reference
    assert reversal.memo == "typo"
    assert sorted(reversal.entries.values_list("account_id", "amount")) == sorted(
        [(pair[0].pk, 500), (pair[1].pk, -500)]
    )
    assert ledger.balance(pair[0]) == ledger.balance(pair[1]) == 0
    # the retry with the same key gets the same reversal back
    assert ledger.reverse(original=original, reason="typo", idempotency_key="rev-1") == reversal
    # a second, different reversal is refused
    with pytest.raises(PaymentError) as caught:
        ledger.reverse(original=original, reason="again")
    assert caught.value.code == "already_reversed"
    # so is reversing the reversal (post a new transaction instead)
    with pytest.raises(PaymentError) as caught:
        ledger.reverse(original=reversal, reason="undo")
    assert caught.value.code == "not_reversible"
    assert JournalTransaction.objects.count() == 2


def test_the_database_allows_one_reversal_per_transaction(pair: Any) -> None:
    original = post_pair(pair, 500)
    ledger.reverse(original=original, reason="first")

    # even when the service's own check is skipped (a concurrent reversal), the unique
    # index stops the second
    with pytest.raises(PaymentError, match="already been reversed"):
        ledger.post(
            kind=TransactionKind.REVERSAL,
            reference=original.reference,
            lines=[Line(pair[0], 500), Line(pair[1], -500)],
            reverses=original,
        )
    assert JournalTransaction.objects.count() == 2


# --- immutability: the ORM ------------------------------------------------------------------


def test_the_orm_refuses_to_update_or_delete_ledger_rows(pair: Any) -> None:
    txn = post_pair(pair, 500)
    entry = txn.entries.first()
    assert entry is not None

    entry.amount = 5000
    with pytest.raises(ImmutableLedgerError, match="immutable"):
        entry.save()
    with pytest.raises(ImmutableLedgerError):
        entry.delete()
    txn.memo = "changed"
    with pytest.raises(ImmutableLedgerError):
        txn.save()
    with pytest.raises(ImmutableLedgerError):
        txn.delete()
    pair[0].currency = "AUD"
    with pytest.raises(ImmutableLedgerError):
        pair[0].save()
    with pytest.raises(ImmutableLedgerError):
        JournalEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(ImmutableLedgerError):
        JournalEntry.objects.all().delete()
    with pytest.raises(ImmutableLedgerError):
        JournalTransaction.objects.all().update(memo="x")
    with pytest.raises(ImmutableLedgerError):
        JournalEntry.objects.bulk_update([entry], ["amount"])

    assert ledger.balance(pair[1]) == 500
    assert JournalTransaction.objects.get().memo == ""


# --- immutability and integrity: the database -----------------------------------------------


RAW_CHANGES = [
    "UPDATE payments_journalentry SET amount = amount * 10",
    "DELETE FROM payments_journalentry",
    "UPDATE payments_journaltransaction SET memo = 'rewritten'",
    "DELETE FROM payments_journaltransaction",
    "UPDATE payments_ledgeraccount SET currency = 'AUD'",
]


@pytest.mark.parametrize("sql", RAW_CHANGES)
def test_the_database_rejects_raw_updates_and_deletes_of_the_ledger(pair: Any, sql: str) -> None:
    post_pair(pair, 500)

    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert ledger.balance(pair[1]) == 500
    assert JournalEntry.objects.count() == 2
    assert JournalTransaction.objects.get().memo == ""
    assert set(LedgerAccount.objects.values_list("currency", flat=True)) == {"GBP"}


def _raw_entry(txn_id: int, account_id: int, amount: int, currency: str = "GBP") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_journalentry (transaction_id, account_id, amount, currency)"
            " VALUES (%s, %s, %s, %s)",
            [txn_id, account_id, amount, currency],
        )


def test_the_database_rejects_zero_entries_and_currencies_that_differ_from_the_account(
    pair: Any,
) -> None:
    txn = post_pair(pair, 500)

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_entry(txn.pk, pair[0].pk, 0)
    with pytest.raises(IntegrityError, match="currency"), transaction.atomic():
        _raw_entry(txn.pk, pair[0].pk, 100, "AUD")


def test_the_ledger_triggers_are_installed() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {row[0] for row in cursor.fetchall()}
    expected = {
        "sqlite": {
            "payments_journalentry_no_update",
            "payments_journalentry_no_delete",
            "payments_journaltransaction_no_update",
            "payments_journaltransaction_no_delete",
            "payments_ledgeraccount_no_update",
            "payments_journalentry_currency",
        },
        "postgresql": {
            "payments_journalentry_immutable",
            "payments_journaltransaction_immutable",
            "payments_ledgeraccount_immutable",
            "payments_journalentry_currency",
            "payments_journalentry_balanced",
            "payments_journaltransaction_has_entries",
        },
    }[connection.vendor]
    assert expected <= names


def test_the_audit_finds_an_unbalanced_transaction_written_behind_the_ledgers_back(
    pair: Any,
) -> None:
    txn = post_pair(pair, 500)
    assert ledger.unbalanced_transactions() == []

    # raw SQL skipping ledger.post: SQLite accepts it (no deferred triggers), PostgreSQL
    # would refuse it at commit; the audit sees it on both before the savepoint rolls back
    with transaction.atomic():
        _raw_entry(txn.pk, pair[1].pk, 7)
        assert ledger.unbalanced_transactions() == [
            ledger.UnbalancedTotal(transaction_id=txn.pk, currency="GBP", total=7)
        ]
        assert ledger.trial_balance() == {"GBP": 7}
        transaction.set_rollback(True)

    assert ledger.unbalanced_transactions() == []


def _skip_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite has no deferred triggers: there the balance rule is enforced by "
            "ledger.post and audited by ledger.unbalanced_transactions()"
        )


@pytest.mark.django_db(transaction=True)
def test_postgresql_rejects_an_unbalanced_raw_insert_at_commit() -> None:
    _skip_unless_postgresql()
    with transaction.atomic():
        txn = post_pair((acct(Purpose.ADJUSTMENTS), acct(Purpose.AVAILABLE, owner_id=1)), 500)
    account_id = txn.entries.first().account_id  # type: ignore[union-attr]

    # the INSERT is accepted; the COMMIT is refused
    with pytest.raises(IntegrityError, match="unbalanced: GBP entries sum to 7"):  # noqa: SIM117
        with transaction.atomic():
            _raw_entry(txn.pk, account_id, 7)

    assert ledger.trial_balance() == {"GBP": 0}
    assert JournalEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_postgresql_rejects_a_transaction_without_entries_at_commit() -> None:
    _skip_unless_postgresql()

    with pytest.raises(IntegrityError, match="has no entries"), transaction.atomic():
        JournalTransaction.objects.create(kind="adjustment", reference="empty:1")

    assert not JournalTransaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_postgresql_accepts_a_balanced_raw_posting() -> None:
    _skip_unless_postgresql()
    source, target = acct(Purpose.ADJUSTMENTS), acct(Purpose.AVAILABLE, owner_id=1)

    with transaction.atomic():
        txn = JournalTransaction.objects.create(kind="adjustment", reference="raw:1")
        _raw_entry(txn.pk, source.pk, -40)
        _raw_entry(txn.pk, target.pk, 15)
        _raw_entry(txn.pk, target.pk, 25)

    assert ledger.balance(target) == 40


@pytest.mark.django_db(transaction=True)
def test_flush_may_still_empty_the_ledger() -> None:
    # TransactionTestCase flushes after each test (DELETE FROM on SQLite): the immutability
    # triggers must let the `flush` command through, and only it.
    from django.core.management import call_command

    with transaction.atomic():
        post_pair((acct(Purpose.ADJUSTMENTS), acct(Purpose.AVAILABLE, owner_id=1)), 500)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM payments_journalentry")

    call_command("flush", interactive=False, verbosity=0)

    assert not JournalEntry.objects.exists()
    assert not JournalTransaction.objects.exists()


# --- balances --------------------------------------------------------------------------------


def test_balances_are_one_grouped_query_whatever_the_number_of_accounts(
    django_assert_max_num_queries: Any,
) -> None:
    source = acct(Purpose.ADJUSTMENTS)
    for vendor_id in range(1, 21):
        ledger.post(
            kind=TransactionKind.ADJUSTMENT,
            reference=f"v:{vendor_id}",
            lines=[
                Line(source, -vendor_id),
                Line(acct(Purpose.AVAILABLE, owner_id=vendor_id), vendor_id),
            ],
        )
    acct(Purpose.ESCROW, owner_id=99)  # never used: balance 0

    with django_assert_max_num_queries(1):
        result = ledger.balances()
    with django_assert_max_num_queries(1):
        vendors_only = ledger.balances(owner_type=OwnerType.VENDOR, purpose=Purpose.AVAILABLE)
    with django_assert_max_num_queries(1):
        totals = ledger.trial_balance()

    by_key = {str(b.account.key): b.balance for b in result}
    assert by_key["platform:0:adjustments:GBP"] == -210
    assert by_key["vendor:20:available:GBP"] == 20
    assert by_key["vendor:99:escrow:GBP"] == 0
    assert [b.balance for b in vendors_only] == list(range(1, 21))
    assert totals == {"GBP": 0}


# --- the money-state guard -------------------------------------------------------------------


@pytest.fixture
def probe() -> Iterator[type[MoneyStateModel]]:
    """A concrete MoneyStateModel with a table that lives for this test's transaction."""
    with isolate_apps("agora.payments"):

        class PaymentProbe(MoneyStateModel):
            id = models.IntegerField(primary_key=True)
            status = models.CharField(max_length=20)

            class Meta:
                app_label = "payments"
                db_table = "payments_test_paymentprobe"

        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE payments_test_paymentprobe"
                " (id INTEGER PRIMARY KEY, status VARCHAR(20) NOT NULL)"
            )
        yield PaymentProbe


def capture_without_posting(probe: Any) -> None:
    with money_change():
        probe.objects.create(id=1, status="captured")  # ...and no ledger.post: a bug


def test_money_state_cannot_change_outside_money_change(probe: Any) -> None:
    with pytest.raises(LedgerGuardError, match="only change inside"):
        probe.objects.create(id=1, status="captured")
    with pytest.raises(LedgerGuardError):
        probe.objects.filter(id=1).update(status="refunded")
    with pytest.raises(LedgerGuardError):
        probe.objects.bulk_create([probe(id=2, status="captured")])
    assert not probe.objects.exists()


def test_money_state_without_ledger_entries_fails_loudly_and_rolls_back(
    probe: Any, pair: Any
) -> None:
    with pytest.raises(LedgerGuardError, match=r"without ledger entries.*PaymentProbe"):
        capture_without_posting(probe)

    assert not probe.objects.exists()


def test_money_state_with_its_ledger_entries_commits(probe: Any, pair: Any) -> None:
    with money_change():
        payment = probe.objects.create(id=1, status="captured")
        post_pair(pair, 500)
        payment.status = "refunded"
        payment.save()

    assert probe.objects.get().status == "refunded"
    assert ledger.balance(pair[1]) == 500


def test_a_posting_rolled_back_inside_the_block_does_not_count(probe: Any, pair: Any) -> None:
    def capture_with_a_posting_rolled_back() -> None:
        with money_change():
            probe.objects.create(id=1, status="captured")
            with transaction.atomic():
                post_pair(pair, 500)
                transaction.set_rollback(True)

    with pytest.raises(LedgerGuardError):
        capture_with_a_posting_rolled_back()

    assert not probe.objects.exists()
    assert not JournalTransaction.objects.exists()


def test_a_replayed_posting_counts_as_the_entries_for_the_change(probe: Any, pair: Any) -> None:
    post_pair(pair, 500, idempotency_key="pay-1")

    with money_change():
        probe.objects.create(id=1, status="captured")
        post_pair(pair, 500, idempotency_key="pay-1")  # a retry: the entries exist

    assert probe.objects.exists()
    assert JournalTransaction.objects.count() == 1


def test_ledger_only_changes_need_no_money_state(pair: Any) -> None:
    with money_change():
        post_pair(pair, 500)
    assert ledger.balance(pair[1]) == 500


def test_the_guard_bookkeeping_is_per_thread() -> None:
    seen_in_thread: list[bool] = []

    with money_change():
        assert in_money_change()
        worker = threading.Thread(target=lambda: seen_in_thread.append(in_money_change()))
        worker.start()
        worker.join()

    assert seen_in_thread == [False]
    assert not in_money_change()
