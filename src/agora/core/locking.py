"""The one way scarce things (slots, stock, balances, payouts) are taken.

`lock_rows` refuses to run outside a transaction and locks rows in primary-key order, so
two requests that need the same rows always queue in the same order and cannot deadlock
each other. On PostgreSQL it is `SELECT ... FOR UPDATE` under a bounded `lock_timeout`; on
SQLite the transaction already holds the database's single write lock (`BEGIN IMMEDIATE`),
which serialises writers just as well.

`retry_when_busy` turns lock timeouts, deadlocks and serialisation failures into a bounded
number of retries and then a domain `Busy` error (503), never a 500 (pretix's
`perform_order(max_retries)` does the same).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.models import Model, QuerySet

from agora.core.errors import Busy

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_MS = 5000
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


def lock_rows(queryset: QuerySet[M]) -> list[M]:
    """Lock and return the rows of `queryset`, in primary-key order.

    Precondition: called inside `transaction.atomic()`; the locks last until it ends.
    """
    using = queryset.db
    require_transaction(using)
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
    return list(queryset.select_for_update().order_by("pk"))


def lock_row(queryset: QuerySet[M]) -> M | None:
    """Lock the single row `queryset` selects (e.g. `Stock.objects.filter(pk=...)`)."""
    rows = lock_rows(queryset)
    return rows[0] if rows else None


def is_retryable(error: OperationalError) -> bool:
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error) or "database table is locked" in str(error)


def retry_when_busy(max_attempts: int = 4) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the function in its own (nested) transaction; retry it when the database says busy.

    Each attempt is a fresh `atomic()` block — a savepoint when called inside a request's
    transaction — so a failed attempt leaves nothing behind.
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
                    time.sleep(random.uniform(0.005, 0.02) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorator
