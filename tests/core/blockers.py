"""Other transactions that take locks and keep them, for tests of who waits for whom.

A `Blocker` runs in a thread of its own with its own database connection: it opens a
transaction, takes its locks (`take`), says so, and keeps them until `release()` or
`hold_for` seconds, then rolls back. A `SqliteWriter` holds SQLite's one write lock the
way a program outside Agora would (its own `sqlite3` connection, `BEGIN IMMEDIATE`,
without Agora's writer queue), so Agora's own writer meets "database is locked".

`released_on_retry` lets a blocker go the moment the code under test logs its first busy
retry, so "a lock freed within the retry window" is shown without racing the clock.

`short_lock_waits` makes a lock wait give up after `LOCK_WAIT_MS` instead of the
production 5 s (PostgreSQL's `lock_timeout`, SQLite's busy timeout) for the test thread's
connection, as if a server ran with AGORA_LOCK_TIMEOUT_MS=200.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from django.db import connection, transaction

LOCK_WAIT_MS = 200


class Blocker:
    """A transaction of another thread holding the locks `take` takes."""

    def __init__(self, take: Callable[[], Any], *, hold_for: float = 3.0) -> None:
        self.take = take
        self.hold_for = hold_for
        self.locked_at: float | None = None
        self.released_at: float | None = None
        self._locked = threading.Event()
        self._release = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="blocker", daemon=True)

    @property
    def holding(self) -> bool:
        return self.locked_at is not None and self.released_at is None

    def _hold(self) -> None:
        with transaction.atomic():
            self.take()
            self._locked_now()
            self._release.wait(self.hold_for)
            transaction.set_rollback(True)
        self.released_at = time.monotonic()

    def _locked_now(self) -> None:
        self.locked_at = time.monotonic()
        self._locked.set()

    def _run(self) -> None:
        try:
            self._hold()
        except BaseException as error:  # reported by __enter__ / __exit__
            self._error = error
            self._locked.set()
        finally:
            if self.released_at is None:
                self.released_at = time.monotonic()
            connection.close()

    def __enter__(self) -> Blocker:
        self._thread.start()
        assert self._locked.wait(10), "the blocker never took its locks"
        if self._error is not None:
            raise self._error
        return self

    def release(self) -> None:
        self._release.set()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the blocker hung"
        if self._error is not None and kind is None:
            raise self._error


class SqliteWriter(Blocker):
    """Holds SQLite's write lock from outside Agora: no writer queue, only SQLite's lock."""

    def __init__(self, *, hold_for: float = 3.0) -> None:
        super().__init__(lambda: None, hold_for=hold_for)
        self.path = str(connection.settings_dict["NAME"])

    def _hold(self) -> None:
        raw = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            raw.execute("BEGIN IMMEDIATE")
            self._locked_now()
            self._release.wait(self.hold_for)
            raw.execute("ROLLBACK")
            self.released_at = time.monotonic()
        finally:
            raw.close()


@contextmanager
def short_lock_waits(settings: Any) -> Iterator[None]:
    """Lock waits of this thread's connection give up after LOCK_WAIT_MS."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            settings.AGORA_LOCK_TIMEOUT_MS = LOCK_WAIT_MS
            cursor.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
        else:
            cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("RESET lock_timeout")
                else:
                    cursor.execute("PRAGMA busy_timeout = 30000")


class _ReleaseOnRecord(logging.Handler):
    def __init__(self, blocker: Blocker, prefix: str) -> None:
        super().__init__(logging.WARNING)
        self.blocker, self.prefix = blocker, prefix

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.prefix):
            self.blocker.release()


@contextmanager
def released_on_retry(blocker: Blocker, *, logger: str, prefix: str) -> Iterator[None]:
    """Release `blocker` when `logger` warns with a message starting with `prefix` (the
    first failed attempt): the retry then finds the lock free."""
    handler = _ReleaseOnRecord(blocker, prefix)
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield
    finally:
        target.removeHandler(handler)
