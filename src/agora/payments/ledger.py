"""The double-entry ledger's services: accounts, postings, reversals, balances.

Everything that moves money ends in `post`, which writes one `JournalTransaction` and its
entries (one statement on PostgreSQL) after checking they sum to zero per currency.
Nothing is ever updated or deleted; a mistake is corrected by `reverse`, which posts the
negated entries.
Balances are always sums of entries — there is no cached balance to drift.
See models.py for the sign convention and what the database enforces on its own.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, router
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce

from agora.core import clock
from agora.core.locking import require_transaction
from agora.payments.errors import (
    PaymentError,
    PaymentErrorCode,
    UnbalancedTransaction,
    key_reused,
)
from agora.payments.guard import note_ledger_post
from agora.payments.models import (
    PLATFORM_OWNER_ID,
    AccountKey,
    JournalEntry,
    JournalTransaction,
    LedgerAccount,
    TransactionKind,
)

_KINDS = frozenset(TransactionKind.values)
MAX_REFERENCE_LENGTH = 100
MAX_KEY_LENGTH = 255
# Reversing these would re-apply the original; post a new transaction instead.
_NOT_REVERSIBLE = frozenset({TransactionKind.REVERSAL, TransactionKind.PAYOUT_FAILED})


@dataclass(frozen=True, slots=True)
class Line:
    """One entry to post: `amount` minor units (signed, never 0) on `account`, given as a
    saved `LedgerAccount` or as an `AccountKey` that `post` resolves (creating it if new).
    The currency is the account's."""

    account: LedgerAccount | AccountKey
    amount: int

    @property
    def key(self) -> AccountKey:
        return self.account.key if isinstance(self.account, LedgerAccount) else self.account

    @property
    def currency(self) -> str:
        return self.account.currency


@dataclass(frozen=True, slots=True)
class AccountBalance:
    account: LedgerAccount
    balance: int


@dataclass(frozen=True, slots=True)
class UnbalancedTotal:
    transaction_id: int
    currency: str
    total: int


# --- accounts -------------------------------------------------------------------------------


def account_for(
    *, owner_type: str, owner_id: int = PLATFORM_OWNER_ID, purpose: str, currency: str
) -> LedgerAccount:
    """The account for (owner, purpose, currency), created on first use.

    Race-safe: two requests creating the same account meet at the unique constraint; the
    loser's INSERT fails inside a savepoint and it reads the winner's row (get_or_create).
    """
    key = AccountKey(owner_type, owner_id, purpose, currency)
    return accounts_for(keys=[key])[key]


def accounts_for(*, keys: Iterable[AccountKey]) -> dict[AccountKey, LedgerAccount]:
    """Several accounts in one query (plus one insert per account that did not exist)."""
    wanted = set(keys)
    if not wanted:
        return {}
    # A superset by column (cheap to build and to plan), narrowed to the wanted keys here.
    candidates = LedgerAccount.objects.filter(
        owner_type__in={key.owner_type for key in wanted},
        owner_id__in={key.owner_id for key in wanted},
        purpose__in={key.purpose for key in wanted},
        currency__in={key.currency for key in wanted},
    )
    found = {account.key: account for account in candidates if account.key in wanted}
    # Created in a stable order: two transactions creating the same new accounts wait on
    # each other's unique-index entries in the same order, never crosswise (a deadlock).
    for key in sorted(wanted - found.keys(), key=str):
        found[key], _ = LedgerAccount.objects.get_or_create(
            owner_type=key.owner_type,
            owner_id=key.owner_id,
            purpose=key.purpose,
            currency=key.currency,
        )
    return found


# --- posting --------------------------------------------------------------------------------


def fingerprint(*parts: object) -> str:
    """A digest of what a posting means, to tell a retry from a reused idempotency key."""
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()


def _lines_fingerprint(kind: str, reference: str, lines: Sequence[Line]) -> str:
    return fingerprint(kind, reference, *sorted(f"{line.key}={line.amount}" for line in lines))


def _check_lines(lines: Sequence[Line]) -> None:
    if not lines:
        raise UnbalancedTransaction("a journal transaction needs entries")
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        if not isinstance(line.amount, int) or isinstance(line.amount, bool):
            raise TypeError(f"entry amount must be an int of minor units, not {line.amount!r}")
        if line.amount == 0:
            raise UnbalancedTransaction(f"zero entry on {line.key}: entries are never 0")
        if isinstance(line.account, LedgerAccount) and line.account.pk is None:
            raise ValueError("post lines on saved accounts, or on AccountKeys")
        totals[line.currency] += line.amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedTransaction(f"entries must sum to zero per currency, got {unbalanced}")


