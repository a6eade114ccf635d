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
from math import asin, cos, radians, sin, sqrt
from typing import Any

from django.db.backends.sqlite3 import base

_QUEUED_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})


def writer_lock_path(database_name: str) -> str:
    return f"{database_name}.writer-lock"


# The radius PostgreSQL's earthdistance uses (`earth()`), so both databases give the same
# distances.
EARTH_RADIUS_KM = 6378.168


def distance_km(lat1: float | None, lng1: float | None, lat2: float, lng2: float) -> float | None:
    """Great-circle (haversine) distance, as SQL function `agora_distance_km`: search ranks
    and sorts by it where PostgreSQL uses earthdistance."""
    if lat1 is None or lng1 is None or lat2 is None or lng2 is None:
        return None
    phi1, phi2 = radians(lat1), radians(lat2)
    half = sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos(phi2) * sin(radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(half)))


MATH_FUNCTIONS = (
    ("sin", 1, sin),
    ("cos", 1, cos),
    ("asin", 1, asin),
    ("sqrt", 1, sqrt),
    ("radians", 1, radians),
    ("pow", 2, pow),
)


class DatabaseWrapper(base.DatabaseWrapper):
    # The file descriptor of the writer lock, open for this connection's lifetime, and
    # whether this connection holds the lock now.
    _writer_lock_fd: int | None = None
    writer_lock_held: bool = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        connection.create_function("agora_distance_km", 4, distance_km, deterministic=True)
        try:
            connection.execute("SELECT sin(0), asin(0), radians(0), pow(2, 2)")
        except Exception:  # SQLite built without its math functions: search needs these few
            for name, arity, function in MATH_FUNCTIONS:
                connection.create_function(name, arity, function, deterministic=True)
        return connection

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
