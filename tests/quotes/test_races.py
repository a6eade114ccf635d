"""Accepting quotes under real concurrency, on both databases: accept racing accept and
accept racing expiry end with exactly one booking and one charge, or none of either —
never a booking of an expired quote, never two bookings of one request.

What protects it: every write about a request first locks the request's row
(`requests.locked_request`: SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
already makes each transaction the only writer), and acceptance takes that lock before it
charges the card. The guard-removed test shows the lock is what keeps a second charge from
ever reaching the gateway (the conditional UPDATEs alone would roll our rows back, but not
a charge a real provider had already made).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from agora.bookings.models import Booking
from agora.core import clock
from agora.payments import gateway as gateway_module
from agora.payments.models import Payment, SandboxCharge
from agora.quotes.models import Quote, QuoteRequest
from agora.quotes.services import offers, requests
from tests.quotes.helpers import NOW, accept, asked, make_market, offered

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

THREADS = 8


def race(work: Any, *, threads: int) -> list[Any]:
    """`work(i)` in `threads` threads released together once each is connected."""
    connected = threading.Barrier(threads, timeout=20)
    results: list[Any] = [None] * threads
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            connected.wait()
            results[index] = work(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not any(worker.is_alive() for worker in workers), "a racing thread hung"
    if errors:
        raise errors[0]
    return results


def outcome(response: Any) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, None if response.status_code == 200 else body.get("code")


@pytest.fixture
def world() -> Any:
    with clock.frozen(NOW):
        market = make_market()
        request = asked(market)
        quotes = [offered(market["near"], request), offered(market["mid"], request)]
        yield market, request, quotes


def test_accept_racing_accept_books_and_charges_once(world: Any) -> None:
    market, request, quotes = world

    results = race(
        lambda i: outcome(accept(market.as_customer, quotes[i % 2], key=f"race-{i}")),
        threads=THREADS,
    )

    assert Counter(results) == {(200, None): 1, (409, "invalid_transition"): THREADS - 1}
    assert Booking.objects.count() == 1
    assert SandboxCharge.objects.count() == 1
    assert Payment.objects.count() == 1
    request.refresh_from_db()
    statuses = sorted(Quote.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "declined"]
    assert request.status == "accepted"
    assert request.booking_id == Booking.objects.get().pk


def test_accept_racing_expiry_ends_one_way_or_the_other(world: Any) -> None:
    market, request, quotes = world
    quote = quotes[0]
    # The sweep runs as a timer firing after the quote's (and request's) end would see it;
    # the customer's clock still has the quote valid: the two genuinely disagree.
    late = max(quote.valid_until, request.expires_at) + timedelta(seconds=1)

    def work(index: int) -> Any:
        if index % 2:
            return (
                "sweep",
                requests.requests_expire_due(now=late),
                offers.quotes_expire_due(now=late),
            )
        return ("accept", *outcome(accept(market.as_customer, quote, key=f"race-{index}")))

    results = race(work, threads=THREADS)

    quote.refresh_from_db()
    request.refresh_from_db()
    accepted = [r for r in results if r[0] == "accept" and r[1] == 200]
    if quote.status == "accepted":
        assert len(accepted) == 1
        assert request.status == "accepted"
        assert Booking.objects.count() == SandboxCharge.objects.count() == 1
    else:
        assert quote.status == "expired"
        assert request.status == "expired"
        assert accepted == []
        assert Booking.objects.count() == SandboxCharge.objects.count() == 0
        refusals = {r[2] for r in results if r[0] == "accept"}
        assert refusals <= {"quote_expired", "invalid_transition"}


def _counting_authorizations(monkeypatch: pytest.MonkeyPatch, pause: float) -> list[int]:
    """Count the gateway's authorisations (the boundary where money would move) and keep
    each one open a moment, so that unguarded accepts overlap."""
    calls: list[int] = []
    original = gateway_module.SandboxGateway.authorize

    def authorize(self: Any, **kwargs: Any) -> Any:
        calls.append(1)
        time.sleep(pause)
        return original(self, **kwargs)

    monkeypatch.setattr(gateway_module.SandboxGateway, "authorize", authorize)
    return calls


def test_the_request_lock_keeps_a_second_charge_from_the_gateway(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    market, _, quotes = world
    calls = _counting_authorizations(monkeypatch, pause=0.05)

    race(lambda i: accept(market.as_customer, quotes[i % 2], key=f"g-{i}"), threads=4)

    assert len(calls) == 1
    assert SandboxCharge.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers whatever the code does"
)
def test_without_the_request_lock_the_gateway_is_asked_twice(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    market, _, quotes = world
    calls = _counting_authorizations(monkeypatch, pause=0.2)
    monkeypatch.setattr(
        requests,
        "lock_row",
        lambda queryset: QuoteRequest.objects.filter(pk__in=queryset.values("pk")).first(),
    )

    race(lambda i: accept(market.as_customer, quotes[i % 2], key=f"u-{i}"), threads=2)

    # Our rows still say one booking (the conditional UPDATEs rolled the loser back), but
    # the gateway was asked for the money twice.
    assert len(calls) == 2
    assert Booking.objects.count() == 1