def replayed(idempotency_key: str, expected_fingerprint: str) -> JournalTransaction | None:
    """The transaction already posted under `idempotency_key`, if any.

    Raises PaymentError `idempotency_key_reused` (422) when it was posted for something
    else. A replay counts as a ledger post for the money-state guard: the entries for this
    change are in the ledger.
    """
    existing = JournalTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.fingerprint != expected_fingerprint:
        raise key_reused(idempotency_key)
    note_ledger_post(existing.pk)
    return existing


@dataclass(frozen=True, slots=True)
class SoleOwner:
    """For `post(sole_owner=...)`: of the owners of type `owner_type`, only `owner_id` may
    have entries under the posting's reference (a reference is one vendor's sale)."""

    owner_type: str
    owner_id: int


def post(
    *,
    kind: str,
    reference: str,
    lines: Sequence[Line],
    idempotency_key: str | None = None,
    memo: str = "",
    fingerprint: str | None = None,
    reverses: JournalTransaction | None = None,
    sole_owner: SoleOwner | None = None,
) -> JournalTransaction:
    """Record one balanced journal transaction; return it.

    Precondition: inside `transaction.atomic()` — the entries land with the change they
    record or not at all. Refuses no lines, zero lines and lines that do not sum to zero
    per currency (`UnbalancedTransaction`, a bug in the caller).

    Idempotent by `idempotency_key`: a second call with the same key returns the first
    transaction and moves nothing — also when both run at once: the key's unique index
    makes the second INSERT do nothing (waiting, on PostgreSQL, for the first to commit),
    and the winner's transaction is returned. Callers whose lines depend on the ledger's
    state (refunds, releases) call `replayed` before computing them.
    `fingerprint` (default: a digest of kind, reference and lines) tells a retry from a
    different posting that reused the key (422 `idempotency_key_reused`).
    `sole_owner`: refuse (409 `reference_vendor_mismatch`) when another owner of that type
    already has entries under `reference`.

    Cost, on the happy path (every account exists, new key): one statement on PostgreSQL
    (a call of `payments_post`), two on SQLite, and no savepoint — see `_insert`. Lines
    on accounts that do not exist yet take a slower path that creates them (`_complete`).
    """
    require_transaction()
    if kind not in _KINDS:
        raise ValueError(f"unknown transaction kind {kind!r}")
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise ValueError(f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
        raise ValueError(f"idempotency key must be 1 to {MAX_KEY_LENGTH} characters")
    _check_lines(lines)
    record = JournalTransaction(
        kind=kind,
        reference=reference,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint or _lines_fingerprint(kind, reference, lines),
        memo=memo,
        reverses=reverses,
        created_at=clock.now(),
    )
    using = router.db_for_write(JournalTransaction)
    inserted = _insert(record, lines, sole_owner, using)
    if inserted is None:
        return _not_inserted(record, sole_owner)
    record.pk, entries_written = inserted
    record._state.adding = False
    record._state.db = using
    if entries_written < len(lines):
        _complete(record, lines)
    note_ledger_post(record.pk)
    return record


# The happy path, written by hand: the ORM would need a SELECT for the accounts, a
# savepoint around the transaction's INSERT (to survive a lost race on the idempotency key)
# and a second INSERT — four round trips more per posting on PostgreSQL. Accounts are
# resolved by their unique key inside the INSERT; `ON CONFLICT DO NOTHING` turns a
# duplicate idempotency key or reversal into "no row" instead of an error that would
# abort the surrounding transaction.
#
# PostgreSQL: one call of `payments_post` (migration 0006), whose statements PL/pgSQL
# plans once per connection instead of once per posting.
_POST_FUNCTION = (
    "SELECT new_transaction_id, entries_written FROM payments_post("
    "%s, %s, %s, %s, %s, %s::timestamptz, %s::bigint, %s::text, %s::bigint,"
    " %s::text[], %s::bigint[], %s::text[], %s::text[], %s::bigint[])"
)
# SQLite: two statements (no data-modifying CTEs there, but a statement costs no round
# trip), with the same conditions as the function.
_TRANSACTION_INSERT = """
    INSERT INTO payments_journaltransaction
        (kind, reference, idempotency_key, fingerprint, memo, created_at, reverses_id)
    SELECT %s, %s, %s, %s, %s, %s, %s
    WHERE {condition}
    ON CONFLICT DO NOTHING
"""
# Written so that the planner starts from the reference's own transactions (a handful)
# rather than from every entry of every vendor account: SQLite, without statistics, would
# otherwise pick the owner_type index and scan all vendors' entries.
_OTHER_OWNER = """NOT EXISTS (
        SELECT 1 FROM payments_journaltransaction earlier
        WHERE earlier.reference = %s AND EXISTS (
            SELECT 1 FROM payments_journalentry entry
            JOIN payments_ledgeraccount owned ON owned.id = entry.account_id
            WHERE entry.transaction_id = earlier.id
              AND owned.owner_type = %s AND owned.owner_id <> %s
        )
    )"""
# The VALUES columns are column1..column6 (owner type, owner id, purpose, currency,
# amount, position); the statement starts with INSERT because Python's sqlite3 reports no
# rowcount for one that starts with WITH.
_ENTRIES_INSERT = """
    INSERT INTO payments_journalentry (transaction_id, account_id, amount, currency)
    SELECT %s, account.id, line.column5, account.currency
    FROM (VALUES {values}) AS line
    JOIN payments_ledgeraccount account
      ON account.owner_type = line.column1 AND account.owner_id = line.column2
     AND account.purpose = line.column3 AND account.currency = line.column4
    ORDER BY line.column6
"""


@functools.cache
def _sqlite_statements(line_count: int, sole_owner: bool) -> tuple[str, str]:
    """SQLite's two statements for `line_count` lines, with or without the sole-owner
    condition. Built from constants only (no input reaches the text), once per shape."""
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * line_count)
    return (
        _TRANSACTION_INSERT.format(condition=_OTHER_OWNER if sole_owner else "1 = 1"),
        _ENTRIES_INSERT.format(values=values),
    )


