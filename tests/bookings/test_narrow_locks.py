"""A booking's moves lock only the booking's row, and a busy row is retried, then 503 `busy`.

Paying for or acting on a booking decides on the booking's own row. Its listing, category
and vendor are read for the commission and the event's words, never locked: a category is
shared by every vendor, so a lock on it made one vendor's payment wait for another
vendor's (or the operator's) transaction. These tests hold those rows in another
transaction, in another thread, and time the payment.

A row that is really busy — the booking itself locked past the lock timeout, or SQLite's
write lock held by a program outside Agora — is retried a few times, then answered 503
`busy` with Retry-After; nothing is written, and nothing is stored under the request's
Idempotency-Key, so a retry with the key pays once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from agora.bookings.models import Booking
from agora.catalog.models import Category, Listing
from agora.core import locking
from agora.core.models import IdempotencyKey
from agora.payments.models import JournalTransaction, Payment, SandboxCharge
from agora.vendors.models import Vendor
from tests.bookings.helpers import Shop, make_shop, pay, tuesday
from tests.conftest import assert_problem
from tests.core.blockers import Blocker, SqliteWriter, released_on_retry, short_lock_waits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

# The other transaction keeps its locks at least this long; the payment must not wait.
HOLD_SECONDS = 3.0
NOT_DELAYED_SECONDS = 1.0


def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one write lock for the whole database: no row locks to narrow")


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture
def short_waits(settings: Any) -> Iterator[None]:
    with short_lock_waits(settings):
        yield


def busy_retries(caplog: pytest.LogCaptureFixture, service: str) -> list[str]:
    prefix = f"busy in {service} "
    return [
        r.getMessage().split(":")[0].removeprefix(prefix)
        for r in caplog.records
        if r.name == "agora.core.locking" and r.getMessage().startswith(prefix)
    ]


def booking_blocker(booking: Booking, *, hold_for: float) -> Blocker:
    """Another transaction keeping the booking's row (PostgreSQL) or the database's write
    lock (SQLite, from outside Agora) for `hold_for` seconds."""
    if connection.vendor == "postgresql":
        return Blocker(
            lambda: list(Booking.objects.select_for_update().filter(pk=booking.pk)),
            hold_for=hold_for,
        )
    return SqliteWriter(hold_for=hold_for)


def paid_once(booking: Booking) -> None:
    """The booking was paid exactly once: one payment, one charge, one capture posting."""
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert Payment.objects.filter(reference=booking.reference).count() == 1
    assert SandboxCharge.objects.count() == 1
    assert JournalTransaction.objects.filter(kind="capture").count() == 1


def unpaid(booking: Booking) -> None:
    booking.refresh_from_db()
    assert (booking.status, booking.paid_at, booking.payment_reference) == ("held", None, "")
    assert not Payment.objects.exists()
    assert not SandboxCharge.objects.exists()
    assert not JournalTransaction.objects.exists()


# --- nothing but the booking's row is locked (PostgreSQL) ----------------------------------------


def test_a_locked_category_and_another_vendors_row_do_not_delay_a_payment(shop: Shop) -> None:
    _postgresql()
    # Given a held booking, and another vendor selling in the same category
    other = make_shop()
    booking = shop.held(tuesday(10))
    assert other.listing.category_id == shop.listing.category_id
    category = Category.objects.filter(pk=shop.listing.category_id)

    # While one transaction holds the category's row (shared by every vendor) and another
    # the other vendor's row, each for 3 s
    with (
        Blocker(lambda: list(category.select_for_update()), hold_for=HOLD_SECONDS) as on_category,
        Blocker(
            lambda: list(Vendor.objects.select_for_update().filter(pk=other.vendor.pk)),
            hold_for=HOLD_SECONDS,
        ) as on_vendor,
    ):
        # When the customer pays
        response, elapsed = timed(lambda: pay(shop.as_customer, booking))

        # Then the payment goes through at once, while both locks are still held
        assert response.status_code == 200, response.content
        assert elapsed < NOT_DELAYED_SECONDS, f"the payment waited {elapsed:.2f} s"
        assert on_category.holding
        assert on_vendor.holding
    paid_once(booking)


def test_paying_and_accepting_do_not_wait_while_the_listing_and_vendor_are_edited(
    shop: Shop,
) -> None:
    _postgresql()
    # Given a held booking
    booking = shop.held(tuesday(10))

    def edit_listing_and_vendor() -> None:
        Vendor.objects.filter(pk=shop.vendor.pk).update(name="Camden Motors Ltd")
        Listing.objects.filter(pk=shop.listing.pk).update(title="Full service (2026)")

    # While the vendor's profile and the listing are being edited in a transaction that
    # stays open for 3 s
    with Blocker(edit_listing_and_vendor, hold_for=HOLD_SECONDS) as editing:
        # When the customer pays and the staff accept
        paid, pay_time = timed(lambda: pay(shop.as_customer, booking))
        accepted, accept_time = timed(lambda: shop.as_staff.post(f"/bookings/{booking.pk}/accept"))

        # Then neither waits for the edit
        assert paid.status_code == 200, paid.content
        assert accepted.status_code == 200, accepted.content
        assert pay_time < NOT_DELAYED_SECONDS, f"the payment waited {pay_time:.2f} s"
        assert accept_time < NOT_DELAYED_SECONDS, f"accepting waited {accept_time:.2f} s"
        assert editing.holding
    booking.refresh_from_db()
    assert booking.status == "accepted"
    # The edit was rolled back, and the payment's event carried the names as they were
    assert Vendor.objects.get(pk=shop.vendor.pk).name == "Camden Motors"


def test_the_booking_lock_names_only_the_booking_table(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    _postgresql()
    booking = shop.held(tuesday(10))

    with django_assert_max_num_queries(60) as queries:
        assert pay(shop.as_customer, booking).status_code == 200

    locking_statements = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    booking_locks = [sql for sql in locking_statements if 'FROM "bookings_booking"' in sql]
    assert booking_locks, locking_statements
    for sql in booking_locks:
        assert sql.endswith('FOR UPDATE OF "bookings_booking"'), sql
    assert not any('FOR UPDATE OF "catalog_' in sql for sql in locking_statements)
    assert not any('OF "vendors_vendor"' in sql for sql in locking_statements)


# --- a busy row: retried, then 503 busy (both databases) ----------------------------------------


def test_a_row_busy_past_every_retry_answers_503_busy_and_changes_nothing(
    shop: Shop, short_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a held booking whose row (SQLite: the database's write lock) another
    # transaction keeps for 3 s, and lock waits that give up after 200 ms
    booking = shop.held(tuesday(10))

    with booking_blocker(booking, hold_for=HOLD_SECONDS) as blocker:
        # When the customer pays
        with caplog.at_level(logging.WARNING, logger="agora.core.locking"):
            response, elapsed = timed(lambda: pay(shop.as_customer, booking))

        # Then the payment was tried three times and answered 503 busy with Retry-After,
        # without waiting for the other transaction
        assert blocker.holding
    body = assert_problem(response, 503, "busy")
    assert response["Retry-After"] == "1"
    assert body["detail"] == "The resource is busy; retry shortly."
    assert busy_retries(caplog, "booking_pay") == [
        f"(attempt {n}/{locking.MAX_ATTEMPTS})" for n in range(1, locking.MAX_ATTEMPTS + 1)
    ]
    assert elapsed < HOLD_SECONDS - 1
    # and nothing was charged or written
    unpaid(booking)


def test_a_lock_released_within_the_retry_window_is_retried_and_paid_once(
    shop: Shop, short_waits: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a held booking whose row another transaction keeps until the payment's first
    # attempt has given up waiting for it (200 ms)
    booking = shop.held(tuesday(10))
    blocker = booking_blocker(booking, hold_for=HOLD_SECONDS)

    # When the customer pays
    with (
        blocker,
        released_on_retry(blocker, logger="agora.core.locking", prefix="busy in booking_pay"),
        caplog.at_level(logging.WARNING, logger="agora.core.locking"),
    ):
        response, elapsed = timed(lambda: pay(shop.as_customer, booking))

    # Then the first attempt gave up, the retry found the row free and paid — once
    assert response.status_code == 200, response.content
    assert busy_retries(caplog, "booking_pay") == [f"(attempt 1/{locking.MAX_ATTEMPTS})"]
    assert elapsed < HOLD_SECONDS - 1
    paid_once(booking)


def test_a_busy_answer_is_not_stored_so_a_retry_with_the_same_key_pays_once(
    shop: Shop, short_waits: None
) -> None:
    # Given a held booking whose row stays busy past every retry
    booking = shop.held(tuesday(10))
    path = f"/bookings/{booking.pk}/pay"
    body = {"payment_method": "pm_card_visa"}

    with booking_blocker(booking, hold_for=HOLD_SECONDS):
        # When the customer pays with an Idempotency-Key
        busy = shop.as_customer.post(path, body, idempotency_key="pay-once")

    # Then it is busy, and the key keeps no answer (the whole attempt rolled back)
    assert_problem(busy, 503, "busy")
    assert busy["Retry-After"] == "1"
    assert not IdempotencyKey.objects.filter(key="pay-once").exists()
    unpaid(booking)

    # When the client retries with the same key once the row is free
    retried = shop.as_customer.post(path, body, idempotency_key="pay-once")
    again = shop.as_customer.post(path, body, idempotency_key="pay-once")

    # Then the retry pays for real, and a third send replays it
    assert retried.status_code == 200, retried.content
    assert "Idempotent-Replayed" not in retried
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == retried.json()
    paid_once(booking)
