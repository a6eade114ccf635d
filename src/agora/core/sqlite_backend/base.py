"""SQLite with writers queued in the kernel instead of in SQLite's busy handler.

SQLite has one write lock per database. A writer that finds it taken sleeps in the busy
handler (1, 2, 5, 10 … 100 ms between tries) — the lock sits free while waiters sleep,
and whoever just released it usually wins it again: throughput collapses and latency
tails reach the busy timeout ("database is locked").

This backend takes an exclusive `flock` on `<database>.writer-lock` before `BEGIN
IMMEDIATE` (or EXCLUSIVE) and lets go of it when the transaction ends — commit, rollback,
or the connection closing, including after an error. Writers of every thread and process
wait in the kernel and wake the moment the lock is free, in arrival order, so `BEGIN
IMMEDIATE` finds SQLite's lock free. SQLite's own locking still guards the data: the
flock only orders who asks for it. A DEFERRED transaction (a reader that may write later)
takes no flock; neither does an in-memory database. A process that dies releases its
flock with its file descriptors.

ENGINE: `agora.core.sqlite_backend` (settings use it for every SQLite URL).
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base

_QUEUED_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})


def writer_lock_path(database_name: str) -> str:
    return f"{database_name}.writer-lock"


class DatabaseWrapper(base.DatabaseWrapper):
    # The file descriptor of the writer lock, open for this connection's lifetime, and
    # whether this connection holds the lock now.
    _writer_lock_fd: int | None = None
    writer_lock_held: bool = False

    def _queues_writers(self) -> bool:
        mode = getattr(self, "transaction_mode", None)
        return mode in _QUEUED_MODES and not self.is_in_memory_db()

    def _acquire_writer_lock(self) -> None:
        if self._writer_lock_fd is None:
            self._writer_lock_fd = os.open(
                writer_lock_path(str(self.settings_dict["NAME"])),
                os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                0o600,
            )
        fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX)
        self.writer_lock_held = True

    def _release_writer_lock(self) -> None:
        if self.writer_lock_held and self._writer_lock_fd is not None:
            self.writer_lock_held = False
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

    def _close_writer_lock(self) -> None:
        fd, self._writer_lock_fd = self._writer_lock_fd, None
        self.writer_lock_held = False
        if fd is not None:
            os.close(fd)  # closing the descriptor also releases a lock still held

    def _start_transaction_under_autocommit(self) -> None:
        if not self._queues_writers():
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
            return
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._release_writer_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._release_writer_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._close_writer_lock()
