"""SQLite writers queue on a kernel lock (agora.core.sqlite_backend), and always let go of it.

Real threads, each with its own connection to the test database file. Whether the writer
lock is held is seen from outside, by trying a non-blocking flock on the same file.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from agora.core.models import IdempotencyKey
from agora.core.sqlite_backend.base import DatabaseWrapper, writer_lock_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the writer lock is SQLite's")


def lock_is_free() -> bool:
    """True when nobody holds the writer lock (tried without waiting, from a new fd)."""
    fd = os.open(writer_lock_path(connection.settings_dict["NAME"]), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def in_thread(work: Callable[[], Any]) -> Any:
    """Run `work` on its own thread and connection; return its result or raise its error."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as error:
            box["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def key(name: str) -> None:
    IdempotencyKey.objects.create(
        scope="test", key=name, fingerprint="f", method="POST", path="/", created_at=_now()
    )


def _now() -> Any:
    from agora.core import clock

    return clock.now()


def test_settings_use_the_queueing_backend() -> None:
    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.transaction_mode == "IMMEDIATE"


def test_held_for_the_transaction_and_released_on_commit() -> None:
    def work() -> tuple[bool, bool]:
        with transaction.atomic():
            key("a")
            inside = lock_is_free()
        return inside, lock_is_free()

    inside, after = in_thread(work)
    assert (inside, after) == (False, True)
    assert IdempotencyKey.objects.filter(key="a").exists()


def test_released_on_rollback_after_an_error() -> None:
    key("dup")

    def work() -> bool:
        with pytest.raises(IntegrityError), transaction.atomic():
            key("dup")
        return lock_is_free()

    assert in_thread(work) is True


def test_released_when_the_connection_closes_inside_a_transaction() -> None:
    def work() -> tuple[bool, bool]:
        with transaction.atomic():
            key("b")
            held = not lock_is_free()
            connection.close()  # e.g. the connection found unusable after an error
        return held, lock_is_free()

    assert in_thread(work) == (True, True)
    assert not IdempotencyKey.objects.filter(key="b").exists()


def test_released_when_begin_itself_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def work() -> bool:
        connection.ensure_connection()
        connection.connection.execute("BEGIN")  # a transaction left open behind Django's back
        with pytest.raises(OperationalError), transaction.atomic():
            pass
        connection.connection.execute("ROLLBACK")
        return lock_is_free()

    assert in_thread(work) is True


def test_a_deferred_transaction_takes_no_writer_lock() -> None:
    def work() -> bool:
        connection.ensure_connection()
        connection.transaction_mode = "DEFERRED"
        with transaction.atomic():
            IdempotencyKey.objects.count()
            return lock_is_free()

    assert in_thread(work) is True


@pytest.fixture
def no_busy_wait() -> Iterator[None]:
    """Connections opened from here on give up at once when SQLite's lock is taken."""

    def zero_timeout(sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.cursor().execute("PRAGMA busy_timeout = 0")

    from django.db.backends.signals import connection_created

    connection_created.connect(zero_timeout)
    yield
    connection_created.disconnect(zero_timeout)
    connections.close_all()


@pytest.mark.parametrize("queued", [True, False], ids=["writer-lock", "busy-handler-only"])
def test_writers_of_many_threads_never_find_the_database_locked(
    no_busy_wait: None, monkeypatch: pytest.MonkeyPatch, queued: bool
) -> None:
    """8 threads × 15 write transactions, each holding the write lock for a moment, with
    SQLite's busy handler switched off. Queued on the writer lock, every BEGIN IMMEDIATE
    finds SQLite's lock free; without it (the guard removed) writers collide."""
    if not queued:
        monkeypatch.setattr(DatabaseWrapper, "_queues_writers", lambda self: False)
    threads, rounds = 8, 15
    start = threading.Barrier(threads, timeout=20)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            connection.ensure_connection()
            start.wait()
            for round_ in range(rounds):
                with transaction.atomic():
                    key(f"{index}-{round_}")
                    time.sleep(0.001)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not any(worker.is_alive() for worker in workers)

    if queued:
        assert errors == []
        assert IdempotencyKey.objects.count() == threads * rounds
        assert lock_is_free()
    else:
        assert errors, "without the writer lock some writer should meet a locked database"
        assert all("database is locked" in str(error) for error in errors)
