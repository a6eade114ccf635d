"""No double booking under real concurrency (ARCHITECTURE.md invariant 1), on both databases.

Every test starts real threads, each with its own django.test.Client, bearer token and
database connection, all connected before a barrier releases them together, so their
requests really overlap. What protects a slot:

- PostgreSQL: the capacity unit's row lock (SELECT ... FOR UPDATE via core.locking.lock_row)
  serialises bookers of one unit; the exclusion constraint `booking_no_overlap` refuses an
  overlapping capacity-1 booking in the schema even if the lock were missing.
- SQLite: BEGIN IMMEDIATE makes each booking transaction the only writer; a transaction
  that started DEFERRED could read, lose the write lock to another and then fail.

The guard-removed tests show both guards are what makes the difference (after pretix's
test_quota_race_condition_happens_if_we_disable_locks).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection

from agora.bookings.models import OCCUPYING_STATUSES, Booking, Resource, ResourceAssignment
from agora.bookings.services import holds, lifecycle
from agora.bookings.services.context import capacity_unit_for
from agora.core import clock, locking
from agora.core.audit import audit_trail
from tests.bookings.helpers import NOW, Shop, hold, make_shop, tuesday
from tests.conftest import ApiClient
from tests.factories import BookingFactory, ListingFactory, UserFactory
from tests.vendors.helpers import client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

THREADS = 16
WINDOW = 0.05  # seconds the unguarded tests hold the check-then-insert window open


@dataclass(frozen=True)
class Outcome:
    status: int
    code: str | None
    booking_id: int | None


def outcome(response: Any) -> Outcome:
    body = response.json()
    if response.status_code in (200, 201):
        return Outcome(response.status_code, None, body["id"])
    return Outcome(response.status_code, body.get("code"), None)


def race(
    work: Callable[[int], Outcome], *, threads: int, prepare: Callable[[], None] | None = None
) -> list[Outcome]:
    """Run `work(i)` in `threads` threads released together once all are connected.

    Each thread opens its own connection before the barrier (connecting takes longer than
    a booking, so without it nothing would overlap) and closes it when done.
    """
    connected = threading.Barrier(threads, timeout=20)
    results: list[Outcome | None] = [None] * threads
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            if prepare is not None:
                prepare()
            connected.wait()
            results[index] = work(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,), name=f"booker-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not any(worker.is_alive() for worker in workers), "a racing thread hung"
    if errors:
        raise errors[0]
    return [result for result in results if result is not None]


def tally(outcomes: list[Outcome]) -> Counter[tuple[int, str | None]]:
    return Counter((o.status, o.code) for o in outcomes)


def bookers(count: int) -> list[ApiClient]:
    """`count` customers, each with their own client and token."""
    return [client_for(user) for user in UserFactory.create_batch(count)]


_OCCUPYING = ", ".join(f"'{status}'" for status in OCCUPYING_STATUSES)


def overlapping_pairs() -> list[tuple[int, int]]:
    """Pairs of occupying bookings of one unit whose blocked spans overlap, straight from
    the tables (no ORM, no service code)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, b.id FROM bookings_booking a
            JOIN bookings_booking b
              ON a.unit_id = b.unit_id AND a.id < b.id
             AND a.blocked_from < b.blocked_until AND b.blocked_from < a.blocked_until
            WHERE a.status IN ({_OCCUPYING}) AND b.status IN ({_OCCUPYING})
            """
        )
        return [tuple(row) for row in cursor.fetchall()]


def peak_seats() -> dict[int, int]:
    """Per unit, the most seats occupying bookings hold at one instant (the peak of a set
    of half-open spans is reached at one of their starts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.unit_id, MAX(taken) FROM (
                SELECT a.id, a.unit_id, SUM(b.seats) AS taken FROM bookings_booking a
                JOIN bookings_booking b
                  ON b.unit_id = a.unit_id
                 AND b.blocked_from <= a.blocked_from AND a.blocked_from < b.blocked_until
                WHERE a.status IN ({_OCCUPYING}) AND b.status IN ({_OCCUPYING})
                GROUP BY a.id, a.unit_id
            ) a GROUP BY a.unit_id
            """
        )
        return {unit: int(peak) for unit, peak in cursor.fetchall()}


class CheckWindow:
    """Holds open the window between counting the seats taken and inserting the booking.

    Each booker, having counted, waits — `WINDOW` seconds, or with `together=n` until n
    bookers have all counted (deterministic: everyone decides on the same empty slot before
    anyone inserts). `most_inside` is how many bookers were ever in the window at once.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, together: int | None) -> None:
        self.most_inside = 0
        self._inside = 0
        self._lock = threading.Lock()
        self._all_counted = threading.Barrier(together, timeout=10) if together else None
        count = holds.conflicting_seats

        def count_then_wait(*args: Any, **kwargs: Any) -> int:
            taken = count(*args, **kwargs)
            with self._lock:
                self._inside += 1
                self.most_inside = max(self.most_inside, self._inside)
            try:
                if self._all_counted is not None:
                    self._all_counted.wait()
                else:
                    time.sleep(WINDOW)
            finally:
                with self._lock:
                    self._inside -= 1
            return taken

        monkeypatch.setattr(holds, "conflicting_seats", count_then_wait)