def _insert(
    record: JournalTransaction, lines: Sequence[Line], sole_owner: SoleOwner | None, using: str
) -> tuple[int, int] | None:
    """Insert the transaction and the entries of the lines whose accounts exist.

    Returns (transaction id, entries written), or None when the transaction was not
    inserted: its idempotency key or reversal exists, or `sole_owner` refused it.
    """
    connection = connections[using]
    created_at = connection.ops.adapt_datetimefield_value(record.created_at)
    head: list[Any] = [record.kind, record.reference, record.idempotency_key, record.fingerprint]
    head += [record.memo, created_at, record.reverses_id]
    keys = [line.key for line in lines]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _POST_FUNCTION,
                [
                    *head,
                    sole_owner.owner_type if sole_owner else None,
                    sole_owner.owner_id if sole_owner else None,
                    [key.owner_type for key in keys],
                    [key.owner_id for key in keys],
                    [key.purpose for key in keys],
                    [key.currency for key in keys],
                    [line.amount for line in lines],
                ],
            )
            transaction_id, written = cursor.fetchone()
            return None if transaction_id is None else (transaction_id, written)
        insert_transaction, insert_entries = _sqlite_statements(len(lines), sole_owner is not None)
        if sole_owner is not None:
            head += [record.reference, sole_owner.owner_type, sole_owner.owner_id]
        cursor.execute(insert_transaction, head)
        if cursor.rowcount != 1:
            return None
        transaction_id = cursor.lastrowid
        values: list[Any] = [transaction_id]
        for position, (key, line) in enumerate(zip(keys, lines, strict=True)):
            values += [key.owner_type, key.owner_id, key.purpose, key.currency, line.amount]
            values.append(position)
        cursor.execute(insert_entries, values)
        return transaction_id, cursor.rowcount


def _complete(record: JournalTransaction, lines: Sequence[Line]) -> None:
    """Write the entries `_insert` skipped because their accounts did not exist yet:
    create the accounts (race-safe), then insert what is missing. The first posting to a
    new vendor's accounts comes here; every later one does not."""
    by_key = accounts_for(keys=[line.key for line in lines])
    written = Counter(
        JournalEntry.objects.filter(transaction_id=record.pk).values_list("account_id", "amount")
    )
    missing = []
    for line in lines:
        account = by_key[line.key]
        if written[(account.pk, line.amount)] > 0:
            written[(account.pk, line.amount)] -= 1
            continue
        missing.append(
            JournalEntry(
                transaction=record, account=account, amount=line.amount, currency=line.currency
            )
        )
    JournalEntry.objects.bulk_create(missing)


