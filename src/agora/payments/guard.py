"""The ledger guard (after pretix's `_transactions.py`): money state never changes without
ledger entries in the same database transaction.

Models that carry money state (Payment, Refund, Payout, Dispute, ...) inherit
`models.MoneyStateModel`, whose writes are refused outside `money_change()`. A
`money_change()` block is one `transaction.atomic()`; when it ends without an exception it
checks that every block which wrote money state also posted to the ledger, and otherwise
raises `LedgerGuardError` from inside the atomic block, so everything it wrote rolls back.

    with money_change():
        payment.status = "captured"
        payment.save()                      # refused outside money_change()
        flows.post_capture(...)             # without this line: LedgerGuardError

Bookkeeping lives in a `ContextVar`, so each thread (and each asyncio task) has its own
stack of open blocks; a post counts for every enclosing block.

`ledger_maintenance()` is unrelated to the guard: it lets a whole-database wipe (`flush`)
delete ledger rows on SQLite, whose immutability triggers ask this module (see
`agora.payments.apps` and the `flush` command).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, transaction

from agora.payments.errors import LedgerGuardError


@dataclass
class _Frame:
    using: str
    touched: list[str] = field(default_factory=list)
    posted_ids: list[int] = field(default_factory=list)


_frames: ContextVar[tuple[_Frame, ...]] = ContextVar("agora_money_change_frames", default=())
_maintenance: ContextVar[bool] = ContextVar("agora_ledger_maintenance", default=False)


def in_money_change() -> bool:
    return bool(_frames.get())


def note_money_state_change(what: str) -> None:
    """Record a write to money state; refuse it outside `money_change()`.

    Called by `MoneyStateModel` (save, delete) and its queryset (update, bulk writes).
    """
    frames = _frames.get()
    if not frames:
        raise LedgerGuardError(
            f"{what}: money state may only change inside payments.guard.money_change(), "
            "together with its ledger entries."
        )
    for frame in frames:
        frame.touched.append(what)


def note_ledger_post(transaction_id: int) -> None:
    """Called by `ledger.post` for every transaction it posts or replays."""
    for frame in _frames.get():
        frame.posted_ids.append(transaction_id)


def _posting_survived(frame: _Frame) -> bool:
    # A post inside a savepoint that later rolled back does not count: ask the database
    # whether at least one of the transactions posted in this block is still there.
    if not frame.posted_ids:
        return False
    from agora.payments.models import JournalTransaction

    return (
        JournalTransaction.objects.using(frame.using).filter(pk__in=set(frame.posted_ids)).exists()
    )


@contextmanager
def money_change(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A transaction in which money state may change, provided the ledger records it.

    Raises `LedgerGuardError` at the end of the block, rolling the block back, when a
    `MoneyStateModel` was written but nothing was posted to the ledger.
    """
    frame = _Frame(using=using)
    token = _frames.set((*_frames.get(), frame))
    try:
        with transaction.atomic(using=using):
            yield
            if frame.touched and not _posting_survived(frame):
                raise LedgerGuardError(
                    "money state changed without ledger entries in the same transaction: "
                    + ", ".join(sorted(set(frame.touched)))
                )
    finally:
        _frames.reset(token)


@contextmanager
def ledger_maintenance() -> Iterator[None]:
    """Allow deleting ledger rows for the duration of a whole-database wipe.

    Only the `flush` command uses it. It has an effect on SQLite only (the triggers there
    consult it); PostgreSQL's flush uses TRUNCATE, which the row triggers do not see, and
    its UPDATE/DELETE triggers have no way around them.
    """
    token = _maintenance.set(True)
    try:
        yield
    finally:
        _maintenance.reset(token)


def ledger_maintenance_active() -> int:
    """The SQLite function `agora_ledger_maintenance()`: 1 inside `ledger_maintenance()`."""
    return 1 if _maintenance.get() else 0
