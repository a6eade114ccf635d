"""The one locking helper: only inside a transaction, stable order, bounded retries."""

from __future__ import annotations

import logging
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from agora.accounts.models import User
from agora.core import locking
from agora.core.errors import Busy, problem_from_error
from agora.core.locking import NotInTransaction, lock_row, lock_rows, retry_when_busy
from agora.core.models import RateCounter
from tests.factories import UserFactory
from tests.race import run_concurrently


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The retry back-off is a few milliseconds; tests need not wait for it. (Only the
    # locking module's view of `time` is replaced; the tests' own sleeps still sleep.)
    monkeypatch.setattr(locking, "time", SimpleNamespace(sleep=lambda seconds: None))


# --- lock_rows -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_lock_rows_outside_a_transaction_is_refused() -> None:
    UserFactory()
    assert not connection.in_atomic_block

    with pytest.raises(NotInTransaction, match=r"inside transaction\.atomic"):
        lock_rows(User.objects.all())
    with pytest.raises(NotInTransaction):
        lock_row(User.objects.all())


@pytest.mark.django_db
def test_lock_rows_returns_rows_in_primary_key_order() -> None:
    users = [UserFactory(email=f"{letter}@example.test") for letter in "cabd"]

    with transaction.atomic():
        locked = lock_rows(User.objects.filter(pk__in=[u.pk for u in users]).order_by("-email"))

    assert [u.pk for u in locked] == sorted(u.pk for u in users)


@pytest.mark.django_db
def test_lock_row_returns_the_row_or_none() -> None:
    user = UserFactory()

    with transaction.atomic():
        assert lock_row(User.objects.filter(pk=user.pk)) == user
        assert lock_row(User.objects.filter(pk=-1)) is None


@pytest.mark.django_db
def test_postgresql_lock_waits_are_bounded() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer lock, taken by BEGIN IMMEDIATE")
    user = UserFactory()

    with transaction.atomic():
        lock_rows(User.objects.filter(pk=user.pk))
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "5s"


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_read_modify_write_under_the_lock_loses_no_update() -> None:
    # Given one counter and several writers that each read it, add one and save it
    RateCounter.objects.create(key="c", count=0, window_ends_at="2030-01-01T00:00:00Z")
    writers, increments = 6, 10

    def bump(_: int) -> None:
        for _round in range(increments):
            with transaction.atomic():
                [counter] = lock_rows(RateCounter.objects.filter(key="c"))
                counter.count += 1
                time.sleep(0)  # let another thread run between read and write
                counter.save(update_fields=["count"])

    # When they all run at once
    run_concurrently(bump, threads=writers)

    # Then every increment is there: the lock serialised the read-modify-writes
    assert RateCounter.objects.get(key="c").count == writers * increments


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_a_second_locker_waits_for_the_first_to_commit() -> None:
    user = UserFactory(name="before")
    first_has_lock = threading.Event()
    events: list[str] = []

    def first() -> None:
        with transaction.atomic():
            lock_rows(User.objects.filter(pk=user.pk))
            first_has_lock.set()
            time.sleep(0.3)
            User.objects.filter(pk=user.pk).update(name="by first")
            events.append("first commits")

    def second() -> str:
        first_has_lock.wait(5)
        with transaction.atomic():
            [row] = lock_rows(User.objects.filter(pk=user.pk))
            events.append("second has lock")
            return row.name

    results = run_concurrently(lambda i: first() if i == 0 else second(), threads=2)

    assert events == ["first commits", "second has lock"]
    assert results[1] == "by first"


# --- retry_when_busy -----------------------------------------------------------------------------


class FakeDriverError(Exception):
    """What psycopg attaches as __cause__: an error carrying the SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def busy_error(kind: str) -> OperationalError:
    if kind == "sqlite":
        return OperationalError("database is locked")
    error = OperationalError("canceling statement due to lock timeout")
    error.__cause__ = FakeDriverError(kind)
    return error


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["sqlite", "40P01", "55P03", "40001"])
def test_a_busy_database_is_retried_until_it_succeeds(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    @retry_when_busy(max_attempts=4)
    def take_slot(slot: int) -> str:
        calls.append(slot)
        if len(calls) < 3:
            raise busy_error(kind)
        return f"took {slot}"

    with caplog.at_level(logging.WARNING, logger="agora.core.locking"):
        assert take_slot(7) == "took 7"

    assert calls == [7, 7, 7]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "busy in take_slot (attempt 1/4)",
        "busy in take_slot (attempt 2/4)",
    ]


@pytest.mark.django_db
def test_a_failed_attempt_leaves_nothing_behind() -> None:
    attempts = 0

    @retry_when_busy()
    def write_then_maybe_fail() -> None:
        nonlocal attempts
        attempts += 1
        RateCounter.objects.create(key=f"k{attempts}", window_ends_at="2030-01-01T00:00:00Z")
        if attempts == 1:
            raise busy_error("sqlite")

    write_then_maybe_fail()

    assert attempts == 2
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["k2"]


@pytest.mark.django_db
def test_persistent_busy_becomes_the_domain_busy_error() -> None:
    calls = 0

    @retry_when_busy(max_attempts=3)
    def always_locked() -> None:
        nonlocal calls
        calls += 1
        raise busy_error("55P03")

    with pytest.raises(Busy) as raised:
        always_locked()

    assert calls == 3
    assert isinstance(raised.value.__cause__, OperationalError)
    assert (raised.value.status, raised.value.code) == (503, "busy")
    response = problem_from_error(raised.value)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("no such table: agora_nothing"),
        OperationalError("server closed the connection unexpectedly"),
    ],
)
def test_other_operational_errors_propagate_at_once(error: OperationalError) -> None:
    calls = 0

    @retry_when_busy()
    def broken() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(OperationalError) as raised:
        broken()

    assert raised.value is error
    assert calls == 1


@pytest.mark.django_db
def test_other_exceptions_are_not_retried() -> None:
    calls: list[Any] = []

    @retry_when_busy()
    def refuses() -> None:
        calls.append(1)
        raise ValueError("a domain refusal")

    with pytest.raises(ValueError, match="a domain refusal"):
        refuses()
    assert calls == [1]