def _not_inserted(record: JournalTransaction, sole_owner: SoleOwner | None) -> JournalTransaction:
    """Why `_insert` wrote nothing: another owner's reference, a retry, or a second
    reversal. Only reached off the happy path, so the look-ups cost nothing there."""
    if sole_owner is not None and (
        JournalEntry.objects.filter(
            transaction_id__in=list(
                JournalTransaction.objects.filter(reference=record.reference).values_list(
                    "pk", flat=True
                )
            ),
            account__owner_type=sole_owner.owner_type,
        )
        .exclude(account__owner_id=sole_owner.owner_id)
        .exists()
    ):
        raise PaymentError(
            f"Reference {record.reference!r} belongs to another {sole_owner.owner_type}'s sale.",
            code=PaymentErrorCode.REFERENCE_VENDOR_MISMATCH,
        )
    if record.idempotency_key is not None and (
        winner := replayed(record.idempotency_key, record.fingerprint)
    ):
        return winner
    if record.reverses is not None and (
        JournalTransaction.objects.filter(reverses=record.reverses).exists()
    ):
        raise _already_reversed(record.reverses)
    raise IntegrityError(f"journal transaction for {record.reference!r} was not inserted")


def _already_reversed(original: JournalTransaction) -> PaymentError:
    return PaymentError(
        f"Journal transaction #{original.pk} has already been reversed.",
        code=PaymentErrorCode.ALREADY_REVERSED,
    )


def reverse(
    *, original: JournalTransaction, reason: str, idempotency_key: str | None = None
) -> JournalTransaction:
    """Correct `original` by posting its negated entries (kind `reversal`), once only."""
    return post_reversal(
        original=original,
        kind=TransactionKind.REVERSAL,
        memo=reason,
        idempotency_key=idempotency_key,
    )


def post_reversal(
    *,
    original: JournalTransaction,
    kind: str,
    memo: str,
    idempotency_key: str | None = None,
) -> JournalTransaction:
    """Post the negation of `original` as `kind` (reversal, payout_failed), at most once.

    A transaction has at most one reversal (unique `reverses`), so a second attempt — also
    a concurrent one — gets 409 `already_reversed`; a retry with the first attempt's
    idempotency key gets the first reversal back.
    """
    require_transaction()
    if original.kind in _NOT_REVERSIBLE:
        raise PaymentError(
            f"A {original.kind} transaction cannot be reversed; post a new transaction.",
            code=PaymentErrorCode.NOT_REVERSIBLE,
        )
    existing = JournalTransaction.objects.filter(reverses=original).first()
    if existing is not None:
        if idempotency_key is not None and existing.idempotency_key == idempotency_key:
            note_ledger_post(existing.pk)
            return existing
        raise _already_reversed(original)
    lines = [
        Line(entry.account, -entry.amount)
        for entry in original.entries.select_related("account").order_by("pk")
    ]
    return post(
        kind=kind,
        reference=original.reference,
        lines=lines,
        idempotency_key=idempotency_key,
        memo=memo,
        reverses=original,
    )


# --- balances ------------------------------------------------------------------------------


def balance(account: LedgerAccount) -> int:
    """The account's balance: the sum of its entries (an index-only SUM)."""
    total = JournalEntry.objects.filter(account=account).aggregate(
        total=Coalesce(Sum("amount"), Value(0))
    )["total"]
    return int(total)


def balances(
    *,
    accounts: Iterable[LedgerAccount] | None = None,
    owner_type: str | None = None,
    owner_id: int | None = None,
    purpose: str | None = None,
    currency: str | None = None,
) -> list[AccountBalance]:
    """Balances of the accounts matching every given filter, in one grouped query."""
    queryset = LedgerAccount.objects.all()
    if accounts is not None:
        queryset = queryset.filter(pk__in=[account.pk for account in accounts])
    if owner_type is not None:
        queryset = queryset.filter(owner_type=owner_type)
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    if purpose is not None:
        queryset = queryset.filter(purpose=purpose)
    if currency is not None:
        queryset = queryset.filter(currency=currency)
    annotated = queryset.annotate(total=Coalesce(Sum("entries__amount"), Value(0))).order_by(
        "owner_type", "owner_id", "purpose", "currency"
    )
    return [AccountBalance(account, int(account.total)) for account in annotated]


def trial_balance() -> dict[str, int]:
    """Sum of all entries per currency. Always 0 for every currency: anything else is a
    ledger bug."""
    rows = JournalEntry.objects.values("currency").annotate(total=Sum("amount")).order_by()
    return {row["currency"]: int(row["total"]) for row in rows}


def unbalanced_transactions() -> list[UnbalancedTotal]:
    """Every (transaction, currency) whose entries do not sum to zero — always empty.

    An audit for both databases (on SQLite, where no deferred trigger checks at commit,
    it is the database-side check), e.g. from a periodic task or a health check.
    """
    rows = (
        JournalEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("transaction_id", "currency")
    )
    return [
        UnbalancedTotal(row["transaction_id"], row["currency"], int(row["total"])) for row in rows
    ]
