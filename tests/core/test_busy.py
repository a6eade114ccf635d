"""Busy rows, end to end: bounded lock waits, deadlocks retried, 503 `busy` — never a 500,
never a wait without end, never `unavailable` for a database that is up.

- Every PostgreSQL connection starts with `lock_timeout` (AGORA_LOCK_TIMEOUT_MS), so no
  statement waits for a lock unbounded.
- A real deadlock between two transactions is retried by `retry_when_busy`: both finish.
- A lock timeout that no service retried answers 503 `busy` with Retry-After.
- A request with an Idempotency-Key whose own statements meet a busy row (a same-key
  request holding the key; SQLite's write lock held from outside) is run again as a whole,
  then answered 503 `busy`; nothing is stored, so a retry with the key runs for real.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import F

from agora.bookings.models import Booking
from agora.core import clock, locking
from agora.core.locking import retry_when_busy
from agora.core.models import IdempotencyKey, RateCounter
from agora.vendors.models import Vendor
from tests.bookings.helpers import NOW, make_shop, tuesday
from tests.conftest import assert_problem
from tests.core.blockers import Blocker, SqliteWriter, released_on_retry, short_lock_waits
from tests.factories import UserFactory, VendorFactory
from tests.race import run_concurrently
from tests.vendors.helpers import client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]


def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL row locks; SQLite has one write lock, taken by BEGIN IMMEDIATE")


@pytest.fixture
def short_waits(settings: Any) -> Iterator[None]:
    with short_lock_waits(settings):
        yield


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


def warnings_of(caplog: pytest.LogCaptureFixture, logger: str, prefix: str) -> list[str]:
    return [
        r.getMessage().split(":")[0]
        for r in caplog.records
        if r.name == logger and r.getMessage().startswith(prefix)
    ]


# --- bounded waits and real deadlocks (PostgreSQL) ------------------------------------------------


def test_every_postgresql_connection_bounds_its_lock_waits() -> None:
    _postgresql()

    def show(_: int) -> str:
        # A fresh connection, outside any transaction or locking helper
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            return str(cursor.fetchone()[0])

    assert run_concurrently(show, threads=1) == ["5s"]


def test_a_real_deadlock_is_retried_and_both_transactions_finish(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _postgresql()
    # Given two rows, and two transactions that each lock one and then want the other's
    window = "2030-01-01T00:00:00Z"
    RateCounter.objects.create(key="left", count=0, window_ends_at=window)
    RateCounter.objects.create(key="right", count=0, window_ends_at=window)
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts: list[str] = []

    @retry_when_busy()
    def bump_both(first: str, second: str) -> str:
        attempts.append(first)
        list(RateCounter.objects.select_for_update().filter(key=first))
        if attempts.count(first) == 1:
            both_hold_one.wait()  # only the first attempt: make sure the cycle closes
        list(RateCounter.objects.select_for_update().filter(key=second))
        RateCounter.objects.filter(key__in=[first, second]).update(count=F("count") + 1)
        return first

    # When they run at once (PostgreSQL finds the cycle after deadlock_timeout, 1 s)
    with caplog.at_level(logging.WARNING, logger="agora.core.locking"):
        done = run_concurrently(
            lambda i: bump_both("left", "right") if i == 0 else bump_both("right", "left"),
            threads=2,
        )

    # Then the deadlock's victim was retried, and both finished: each row bumped twice
    assert sorted(done) == ["left", "right"]
    assert len(attempts) == 3
    retried = [r.getMessage() for r in caplog.records if r.name == "agora.core.locking"]
    assert len(retried) == 1
    assert retried[0].startswith(f"busy in bump_both (attempt 1/{locking.MAX_ATTEMPTS})")
    assert "deadlock detected" in retried[0]
    assert dict(RateCounter.objects.values_list("key", "count")) == {"left": 2, "right": 2}


def test_a_lock_timeout_no_service_retried_answers_busy_not_unavailable(
    short_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    _postgresql()
    # Given a vendor whose row another transaction keeps locked
    owner = UserFactory()
    vendor = VendorFactory(owner=owner, name="Camden Motors")
    as_owner = client_for(owner)

    with Blocker(
        lambda: list(Vendor.objects.select_for_update().filter(pk=vendor.pk)), hold_for=3
    ) as blocker:
        # When the owner edits the profile (a write without retries of its own)
        with caplog.at_level(logging.WARNING, logger="agora.api"):
            response = as_owner.patch(f"/vendors/{vendor.pk}", {"name": "Camden Motors Ltd"})
        assert blocker.holding

    # Then the edit gave up after the lock timeout: 503 busy with Retry-After, not a 500
    # and not `unavailable` (the database is up)
    assert_problem(response, 503, "busy")
    assert response["Retry-After"] == "1"
    assert warnings_of(caplog, "agora.api", "busy on PATCH") == [
        f"busy on PATCH /api/v1/vendors/{vendor.pk}"
    ]
    assert Vendor.objects.get(pk=vendor.pk).name == "Camden Motors"


# --- the idempotent request's own transaction, retried whole (both databases) ---------------------


def _key_blocker(*, user_id: int, key: str, hold_for: float) -> Blocker:
    """PostgreSQL: a same-key request that has claimed the key and not finished.
    SQLite: a program outside Agora holding the database's write lock."""
    if connection.vendor == "postgresql":
        return Blocker(
            lambda: IdempotencyKey.objects.create(
                scope=f"user:{user_id}",
                key=key,
                user_id=user_id,
                fingerprint="0" * 64,
                method="POST",
                path="/api/v1/bookings",
                created_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
            ),
            hold_for=hold_for,
        )
    return SqliteWriter(hold_for=hold_for)