@pytest.fixture
def check_window(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CheckWindow]:
    return lambda together=None: CheckWindow(monkeypatch, together)


@pytest.fixture
def no_row_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The booking service without its lock on the capacity unit's row."""
    monkeypatch.setattr(holds, "lock_row", lambda queryset: None)


# --- the guarded service -------------------------------------------------------------------------


def test_16_bookers_one_seat_exactly_one_wins(shop: Shop) -> None:
    # Given a one-seat slot whose listing someone has already looked at
    clients = bookers(THREADS)

    # When 16 customers book it at the same moment
    outcomes = race(lambda i: outcome(hold(clients[i], shop.listing, tuesday(10))), threads=THREADS)

    # Then exactly one holds it; the others are told it is taken — never a 500
    assert tally(outcomes) == {(201, None): 1, (409, "slot_unavailable"): THREADS - 1}
    winner = next(o.booking_id for o in outcomes if o.status == 201)
    assert list(Booking.objects.values_list("pk", "status")) == [(winner, "held")]
    assert overlapping_pairs() == []


def test_3_seats_exactly_three_win(db: Any, now: datetime) -> None:
    shop = make_shop(capacity=3)
    clients = bookers(THREADS)

    outcomes = race(lambda i: outcome(hold(clients[i], shop.listing, tuesday(10))), threads=THREADS)

    assert tally(outcomes) == {(201, None): 3, (409, "slot_unavailable"): THREADS - 3}
    assert Booking.objects.filter(status="held").count() == 3
    assert peak_seats() == {shop.listing.capacity_unit.pk: 3}


def test_unequal_durations_on_a_shared_resource_never_overlap(shop: Shop) -> None:
    # Given a 60-minute and a 90-minute service sharing one bay
    long_job = ListingFactory(vendor=shop.vendor, title="Clutch", duration_minutes=90)
    bay = Resource.objects.create(vendor=shop.vendor, name="Bay 1", capacity=1)
    for listing in (shop.listing, long_job):
        ResourceAssignment.objects.create(listing=listing, resource=bay)
    unit = capacity_unit_for(listing=shop.listing, resource=bay)
    # three starts that pairwise overlap: 10:00–11:00, 09:30–11:00 and 10:30–12:00
    choices = [(shop.listing, tuesday(10)), (long_job, tuesday(9, 30)), (long_job, tuesday(10, 30))]
    clients = bookers(THREADS)

    outcomes = race(
        lambda i: outcome(hold(clients[i], *choices[i % 3])),
        threads=THREADS,
    )

    assert tally(outcomes) == {(201, None): 1, (409, "slot_unavailable"): THREADS - 1}
    assert Booking.objects.get().unit_id == unit.pk
    assert overlapping_pairs() == []


def test_a_reschedule_racing_new_bookings_for_the_same_slot(shop: Shop) -> None:
    # Given four accepted bookings (09:00, 11:00, 13:00, 15:00) whose customers all move
    # to 16:00 while four other customers book 16:00
    movers = []
    for hour in (9, 11, 13, 15):
        customer = UserFactory()
        booking = BookingFactory(
            listing=shop.listing, customer=customer, status="accepted", start=tuesday(hour)
        )
        movers.append((client_for(customer), booking))
    newcomers = bookers(4)
    target = tuesday(16)

    def act(i: int) -> Outcome:
        if i < 4:
            client, booking = movers[i]
            response = client.post(
                f"/bookings/{booking.pk}/reschedule", {"start": target.isoformat()}
            )
            return outcome(response)
        return outcome(hold(newcomers[i - 4], shop.listing, target))

    outcomes = race(act, threads=8)

    # Then exactly one of them has 16:00
    assert sum(o.status in (200, 201) for o in outcomes) == 1
    assert tally(outcomes)[(409, "slot_unavailable")] == 7
    at_target = Booking.objects.filter(start=target, status__in=OCCUPYING_STATUSES)
    assert at_target.count() == 1
    # the others kept their times
    moved = [b for _, b in movers if b.pk == at_target.get().pk]
    for _, booking in movers:
        booking_now = Booking.objects.get(pk=booking.pk)
        assert booking_now.status == "accepted"
        if booking not in moved:
            assert booking_now.start == booking.start
    assert overlapping_pairs() == []


