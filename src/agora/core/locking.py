"""The one way scarce things (slots, stock, balances, payouts) are taken.

`lock_rows` refuses to run outside a transaction and locks rows in primary-key order, so
two requests that need the same rows always queue in the same order and cannot deadlock
each other. On PostgreSQL it is `SELECT ... FOR UPDATE OF <its own table>` under a bounded
`lock_timeout`: rows joined in with `select_related` (a booking's listing, its category,
its vendor) are read, never locked — a category is shared by every vendor, and locking it
made one vendor's payment wait for another's transaction. On SQLite the transaction
already holds the database's single write lock (`BEGIN IMMEDIATE`), which serialises
writers just as well.

`retry_when_busy` turns lock timeouts, deadlocks and serialisation failures into a bounded
number of retries of the whole transaction (a savepoint when nested: rolling it back
releases every lock taken inside it) with a small jittered back-off, and then a domain
`Busy` error (503 with Retry-After), never a 500 (pretix's `perform_order(max_retries)`
does the same). Every connection to PostgreSQL also starts with that `lock_timeout`
(settings.py), so no statement anywhere waits for a lock without bound.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.models import Model, QuerySet

from agora.core.errors import Busy

logger = logging.getLogger(__name__)

# The default of settings.AGORA_LOCK_TIMEOUT_MS: how long one statement waits for a lock.
LOCK_TIMEOUT_MS = 5000
# Attempts of a busy transaction before it is answered 503 `busy`.
MAX_ATTEMPTS = 3
# PostgreSQL SQLSTATEs that mean "try again": deadlock, lock timeout, serialisation.
_RETRYABLE_SQLSTATES = {"40P01", "55P03", "40001"}

M = TypeVar("M", bound=Model)
P = ParamSpec("P")
R = TypeVar("R")


class NotInTransaction(RuntimeError):
    pass


def require_transaction(using: str = DEFAULT_DB_ALIAS) -> None:
    if not connections[using].in_atomic_block:
        raise NotInTransaction("a lock is only meaningful inside transaction.atomic()")


def lock_timeout_ms() -> int:
    return int(getattr(settings, "AGORA_LOCK_TIMEOUT_MS", LOCK_TIMEOUT_MS))


def lock_rows(queryset: QuerySet[M]) -> list[M]:
    """Lock and return the rows of `queryset`, in primary-key order.

    Only the queryset's own rows are locked: relations it joins (`select_related`) come
    back loaded but unlocked, so the caller locks exactly the rows its decision is about.
    Precondition: called inside `transaction.atomic()`; the locks last until it ends.
    """
    using = queryset.db
    require_transaction(using)
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {lock_timeout_ms()}")
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def lock_row(queryset: QuerySet[M]) -> M | None:
    """Lock the single row `queryset` selects (e.g. `Stock.objects.filter(pk=...)`)."""
    rows = lock_rows(queryset)
    return rows[0] if rows else None


def is_retryable(error: BaseException) -> bool:
    """A deadlock, a lock timeout, a serialisation failure or SQLite's "database is
    locked": the same transaction may well succeed if it runs again in a moment."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error) or "database table is locked" in str(error)


def backoff_seconds(attempt: int) -> float:
    """The pause after failed attempt `attempt` (1, 2, ...): 10-30 ms, doubling, jittered
    so that two transactions that deadlocked each other do not collide again in step."""
    return random.uniform(0.01, 0.03) * 2 ** (attempt - 1)


def retry_when_busy(
    max_attempts: int = MAX_ATTEMPTS,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the function in its own (nested) transaction; retry it when the database says busy.

    Each attempt is a fresh `atomic()` block — the whole transaction when called outside
    one, a savepoint inside a request's transaction (an Idempotency-Key's) — so a failed
    attempt leaves nothing behind and holds no lock it took. What the function sends out
    of the database must be safe to send again: the payment gateway is called with keys
    derived from the request's, so a retried charge is the same charge.
    """

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, max_attempts + 1):
                try:
                    with transaction.atomic():
                        return func(*args, **kwargs)
                except OperationalError as error:
                    if not is_retryable(error):
                        raise
                    logger.warning(
                        "busy in %s (attempt %d/%d): %s",
                        func.__name__,
                        attempt,
                        max_attempts,
                        error,
                    )
                    if attempt == max_attempts:
                        raise Busy() from error
                    time.sleep(backoff_seconds(attempt))
            raise AssertionError("unreachable")

        return wrapper

    return decorator