def test_an_idempotent_request_busy_past_every_retry_answers_503_busy_and_stores_nothing(
    now: datetime, short_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a bookable slot, and the key's row (SQLite: the write lock) held elsewhere
    shop = make_shop()
    body = {"listing_id": shop.listing.pk, "start": tuesday(10).isoformat()}

    with _key_blocker(user_id=shop.customer.pk, key="hold-1", hold_for=3) as blocker:
        # When the customer holds the slot with that Idempotency-Key
        with caplog.at_level(logging.WARNING, logger="agora.core.idempotency"):
            response = shop.as_customer.post("/bookings", body, idempotency_key="hold-1")
        assert blocker.holding

    # Then the whole request was tried three times, then answered 503 busy
    assert_problem(response, 503, "busy")
    assert response["Retry-After"] == "1"
    assert warnings_of(caplog, "agora.core.idempotency", "busy running") == [
        f"busy running an idempotent request (attempt {n}/{locking.MAX_ATTEMPTS})"
        for n in range(1, locking.MAX_ATTEMPTS + 1)
    ]
    # and nothing was written, not even the key
    assert not Booking.objects.exists()
    assert not IdempotencyKey.objects.exists()

    # When the client sends it again with the key, once nothing holds it
    retried = shop.as_customer.post("/bookings", body, idempotency_key="hold-1")

    # Then it runs for real, once
    assert retried.status_code == 201, retried.content
    assert list(Booking.objects.values_list("pk", flat=True)) == [retried.json()["id"]]


def test_an_idempotent_request_freed_within_the_retry_window_runs_once(
    now: datetime, short_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a bookable slot, and the key's row (SQLite: the write lock) held until the
    # request's first attempt has given up waiting for it
    shop = make_shop()
    body = {"listing_id": shop.listing.pk, "start": tuesday(10).isoformat()}
    blocker = _key_blocker(user_id=shop.customer.pk, key="hold-2", hold_for=3)

    with (
        blocker,
        released_on_retry(blocker, logger="agora.core.idempotency", prefix="busy running"),
        caplog.at_level(logging.WARNING, logger="agora.core.idempotency"),
    ):
        response = shop.as_customer.post("/bookings", body, idempotency_key="hold-2")

    # Then a retry of the whole request got through: one booking, the key storing it
    assert response.status_code == 201, response.content
    assert warnings_of(caplog, "agora.core.idempotency", "busy running") == [
        f"busy running an idempotent request (attempt 1/{locking.MAX_ATTEMPTS})"
    ]
    assert list(Booking.objects.values_list("pk", flat=True)) == [response.json()["id"]]
    stored = IdempotencyKey.objects.get(key="hold-2")
    assert stored.status_code == 201
    replay = shop.as_customer.post("/bookings", body, idempotency_key="hold-2")
    assert replay["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1