def test_an_expired_hold_racing_8_bookers_and_the_sweeper(shop: Shop) -> None:
    # Given a hold that ran out a minute ago, not yet swept
    stale = BookingFactory(listing=shop.listing, hold_expires_at=NOW + timedelta(minutes=10))
    clock.advance(timedelta(minutes=11))
    clients = bookers(8)

    def act(i: int) -> Outcome:
        if i == 8:
            lifecycle.expire_stale_holds()
            return Outcome(0, "swept", None)
        return outcome(hold(clients[i], shop.listing, tuesday(10)))

    outcomes = race(act, threads=9)

    # Then exactly one booker gets the seat and the old hold ends expired, once
    assert tally(outcomes) == {(201, None): 1, (409, "slot_unavailable"): 7, (0, "swept"): 1}
    stale.refresh_from_db()
    assert stale.status == "expired"
    assert [e.action for e in audit_trail(stale)] == ["booking.expired"]
    assert Booking.objects.filter(status="held").count() == 1
    assert overlapping_pairs() == []


def test_a_booker_finding_a_stale_hold_the_sweeper_just_expired_still_books(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact interleaving: the booker has read the stale hold, the sweeping task
    expires and commits it, then the booker tries to expire it too."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite cannot interleave here: the booker's BEGIN IMMEDIATE transaction is the "
            "only writer until it ends, so the sweeper waits for it"
        )
    stale = BookingFactory(listing=shop.listing, hold_expires_at=NOW + timedelta(minutes=10))
    clock.advance(timedelta(minutes=11))
    client = bookers(1)[0]
    read_it, swept = threading.Event(), threading.Event()
    machine = holds.BOOKING_LIFECYCLE

    class SweptMeanwhile:
        def apply(self, *args: Any, **kwargs: Any) -> Any:
            read_it.set()
            assert swept.wait(10)
            return machine.apply(*args, **kwargs)

    monkeypatch.setattr(holds, "BOOKING_LIFECYCLE", SweptMeanwhile())

    def act(i: int) -> Outcome:
        if i == 1:
            assert read_it.wait(10)
            assert lifecycle.expire_stale_holds() == 1
            swept.set()
            return Outcome(0, "swept", None)
        return outcome(hold(client, shop.listing, tuesday(10)))

    outcomes = race(act, threads=2)

    assert outcomes[0].status == 201, outcomes
    stale.refresh_from_db()
    assert stale.status == "expired"
    assert overlapping_pairs() == []


# --- the guards removed ---------------------------------------------------------------------


def drop_constraint() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE bookings_booking DROP CONSTRAINT booking_no_overlap")


def restore_constraint() -> None:
    from importlib import import_module

    migration = import_module("agora.bookings.migrations.0002_no_overlap_constraint")
    # the double bookings this test made would violate it: take them out of its predicate
    Booking.objects.update(status="cancelled")
    with connection.cursor() as cursor:
        cursor.execute(migration.CONSTRAINT)


def test_without_the_lock_and_the_constraint_postgresql_double_books(
    shop: Shop, no_row_lock: None, check_window: Callable[..., CheckWindow], record_property: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite cannot double-book even unguarded: a transaction whose snapshot is stale "
            "is refused the write (SQLITE_BUSY_SNAPSHOT). What BEGIN IMMEDIATE buys there is "
            "shown by test_without_begin_immediate_sqlite_losers_crash_instead_of_queueing"
        )
    check_window(together=THREADS)
    clients = bookers(THREADS)
    drop_constraint()
    try:
        outcomes = race(
            lambda i: outcome(hold(clients[i], shop.listing, tuesday(10))), threads=THREADS
        )
        winners = sum(o.status == 201 for o in outcomes)
        record_property("winners_of_one_seat", winners)
        # Then the one seat is sold again and again: every winner overlaps every other
        assert winners >= 2, tally(outcomes)
        assert len(overlapping_pairs()) == winners * (winners - 1) // 2
        assert Booking.objects.filter(status="held", start=tuesday(10)).count() == winners
    finally:
        restore_constraint()


def test_with_only_the_exclusion_constraint_postgresql_never_double_books(
    shop: Shop,
    no_row_lock: None,
    check_window: Callable[..., CheckWindow],
    monkeypatch: pytest.MonkeyPatch,
    record_property: Any,
) -> None:
    """The lock removed, the constraint kept: every booker finds the seat free, and the
    schema refuses all inserts but one — as 409, not 500. (SQLite has no constraint: there
    BEGIN IMMEDIATE alone serialises the bookers, and the count refuses the losers.)"""
    postgresql = connection.vendor == "postgresql"
    # SQLite's bookers cannot all be in the window at once: they get the plain delay
    check_window(together=THREADS if postgresql else None)
    refused_by_schema = []
    refusal = holds.slot_unavailable

    def note_who_refused() -> Any:
        refused_by_schema.append(isinstance(sys.exc_info()[1], IntegrityError))
        return refusal()

    monkeypatch.setattr(holds, "slot_unavailable", note_who_refused)
    clients = bookers(THREADS)

    outcomes = race(lambda i: outcome(hold(clients[i], shop.listing, tuesday(10))), threads=THREADS)

    assert tally(outcomes) == {(201, None): 1, (409, "slot_unavailable"): THREADS - 1}
    assert overlapping_pairs() == []
    record_property("refused_by_the_constraint", sum(refused_by_schema))
    assert sum(refused_by_schema) == (THREADS - 1 if postgresql else 0)


@pytest.mark.parametrize(
    ("mode", "writer_lock"),
    [("IMMEDIATE", True), ("IMMEDIATE", False), ("DEFERRED", False)],
    ids=["IMMEDIATE+writer-lock", "IMMEDIATE", "DEFERRED"],
)
def test_without_begin_immediate_sqlite_losers_crash_instead_of_queueing(
    shop: Shop,
    no_row_lock: None,
    check_window: Callable[..., CheckWindow],
    monkeypatch: pytest.MonkeyPatch,
    record_property: Any,
    mode: str,
    writer_lock: bool,
) -> None:
    """SQLite's guard is the transaction mode. With the row lock and the busy-retry
    removed, IMMEDIATE still lets one booker at a time into the check-then-insert window and
    every loser gets a clean 409 — whether the writers queue on the backend's writer lock
    (the flock taken before BEGIN IMMEDIATE, agora.core.sqlite_backend) or, with that lock
    removed too, in SQLite's busy handler. DEFERRED takes no writer lock (it is only taken
    for IMMEDIATE transactions) and lets all of them in to read, and then every writer
    after the first fails with "database is locked" — 503 `unavailable`, where IMMEDIATE
    gives the clean 409."""
    if connection.vendor != "sqlite":
        pytest.skip("the transaction mode is SQLite's; PostgreSQL has the tests above")
    from agora.core.sqlite_backend.base import DatabaseWrapper

    monkeypatch.setattr(locking, "is_retryable", lambda error: False)
    if not writer_lock:
        monkeypatch.setattr(DatabaseWrapper, "_queues_writers", lambda self: False)
    # Under IMMEDIATE the bookers could never all be in the window at once: a barrier
    # waiting for them would hang, so they get the plain delay.
    window = check_window(together=THREADS if mode == "DEFERRED" else None)
    clients = bookers(THREADS)

    def use_mode() -> None:
        connection.transaction_mode = mode

    outcomes = race(
        lambda i: outcome(hold(clients[i], shop.listing, tuesday(10))),
        threads=THREADS,
        prepare=use_mode,
    )

    counts = tally(outcomes)
    record_property("outcomes", dict(counts))
    record_property("most_in_the_window_at_once", window.most_inside)
    assert overlapping_pairs() == []
    if mode == "IMMEDIATE":
        assert window.most_inside == 1
        assert counts == {(201, None): 1, (409, "slot_unavailable"): THREADS - 1}
    else:
        assert window.most_inside == THREADS
        assert counts == {(201, None): 1, (503, "unavailable"): THREADS - 1}
